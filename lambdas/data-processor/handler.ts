// Kinesis → settlement (the read models are lambdas/read-models). The batch is settled as a whole (one ledger transaction) and in
// stream order; a record the ledger cannot settle is quarantined with its error (alarm:
// QuarantinedRecords; replay: docs/operations.md#quarantined-records) and the rest goes on, so one bad
// record never wedges a shard. A passing fault (database or DynamoDB unavailable) fails the batch from its
// first record: Lambda retries it, and everything it repeats is idempotent.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeRecord } from '@contracts/messages';
import { lambdaHandler } from '../shared/handler';
import { logger } from '../shared/powertools';
import { processorDeps } from './deps';
import { replayQuarantined } from './replay-quarantined';
import { processEventRecords, type ProcessorDeps, type ReceivedRecord } from './process-record';

const metrics = new Metrics({ namespace: 'Cirrus', serviceName: 'data-processor' });

export interface UndecodableRecord {
  key: string;
  raw: string;
  error: string;
}

export async function processKinesisBatch(
  event: KinesisStreamEvent,
  deps: ProcessorDeps & { quarantineUndecodable(r: UndecodableRecord): Promise<void> },
): Promise<KinesisStreamBatchResponse & { quarantined: number }> {
  if (event.Records.length === 0) return { batchItemFailures: [], quarantined: 0 };
  const first = event.Records[0].kinesis.sequenceNumber;
  try {
    const received: ReceivedRecord[] = [];
    let quarantined = 0;
    for (const item of event.Records) {
      const raw = Buffer.from(item.kinesis.data, 'base64').toString('utf8');
      const key = item.kinesis.sequenceNumber;
      try {
        const record = decodeRecord(Buffer.from(raw));
        if (!deps.markets.has(record.market))
          throw new Error(`event record for unknown market ${record.market}`);
        received.push({ key, record, raw });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await deps.quarantineUndecodable({ key, raw, error });
        logger.error('event record quarantined: not a record this processor can settle', {
          sequenceNumber: key,
          error,
        });
        quarantined++;
      }
    }
    const outcome = await processEventRecords(received, deps);
    for (const q of outcome.quarantined)
      logger.error('event record quarantined: the ledger refused it', {
        sequenceNumber: q.key,
        market: q.market,
        error: q.error,
      });
    quarantined += outcome.quarantined.length;
    return { batchItemFailures: [], quarantined };
  } catch (err) {
    logger.error('batch failed; Lambda retries it from its first record', {
      sequenceNumber: first,
      err: err instanceof Error ? err.message : String(err),
    });
    return { batchItemFailures: [{ itemIdentifier: first }], quarantined: 0 };
  }
}

/** Kinesis batches; or, invoked by an operator with `{"replayQuarantined": true}`, the quarantine replay. */
export async function handler(
  event: KinesisStreamEvent,
  context?: Context,
): Promise<KinesisStreamBatchResponse>;
export async function handler(event: { replayQuarantined: true }, context?: Context): Promise<ReplayResult>;
export async function handler(
  event: KinesisStreamEvent | { replayQuarantined: true },
  context?: Context,
): Promise<KinesisStreamBatchResponse | ReplayResult> {
  return handle(event, context);
}

const handle = lambdaHandler(async function processEvent(
  event: KinesisStreamEvent | { replayQuarantined: true },
): Promise<KinesisStreamBatchResponse | ReplayResult> {
  const deps = await processorDeps();
  if ('replayQuarantined' in event) {
    const result = await replayQuarantined(deps.ledger, deps);
    logger.info('quarantined records replayed', result);
    return result;
  }
  const { batchItemFailures, quarantined } = await processKinesisBatch(event, deps);
  if (quarantined > 0 && process.env.AWS_LAMBDA_FUNCTION_NAME) {
    metrics.addMetric('QuarantinedRecords', MetricUnit.Count, quarantined);
    metrics.publishStoredMetrics();
  }
  return { batchItemFailures };
});

type ReplayResult = Awaited<ReturnType<typeof replayQuarantined>>;
