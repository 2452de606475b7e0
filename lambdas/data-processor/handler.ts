// Kinesis → settlement + read models. Records are processed strictly in order; at the first failure the
// rest of the batch is reported failed (ReportBatchItemFailures with that sequence number), because a
// market's events must never be applied out of order (a close releasing funds before its trade settles).
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeRecord, type EventRecord } from '../../engine/service/messages';
import { logger } from '../shared/powertools';
import { processEventRecord, type ProcessorDeps } from './process-record';
import { processorDeps } from './deps';

export async function processKinesisBatch(
  event: KinesisStreamEvent,
  deps: ProcessorDeps,
): Promise<KinesisStreamBatchResponse> {
  const done: EventRecord[] = [];
  let failedAt: string | undefined;
  for (const item of event.Records) {
    try {
      const record = decodeRecord(Buffer.from(item.kinesis.data, 'base64'));
      await processEventRecord(record, deps);
      done.push(record);
    } catch (err) {
      logger.error('event record failed; retrying from it', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
      failedAt = item.kinesis.sequenceNumber;
      break;
    }
  }
  // Public market data for every record settled above, merged per market (see processEventRecord).
  try {
    if (done.length > 0) await deps.marketData.apply(done);
  } catch (err) {
    const first = event.Records[0].kinesis.sequenceNumber;
    logger.error('market data update failed; retrying the batch', {
      sequenceNumber: first,
      err: err instanceof Error ? err.message : String(err),
    });
    return { batchItemFailures: [{ itemIdentifier: first }] };
  }
  return { batchItemFailures: failedAt === undefined ? [] : [{ itemIdentifier: failedAt }] };
}

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
  processKinesisBatch(event, await processorDeps());
