// The data processor's batch contract: settled in order as one batch; an unsettleable or undecodable record
// is quarantined and the rest goes on; a passing fault retries the batch with nothing applied.
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import { processKinesisBatch, type UndecodableRecord } from '@lambdas/data-processor/handler';
import type { ProcessorDeps } from '@lambdas/data-processor/process-record';
import { MARKETS } from '@contracts/markets';
import { batch, record, trade } from '../support/kinesis-batch';

function fakeDeps(opts: { unsettleableTradeIds?: number[]; ledgerDown?: boolean } = {}) {
  const settled: number[] = [];
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
    quarantineUndecodable: async (r) => void quarantinedKeys.push(r.key),
  };
  return { deps, settled, quarantinedKeys };
}

describe('data processor batch handling', () => {
  const records = [record([trade(1, 1)]), record([trade(2, 2)]), record([trade(3, 3)])];

  it('settles every record in order and reports no failure', async () => {
    const { deps, settled } = fakeDeps();
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [],
      quarantined: 0,
    });
    expect(settled).toEqual([1, 2, 3]);
  });

  it('an unsettleable record is quarantined and the later records of the shard still settle', async () => {
    const { deps, settled } = fakeDeps({ unsettleableTradeIds: [2] });
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [],
      quarantined: 1,
    });
    expect(settled).toEqual([1, 3]);
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
    const { deps, settled } = fakeDeps({ ledgerDown: true });
    expect(await processKinesisBatch(batch(records), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
      quarantined: 0,
    });
    expect(settled).toEqual([]);
  });
});
