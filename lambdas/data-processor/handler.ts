// Kinesis → settlement + read models, with Powertools batch processing (partial batch responses).
// Records are processed strictly in order and, after the first failure, the rest of the batch is failed
// without being touched: a market's events must never be applied out of order (a close releasing funds
// before its trade settles). Lambda resumes the shard from the lowest failed sequence number.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { decodeRecord, type EventRecord } from '../../engine/service/messages';
import { logger } from '../shared/powertools';
import { processEventRecord, type ProcessorDeps } from './process-record';
import { processorDeps } from './deps';

class WaitsForEarlierRecord extends Error {
  constructor(sequenceNumber: string) {
    super(`record ${sequenceNumber} waits for an earlier record of the batch to succeed`);
  }
}

export async function processKinesisBatch(
  event: KinesisStreamEvent,
  deps: ProcessorDeps,
): Promise<KinesisStreamBatchResponse> {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const done: EventRecord[] = [];
  let failed = false;
  const recordHandler = async (item: KinesisStreamRecord): Promise<void> => {
    if (failed) throw new WaitsForEarlierRecord(item.kinesis.sequenceNumber);
    try {
      const record = decodeRecord(Buffer.from(item.kinesis.data, 'base64'));
      await processEventRecord(record, deps);
      done.push(record);
    } catch (err) {
      failed = true;
      logger.error('event record failed; retrying from it', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  };
  const response = await processPartialResponse(event, recordHandler, processor, {
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
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
  return response;
}

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
  processKinesisBatch(event, await processorDeps());
