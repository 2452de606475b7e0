// Order-id reuse: live and recently closed ids are refused (DUPLICATE_ORDER_ID), the oldest closed ids are
// forgotten once CLOSED_ID_MEMORY of them have closed, and every id at or below the largest forgotten one
// that is not live is refused too (STALE_ORDER_ID): ids come from one increasing sequence, so such an id
// is a redelivery or a very late first delivery, never a new order. All of it survives a snapshot/restore.
import { CLOSED_ID_MEMORY, MatchingEngine, type EngineSnapshot } from '@engine/core';
import type { Command, EngineEvent, MarketRules } from '@engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
};

const place = (orderId: number, side: 'BUY' | 'SELL' = 'BUY'): Command => ({
  kind: 'place',
  market: 'T',
  orderId,
  userId: 1,
  clientOrderId: `c${orderId}`,
  side,
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: side === 'BUY' ? 100 : 200,
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
const roundTrip = (engine: MatchingEngine) =>
  MatchingEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot);

// Id 1 rests (live, far below everything else); then ids 2, 4, 6, … are placed and cancelled, so the odd
// ids between them were never used. The 10 oldest closed ids (2 … 20) fall out of the memory: 20 is the
// watermark. Id 10^12 rests far above the others.
const CLOSED_COUNT = CLOSED_ID_MEMORY + 10;
const WATERMARK = 20;
const NEWEST_CLOSED = 2 * CLOSED_COUNT;
const BIG_LIVE = 10 ** 12;
function build(): MatchingEngine {
  const engine = new MatchingEngine([rules]);
  run(engine, place(1));
  for (let i = 1; i <= CLOSED_COUNT; i++) {
    run(engine, place(2 * i));
    run(engine, cancel(2 * i));
  }
  run(engine, place(BIG_LIVE, 'SELL'));
  return engine;
}

/** Places `orderId` and expects a rejection for `reason` that changed nothing but the market's seq. */
function expectRefused(engine: MatchingEngine, orderId: number, reason: string): void {
  const before = engine.snapshot();
  const depthBefore = engine.depth('T', 1_000);
  const liveBefore = engine.getOrder(orderId);
  const events = run(engine, place(orderId));
  expect(events).toEqual([
    {
      type: 'rejected',
      market: 'T',
      seq: before.markets[0].seq + 1,
      ts: 1,
      command: 'place',
      orderId,
      userId: 1,
      reason,
    },
  ]);
  const after = engine.snapshot();
  expect(after.markets[0].seq).toBe(before.markets[0].seq + 1);
  expect({ ...after.markets[0], seq: 0 }).toEqual({ ...before.markets[0], seq: 0 });
  expect(engine.depth('T', 1_000)).toEqual(depthBefore);
  expect(engine.getOrder(orderId)).toEqual(liveBefore); // a live order keeps its id and state
}

describe('order-id memory', () => {
  // Built by the first test that needs it rather than while the file loads: mutation testing
  // (test/mutation/) counts code run at load time as covered by every test of every file.
  let built: { engine: MatchingEngine; snapshotJson: string; hashAtSnapshot: string } | undefined;
  const fixture = () => {
    if (!built) {
      const engine = build();
      built = { engine, snapshotJson: JSON.stringify(engine.snapshot()), hashAtSnapshot: engine.stateHash() };
    }
    return built;
  };
  const restored = () => MatchingEngine.restore(JSON.parse(fixture().snapshotJson) as EngineSnapshot);

  it('refuses live and remembered ids as duplicates, even a live id below the watermark', () => {
    for (const e of [fixture().engine, restored()]) {
      expectRefused(e, BIG_LIVE, 'DUPLICATE_ORDER_ID'); // live
      expectRefused(e, 1, 'DUPLICATE_ORDER_ID'); // live, below the watermark
      expectRefused(e, NEWEST_CLOSED, 'DUPLICATE_ORDER_ID'); // newest closed
      expectRefused(e, WATERMARK + 2, 'DUPLICATE_ORDER_ID'); // oldest still remembered
    }
  });

  it('refuses a forgotten id as stale and changes nothing', () => {
    const { engine } = fixture();
    expect(engine.snapshot().markets[0].forgottenMaxOrderId).toBe(WATERMARK);
    expectRefused(engine, WATERMARK, 'STALE_ORDER_ID'); // the newest forgotten
    expectRefused(engine, 2, 'STALE_ORDER_ID'); // the oldest forgotten
  });

  it('refuses a never-used id at or below the watermark as stale', () => {
    const { engine } = fixture();
    expectRefused(engine, 3, 'STALE_ORDER_ID');
    expectRefused(engine, WATERMARK - 1, 'STALE_ORDER_ID');
  });

  it('refuses the same stale ids after snapshot → JSON → restore, with the same hash', () => {
    const e = restored();
    expect(e.stateHash()).toBe(fixture().hashAtSnapshot);
    expect(JSON.stringify(e.snapshot())).toBe(fixture().snapshotJson);
    expectRefused(e, WATERMARK, 'STALE_ORDER_ID');
    expectRefused(e, 2, 'STALE_ORDER_ID');
    expectRefused(e, 3, 'STALE_ORDER_ID');
    expectRefused(e, WATERMARK - 1, 'STALE_ORDER_ID');
  });

  it('places new ids above the watermark normally, before and after restore', () => {
    const check = (e: MatchingEngine) => {
      // Never used, between the watermark and the largest known id: the slower path, but free.
      expect(outcome(run(e, place(WATERMARK + 1)))).toBe('accepted');
      expect(outcome(run(e, place(NEWEST_CLOSED - 1)))).toBe('accepted');
      expect(outcome(run(e, place(NEWEST_CLOSED + 1)))).toBe('accepted');
      expect(outcome(run(e, place(BIG_LIVE + 1, 'SELL')))).toBe('accepted'); // above everything
      expect(e.hasOrder(WATERMARK + 1) && e.hasOrder(NEWEST_CLOSED - 1) && e.hasOrder(BIG_LIVE + 1)).toBe(
        true,
      );
    };
    const original = build();
    const copy = roundTrip(original);
    check(original);
    check(copy);
    expect(copy.stateHash()).toBe(original.stateHash());
  });

  it('keeps refusing after restore when the watermark is above every remembered and live id', () => {
    // 1 … M rest; M + 1 closes first; then 1 … M close, which pushes M + 1 out: the watermark is larger
    // than every id the snapshot still lists, so the restored engine must not treat M + 1 as new.
    const M = CLOSED_ID_MEMORY;
    const e = new MatchingEngine([rules]);
    for (let id = 1; id <= M; id++) run(e, place(id));
    run(e, place(M + 1));
    run(e, cancel(M + 1));
    for (let id = 1; id <= M; id++) run(e, cancel(id));
    const snap = e.snapshot().markets[0];
    expect(snap.forgottenMaxOrderId).toBe(M + 1);
    expect(Math.max(...snap.closedOrderIds, ...snap.bids.map((o) => o[0]))).toBe(M);
    const copy = roundTrip(e);
    expectRefused(e, M + 1, 'STALE_ORDER_ID');
    expectRefused(copy, M + 1, 'STALE_ORDER_ID');
    expect(copy.stateHash()).toBe(e.stateHash());
    expect(outcome(run(copy, place(M + 2)))).toBe('accepted');
  });

  it('writes the watermark only once an id was forgotten; an older snapshot without it restores with 0', () => {
    const young = new MatchingEngine([rules]);
    run(young, place(5));
    run(young, cancel(5));
    expect('forgottenMaxOrderId' in young.snapshot().markets[0]).toBe(false);

    const old = JSON.parse(fixture().snapshotJson) as EngineSnapshot;
    delete old.markets[0].forgottenMaxOrderId;
    const e = MatchingEngine.restore(old);
    expect(e.stateHash()).not.toBe(restored().stateHash());
    // Nothing forgotten as far as that snapshot can tell: the watermark starts again at the next eviction.
    expect(outcome(run(e, place(3)))).toBe('accepted');
    expect(outcome(run(e, cancel(3)))).toBe('closed'); // pushes the oldest remembered id (22) out
    expectRefused(e, WATERMARK + 2, 'STALE_ORDER_ID');
    expectRefused(e, WATERMARK + 1, 'STALE_ORDER_ID');
  });

  it('a smaller memory (engine option) forgets sooner and restores with the same option', () => {
    const e = new MatchingEngine([rules], { closedIdMemory: 3 });
    for (const id of [10, 11, 12, 13]) {
      run(e, place(id));
      run(e, cancel(id));
    }
    expect(e.snapshot().markets[0]).toMatchObject({ closedOrderIds: [11, 12, 13], forgottenMaxOrderId: 10 });
    const copy = MatchingEngine.restore(JSON.parse(JSON.stringify(e.snapshot())) as EngineSnapshot, {
      closedIdMemory: 3,
    });
    for (const x of [e, copy]) {
      expectRefused(x, 10, 'STALE_ORDER_ID');
      expectRefused(x, 1, 'STALE_ORDER_ID');
      expectRefused(x, 11, 'DUPLICATE_ORDER_ID');
    }
    expect(copy.stateHash()).toBe(e.stateHash());
  });
});
