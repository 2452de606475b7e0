// The read-model projector: fills and the closed orders' history written once per batch, public market data
// for every record, an order's final state from its close even when settlement has not reached it, and a
// failed write retrying the batch.
import type { ClosedEvent, MarketSpec } from '@engine/core/types';
import { projectKinesisBatch } from '@lambdas/read-models/handler';
import type { ReadModelDeps } from '@lambdas/read-models/project';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import type { UserTradeRecord } from '@lambdas/shared/stores/user-trades';
import { MARKETS } from '@contracts/markets';
import { batch, record, trade } from '../support/kinesis-batch';
import { orderRecord } from '../support/order-record';

const row = (orderId: number, lastSeq: number): OrderRecord =>
  orderRecord({ orderId, clientOrderId: `c${orderId}`, workingTime: 1, isWorking: true, lastSeq });

const closed = (seq: number, orderId: number): ClosedEvent => ({
  type: 'closed',
  market: 'BTCUSDT',
  seq,
  ts: 2_000,
  orderId,
  userId: 7,
  reason: 'FILLED',
  executedQty: 10,
  cumQuote: 30_000_000,
});

function fakeDeps(rows: OrderRecord[], failHistory = false) {
  const written = { fills: [] as UserTradeRecord[], history: [] as OrderRecord[], market: 0 };
  const deps: ReadModelDeps = {
    markets: new Map<string, MarketSpec>(MARKETS.map((m) => [m.symbol, m])),
    orderRows: async (ids) => rows.filter((r) => ids.includes(r.orderId)),
    orderHistory: {
      putAll: async (orders) => {
        if (failHistory) throw new Error('DynamoDB unavailable (injected)');
        written.history.push(...orders);
      },
    },
    userTrades: { putAll: async (t) => void written.fills.push(...t) },
    marketData: { apply: async (records) => void (written.market += records.length) },
    userTradesOf: (_m, t) => [{ tradeId: t.tradeId } as UserTradeRecord],
  };
  return { deps, written };
}

describe('read-model projector', () => {
  it('writes fills, the closed orders once each, and market data for every record', async () => {
    const { deps, written } = fakeDeps([row(2, 3)]);
    const event = batch([record([trade(1, 1)]), record([trade(2, 2), closed(3, 2)])]);
    expect(await projectKinesisBatch(event, deps)).toEqual({ batchItemFailures: [] });
    expect(written.fills.map((f) => f.tradeId)).toEqual([1, 2]);
    expect(written.history.map((o) => [o.orderId, o.status])).toEqual([[2, 'NEW']]); // settled row wins (seq 3)
    expect(written.market).toBe(2);
  });

  it("takes a closed order's final state from its close when settlement is behind", async () => {
    const { deps, written } = fakeDeps([row(2, 1)]);
    await projectKinesisBatch(batch([record([closed(5, 2)])]), deps);
    expect(written.history).toEqual([
      expect.objectContaining({
        orderId: 2,
        status: 'FILLED',
        executedLots: 10,
        cumQuote: 30_000_000,
        lastSeq: 5,
      }),
    ]);
  });

  it('a failed write retries the batch from its first record', async () => {
    const { deps } = fakeDeps([row(2, 1)], true);
    expect(await projectKinesisBatch(batch([record([trade(1, 1)]), record([closed(5, 2)])]), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
  });
});
