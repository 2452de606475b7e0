// Kinesis → settlement + read models. Records are processed strictly in order; at the first failure the
// rest of the batch is reported failed (ReportBatchItemFailures with that sequence number), because a
// market's events must never be applied out of order (a close releasing funds before its trade settles).
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeRecord } from '../../engine/service/messages';
import { logger } from '../shared/powertools';
import { processEventRecord, type ProcessorDeps } from './process-record';
import { processorDeps } from './deps';

export async function processKinesisBatch(
  event: KinesisStreamEvent,
  deps: ProcessorDeps,
): Promise<KinesisStreamBatchResponse> {
  for (const item of event.Records) {
    try {
      const record = decodeRecord(Buffer.from(item.kinesis.data, 'base64'));
      await processEventRecord(record, deps);
    } catch (err) {
      logger.error('event record failed; retrying from it', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
      return { batchItemFailures: [{ itemIdentifier: item.kinesis.sequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
}

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
  processKinesisBatch(event, await processorDeps());
