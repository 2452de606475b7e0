// Kinesis → DynamoDB read models (see project.ts). A batch that fails (DynamoDB or the database unavailable)
// is retried from its first record; a record that is not a Cirrus event record is skipped with an error log
// (settlement quarantines it on its side).
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { logger } from '../shared/powertools';
import { decodeEventRecords } from '../shared/stream-records';
import { readModelDeps } from './deps';
import { projectReadModels, type ReadModelDeps } from './project';
import { lambdaHandler } from '../shared/handler';

export async function projectKinesisBatch(
  event: KinesisStreamEvent,
  deps: ReadModelDeps,
): Promise<KinesisStreamBatchResponse> {
  if (event.Records.length === 0) return { batchItemFailures: [] };
  const records = decodeEventRecords(event);
  try {
    await projectReadModels(records, deps);
    return { batchItemFailures: [] };
  } catch (err) {
    const first = event.Records[0].kinesis.sequenceNumber;
    logger.error('read models not written; Lambda retries the batch', {
      sequenceNumber: first,
      err: err instanceof Error ? err.message : String(err),
    });
    return { batchItemFailures: [{ itemIdentifier: first }] };
  }
}

const handle = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
  projectKinesisBatch(event, await readModelDeps());

export const handler = lambdaHandler(handle);
