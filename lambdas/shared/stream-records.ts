// The engine's event records of a Kinesis batch, as every stream consumer reads them: a record that is not a
// Cirrus event record is logged and skipped (it can never be settled or shown, and must not stop the shard).
import type { KinesisStreamEvent } from 'aws-lambda';
import { decodeRecord, type EventRecord } from '../../contracts/messages';
import { logger } from './powertools';

export function decodeEventRecords(event: KinesisStreamEvent): EventRecord[] {
  const records: EventRecord[] = [];
  for (const item of event.Records) {
    try {
      records.push(decodeRecord(Buffer.from(item.kinesis.data, 'base64')));
    } catch (err) {
      logger.error('not a Cirrus event record; skipped', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return records;
}
