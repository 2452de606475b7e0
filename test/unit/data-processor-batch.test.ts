// The data processor's batch contract: settled in order as one batch; an unsettleable or undecodable record
// is quarantined and the rest goes on; a passing fault retries the batch; market data covers what settled.
import type { KinesisStreamEvent } from 'aws-lambda';
import type { EngineEvent, MarketSpec, TradeEvent } from '../../engine/core/types';
import { encodeRecord, type EventRecord } from '../../engine/service/messages';
import { processKinesisBatch, type UndecodableRecord } from '../../lambdas/data-processor/handler';
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

function fakeDeps(
  opts: { unsettleableTradeIds?: number[]; ledgerDown?: boolean; marketDataFails?: boolean } = {},
) {
  const settled: number[] = [];
  const marketData: EventRecord[][] = [];
  const quarantinedKeys: string[] = [];
  const deps: ProcessorDeps & { quarantineUndecodable(r: UndecodableRecord): Promise<void> } = {
    markets: new Map<string, MarketSpec>(MARKETS.map((m) => [m.symbol, m])),
    settlement: {
      // Models the ledger's contract: records in order, an unsettleable one quarantined alone, a passing
      // fault failing the whole batch with nothing applied.
      settleRecords: async (items) => {
        if (opts.ledgerDown) throw new Error('connection terminated (injected)');
        const quarantined = [];
        for (const item of items) {
          const trades = item.events.filter((e): e is TradeEvent => e.type === 'trade');
          if (trades.some((t) => opts.unsettleableTradeIds?.includes(t.tradeId))) {
            quarantined.push({
              key: item.key,
              market: item.market.symbol,
              error: 'less locked than the trade needs',
            });
            continue;
          }
          settled.push(...trades.map((t) => t.tradeId));
        }
        return { orders: [], quarantined };
      },
    },
    orderHistory: { putAll: async () => undefined },
    userTrades: { putAll: async () => undefined },
    marketData: {
      apply: async (records) => {
        if (opts.marketDataFails) throw new Error('market data store down');
        marketData.push(records);
      },
    },
    userTradesOf: () => [],
    quarantineUndecodable: async (r) => void quarantinedKeys.push(r.key),
  };
  return { deps, settled, marketData, quarantinedKeys };
}

describe('data processor batch handling', () => {
  const records = [record([trade(1, 1)]), record([trade(2, 2)]), record([trade(3, 3)])];

  it('settles every record in order and reports no failure', async () => {
    const { deps, settled, marketData } = fakeDeps();
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [],
      quarantined: 0,
    });
    expect(settled).toEqual([1, 2, 3]);
    expect(marketData).toEqual([records]);
  });

  it('an unsettleable record is quarantined and the later records of the shard still settle', async () => {
    const { deps, settled, marketData } = fakeDeps({ unsettleableTradeIds: [2] });
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [],
      quarantined: 1,
    });
    expect(settled).toEqual([1, 3]);
    // Public market data leaves the quarantined record out.
    expect(marketData).toEqual([[records[0], records[2]]]);
  });

  it('a record that is not a Cirrus event record is quarantined, not retried forever (the poison path)', async () => {
    const { deps, settled, quarantinedKeys } = fakeDeps();
    const event = batch(records);
    event.Records[0].kinesis.data = Buffer.from('{"not":"ours"}').toString('base64');
    expect(await processKinesisBatch(event, deps)).toEqual({ batchItemFailures: [], quarantined: 1 });
    expect(quarantinedKeys).toEqual(['1']);
    expect(settled).toEqual([2, 3]);
  });

  it('a passing ledger fault fails the batch from its first record, with nothing written', async () => {
    const { deps, marketData } = fakeDeps({ ledgerDown: true });
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
      quarantined: 0,
    });
    expect(marketData).toEqual([]);
  });

  it('a market-data failure retries the whole batch (settlement is idempotent)', async () => {
    const { deps } = fakeDeps({ marketDataFails: true });
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
      quarantined: 0,
    });
  });
});
