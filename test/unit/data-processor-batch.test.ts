// The data processor's batch contract: strictly in order, nothing after the first failed record is
// touched, the failures tell Lambda to resume from that record, and market data covers only what settled.
import type { KinesisStreamEvent } from 'aws-lambda';
import type { EngineEvent, MarketSpec, TradeEvent } from '../../engine/core/types';
import { encodeRecord, type EventRecord } from '../../engine/service/messages';
import { processKinesisBatch } from '../../lambdas/data-processor/handler';
import type { ProcessorDeps } from '../../lambdas/data-processor/process-record';
import { MARKETS } from '../../lib/markets';

const trade = (seq: number, tradeId: number): TradeEvent => ({
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

const record = (events: EngineEvent[]): EventRecord => ({ v: 1, market: 'BTCUSDT', commands: [], events });

function batch(records: EventRecord[]): KinesisStreamEvent {
  return {
    Records: records.map((r, i) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${i + 1}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/engine-events',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.market,
        sequenceNumber: String(i + 1),
        data: Buffer.from(encodeRecord(r)).toString('base64'),
        approximateArrivalTimestamp: 0,
      },
    })),
  };
}

function fakeDeps(failTradeIds: number[], marketDataFails = false) {
  const settled: number[] = [];
  const marketData: EventRecord[][] = [];
  const deps: ProcessorDeps = {
    markets: new Map<string, MarketSpec>(MARKETS.map((m) => [m.symbol, m])),
    ledger: {
      settleTrade: async (_m, t) => {
        if (failTradeIds.includes(t.tradeId)) throw new Error(`ledger down for trade ${t.tradeId}`);
        settled.push(t.tradeId);
      },
      releaseOrderLock: async () => undefined,
    },
    orders: { applyProgress: async () => undefined },
    userTrades: { putAll: async () => undefined },
    marketData: {
      apply: async (records) => {
        if (marketDataFails) throw new Error('market data store down');
        marketData.push(records);
      },
    },
    userTradesOf: () => [],
  };
  return { deps, settled, marketData };
}

describe('data processor batch handling', () => {
  const records = [record([trade(1, 1)]), record([trade(2, 2)]), record([trade(3, 3)])];

  it('processes every record in order and reports no failure', async () => {
    const { deps, settled, marketData } = fakeDeps([]);
    expect(await processKinesisBatch(batch(records), deps)).toEqual({ batchItemFailures: [] });
    expect(settled).toEqual([1, 2, 3]);
    expect(marketData).toEqual([records]);
  });

  it('stops at the first failure: later records untouched, Lambda resumes from the failed one', async () => {
    const { deps, settled, marketData } = fakeDeps([2]);
    const response = await processKinesisBatch(batch(records), deps);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['2', '3']);
    expect(settled).toEqual([1]); // trade 3 was never settled before trade 2
    expect(marketData).toEqual([[records[0]]]);
  });

  it('a record that is not a Cirrus event record fails like any other (the poison path)', async () => {
    const { deps, settled } = fakeDeps([]);
    const event = batch(records);
    event.Records[0].kinesis.data = Buffer.from('{"not":"ours"}').toString('base64');
    const response = await processKinesisBatch(event, deps);
    expect(response.batchItemFailures).toHaveLength(3);
    expect(settled).toEqual([]);
  });

  it('a market-data failure retries the whole batch (settlement is idempotent)', async () => {
    const { deps } = fakeDeps([], true);
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
  });
});
