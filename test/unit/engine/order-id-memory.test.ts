// Order-id reuse: live and recently closed ids are refused, the oldest closed ids are forgotten once
// CLOSED_ID_MEMORY of them have closed, and all of it survives a snapshot/restore.
import { CLOSED_ID_MEMORY, MatchingEngine } from '../../../engine/core';
import type { Command, EngineEvent, MarketRules } from '../../../engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
};

const place = (orderId: number): Command => ({
  kind: 'place',
  market: 'T',
  orderId,
  userId: 1,
  clientOrderId: `c${orderId}`,
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: 100,
  quantity: 1,
  ts: 1,
});
const cancel = (orderId: number): Command => ({ kind: 'cancel', market: 'T', orderId, userId: 1, ts: 1 });

function run(engine: MatchingEngine, cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}
const outcome = (events: EngineEvent[]) =>
  events[0].type === 'rejected' ? events[0].reason : events[0].type;

describe('order-id memory', () => {
  // Ids 2, 4, 6, …: the odd ids below the largest one were never used.
  const closedCount = CLOSED_ID_MEMORY + 10;
  const engine = new MatchingEngine([rules]);
  for (let i = 1; i <= closedCount; i++) {
    run(engine, place(2 * i));
    run(engine, cancel(2 * i));
  }
  run(engine, place(10 ** 12)); // live, far above the others

  it('refuses live and recently closed ids, accepts never-used and forgotten ones', () => {
    const check = (e: MatchingEngine) => {
      expect(outcome(run(e, place(10 ** 12)))).toBe('DUPLICATE_ORDER_ID'); // live
      expect(outcome(run(e, place(2 * closedCount)))).toBe('DUPLICATE_ORDER_ID'); // newest closed
      expect(outcome(run(e, place(2 * 11)))).toBe('DUPLICATE_ORDER_ID'); // oldest still remembered
      expect(outcome(run(e, place(2 * 10)))).toBe('accepted'); // forgotten: the 10 oldest fell out
      expect(outcome(run(e, place(2 * 1)))).toBe('accepted');
      expect(outcome(run(e, place(3)))).toBe('accepted'); // never used, below the largest id
    };
    const restored = MatchingEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())));
    expect(restored.stateHash()).toBe(engine.stateHash());
    check(engine);
    check(restored);
    expect(restored.stateHash()).toBe(engine.stateHash());
  });
});
