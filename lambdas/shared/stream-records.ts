// The records of a Kinesis batch, as every stream consumer reads them: a record that is not a Cirrus record
// of the stream's kind (an engine event record, a wallet balance event) is logged and skipped (it can never be
// settled or shown, and must not stop the shard).
import type { KinesisStreamEvent } from 'aws-lambda';
import { decodeRecord, type EventRecord } from '@contracts/messages';
import { WALLET_EVENT_STREAM } from '@contracts/resources';
import { decodeBalanceEvent, type BalanceEvent } from '@contracts/wallet-events';
import { logger } from './powertools';

function decodeEach<T>(event: KinesisStreamEvent, decode: (data: Uint8Array) => T, what: string): T[] {
  const out: T[] = [];
  for (const item of event.Records) {
    try {
      out.push(decode(Buffer.from(item.kinesis.data, 'base64')));
    } catch (err) {
      logger.error(`not a Cirrus ${what}; skipped`, {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return out;
}

export const decodeEventRecords = (event: KinesisStreamEvent): EventRecord[] =>
  decodeEach(event, decodeRecord, 'event record');

/** The wallet-event stream's records (contracts/wallet-events.ts). */
export const decodeBalanceEvents = (event: KinesisStreamEvent): BalanceEvent[] =>
  decodeEach(event, decodeBalanceEvent, 'balance event');

/** A batch of the wallet-event stream (the functions fed by both streams tell them apart by the source ARN). */
export const isWalletEventBatch = (event: KinesisStreamEvent): boolean =>
  event.Records[0]?.eventSourceARN?.endsWith(WALLET_EVENT_STREAM.name) ?? false;
