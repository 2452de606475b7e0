// Kinesis batches of engine event records (and of wallet events) as Lambda delivers them, for the stream
// consumers' unit tests.
import type { KinesisStreamEvent } from 'aws-lambda';
import type { EngineEvent, TradeEvent } from '@engine/core/types';
import { encodeRecord, type EventRecord } from '@contracts/messages';
import { balanceEventPartitionKey, encodeBalanceEvent, type BalanceEvent } from '@contracts/wallet-events';

export const trade = (seq: number, tradeId: number): TradeEvent => ({
  type: 'trade',
  market: 'BTCUSDT',
  seq,
  ts: 1_000,
  tradeId,
  price: 3_000_000,
  quantity: 10,
  makerOrderId: 1,
  makerUserId: 1,
  takerOrderId: 2,
  takerUserId: 2,
  takerSide: 'BUY',
  makerExecutedQty: 10,
  takerExecutedQty: 10,
  makerCumQuote: 30_000_000,
  takerCumQuote: 30_000_000,
});

export const record = (events: EngineEvent[]): EventRecord => ({
  v: 1,
  market: 'BTCUSDT',
  commands: [],
  events,
});

/** A Kinesis batch of `records`, their sequence numbers from `first` on (with `prefix` before each). */
export function batch(records: EventRecord[], first = 1, prefix = ''): KinesisStreamEvent {
  return {
    Records: records.map((r, i) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${first + i}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/engine-events',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.market,
        sequenceNumber: `${prefix}${first + i}`,
        data: Buffer.from(encodeRecord(r)).toString('base64'),
        approximateArrivalTimestamp: 0,
      },
    })),
  };
}

/** A batch of the wallet-event stream (balance events), as its event source mapping delivers it. */
export function walletBatch(events: BalanceEvent[]): KinesisStreamEvent {
  return {
    Records: events.map((e, i) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${i + 1}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/cirrus-dev-wallet-events',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: balanceEventPartitionKey(e.userId),
        sequenceNumber: String(i + 1),
        data: Buffer.from(encodeBalanceEvent(e)).toString('base64'),
        approximateArrivalTimestamp: 0,
      },
    })),
  };
}
