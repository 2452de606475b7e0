// A cancel that overtakes its order's place (the place's send failed and the outbox relay delivers it
// later, or it waits in a DLQ): the engine answers the cancel as before (rejected, UNKNOWN_ORDER) but
// remembers the never-seen id as closed (a tombstone), so the late place is refused as a duplicate and never
// runs; its refusal is what releases the order's funds. Only a never-seen id is tombstoned: not another
// user's live order, not an id already remembered or at/below the forgotten-id watermark, not by an amend.
import { MatchingEngine, type EngineSnapshot } from '@engine/core';
import type { Command, EngineEvent, MarketRules, PlaceCommand } from '@engine/core/types';

const rules = (symbol: string): MarketRules => ({
  symbol,
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
});

const OWNER = 7;
const OTHER = 8;

const place = (
  orderId: number,
  side: 'BUY' | 'SELL' = 'BUY',
  userId = OWNER,
  market = 'T',
): PlaceCommand => ({
  kind: 'place',
  market,
  orderId,
  userId,
  clientOrderId: `c${orderId}`,
  side,
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: side === 'BUY' ? 100 : 200,
  quantity: 5,
  ts: 2,
});
const cancel = (orderId: number, userId = OWNER, market = 'T'): Command => ({
  kind: 'cancel',
  market,
  orderId,
  userId,
  ts: 3,
});
const amend = (orderId: number, userId = OWNER): Command => ({
  kind: 'amend',
  market: 'T',
  orderId,
  userId,
  newQuantity: 2,
  ts: 4,
});

function run(engine: MatchingEngine, cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}
const roundTrip = (engine: MatchingEngine, closedIdMemory?: number) =>
  MatchingEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot, {
    closedIdMemory,
  });
const market = (engine: MatchingEngine, symbol = 'T') =>
  engine.snapshot().markets.find((m) => m.rules.symbol === symbol) as EngineSnapshot['markets'][number];
/** A market's snapshot without its seq: what a rejection must leave unchanged. */
const state = (engine: MatchingEngine, symbol = 'T') => ({ ...market(engine, symbol), seq: 0 });
const rejected = (
  seq: number,
  command: Command['kind'],
  orderId: number,
  userId: number,
  reason: string,
) => ({
  type: 'rejected',
  market: 'T',
  seq,
  ts: command === 'place' ? 2 : command === 'cancel' ? 3 : 4,
  command,
  orderId,
  userId,
  reason,
});

/** A market with some depth: 1 (BUY) and 2 (SELL) rest, 3 was placed and cancelled (remembered). */
function build(closedIdMemory?: number): MatchingEngine {
  const engine = new MatchingEngine([rules('T'), rules('U')], { closedIdMemory });
  run(engine, place(1, 'BUY'));
  run(engine, place(2, 'SELL'));
  run(engine, place(3, 'BUY'));
  run(engine, cancel(3));
  return engine;
}

/** The late place of `orderId` is refused as a duplicate and changes nothing but the seq. */
function expectLatePlaceRefused(engine: MatchingEngine, orderId: number): void {
  const before = state(engine);
  const depth = engine.depth('T', 100);
  const seq = engine.lastSeq('T');
  expect(run(engine, place(orderId, 'SELL'))).toEqual([
    rejected(seq + 1, 'place', orderId, OWNER, 'DUPLICATE_ORDER_ID'),
  ]);
  expect(state(engine)).toEqual(before);
  expect(engine.depth('T', 100)).toEqual(depth);
  expect(engine.hasOrder(orderId)).toBe(false);
}

describe('a cancel that arrives before its place', () => {
  it('is rejected exactly as before (UNKNOWN_ORDER, no depth event) and tombstones the id', () => {
    const engine = build();
    const before = state(engine);
    const seq = engine.lastSeq('T');
    expect(run(engine, cancel(10))).toEqual([rejected(seq + 1, 'cancel', 10, OWNER, 'UNKNOWN_ORDER')]);
    // The one change: the id is remembered as closed, after the ids that really closed.
    expect(state(engine)).toEqual({ ...before, closedOrderIds: [...before.closedOrderIds, 10] });
  });

  it('makes the late place a DUPLICATE_ORDER_ID refusal: no accepted event, no trade, book unchanged', () => {
    const engine = build();
    run(engine, cancel(10));
    // A SELL at 200 would rest; the same id as a BUY at 200 would even trade with order 2.
    expectLatePlaceRefused(engine, 10);
    const seq = engine.lastSeq('T');
    expect(run(engine, { ...place(10, 'BUY'), price: 200 })).toEqual([
      rejected(seq + 1, 'place', 10, OWNER, 'DUPLICATE_ORDER_ID'),
    ]);
    expect(engine.getOrder(2)).toMatchObject({ executed: 0, resting: true });
  });

  it('keeps refusing the late place after snapshot → JSON → restore, with the same hash', () => {
    const engine = build();
    const hashWithout = engine.stateHash();
    run(engine, cancel(10));
    expect(engine.stateHash()).not.toBe(hashWithout); // the tombstone is state
    const copy = roundTrip(engine);
    expect(copy.stateHash()).toBe(engine.stateHash());
    expect(market(copy).closedOrderIds).toContain(10);
    expectLatePlaceRefused(copy, 10);
    expectLatePlaceRefused(engine, 10);
    expect(copy.stateHash()).toBe(engine.stateHash());
  });

  it('leaves new ids free, below and above the tombstone (the bound of known ids moves up with it)', () => {
    const engine = build();
    run(engine, cancel(1_000_000));
    for (const e of [engine, roundTrip(engine)]) {
      expect(run(e, place(11))[0].type).toBe('accepted');
      expect(run(e, place(1_000_001))[0].type).toBe('accepted');
      expectLatePlaceRefused(e, 1_000_000);
    }
  });

  it('a second cancel of the tombstoned id changes nothing (it is already remembered)', () => {
    const engine = build();
    run(engine, cancel(10));
    const before = state(engine);
    const seq = engine.lastSeq('T');
    expect(run(engine, cancel(10))).toEqual([rejected(seq + 1, 'cancel', 10, OWNER, 'UNKNOWN_ORDER')]);
    expect(state(engine)).toEqual(before);
  });

  it("another user's cancel of a live order: NOT_ORDER_OWNER, no tombstone, the owner can still cancel it", () => {
    const engine = build();
    const before = state(engine);
    const depth = engine.depth('T', 100);
    const seq = engine.lastSeq('T');
    expect(run(engine, cancel(1, OTHER))).toEqual([rejected(seq + 1, 'cancel', 1, OTHER, 'NOT_ORDER_OWNER')]);
    expect(state(engine)).toEqual(before);
    expect(engine.depth('T', 100)).toEqual(depth);
    expect(engine.getOrder(1)).toMatchObject({ userId: OWNER, resting: true });
    // Still live: the owner's cancel closes it, and it is remembered once.
    expect(run(engine, cancel(1)).map((e) => e.type)).toEqual(['closed', 'depth']);
    expect(market(engine).closedOrderIds).toEqual([...before.closedOrderIds, 1]);
  });

  it('a cancel of an id already closed and remembered changes nothing', () => {
    const engine = build();
    const before = state(engine);
    const seq = engine.lastSeq('T');
    expect(run(engine, cancel(3))).toEqual([rejected(seq + 1, 'cancel', 3, OWNER, 'UNKNOWN_ORDER')]);
    expect(state(engine)).toEqual(before);
  });

  it('a cancel of an id at or below the forgotten watermark changes nothing (its place stays stale)', () => {
    // Memory 2: 3, 4 and 6 are forgotten as 4, 6, 8 and 9 close; 6 is the watermark, 5 was never used.
    const engine = build(2);
    for (const id of [4, 6, 8, 9]) {
      run(engine, place(id));
      run(engine, cancel(id));
    }
    expect(market(engine)).toMatchObject({ closedOrderIds: [8, 9], forgottenMaxOrderId: 6 });
    for (const id of [6, 5, 3]) {
      const before = state(engine);
      expect(run(engine, cancel(id))[0]).toMatchObject({ type: 'rejected', reason: 'UNKNOWN_ORDER' });
      expect(state(engine)).toEqual(before);
      expect(run(engine, place(id))[0]).toMatchObject({ type: 'rejected', reason: 'STALE_ORDER_ID' });
    }
  });

  it('tombstones take ring slots like closed ids: the oldest is forgotten and raises the watermark', () => {
    const engine = build(2); // remembers [3]
    run(engine, cancel(20));
    run(engine, cancel(21)); // 3 is forgotten
    expect(market(engine)).toMatchObject({ closedOrderIds: [20, 21], forgottenMaxOrderId: 3 });
    run(engine, cancel(22)); // 20 is forgotten: its late place is stale, still never run
    expect(market(engine)).toMatchObject({ closedOrderIds: [21, 22], forgottenMaxOrderId: 20 });
    const copy = roundTrip(engine, 2);
    for (const e of [engine, copy]) {
      expect(run(e, place(20))[0]).toMatchObject({ type: 'rejected', reason: 'STALE_ORDER_ID' });
      expect(run(e, place(21))[0]).toMatchObject({ type: 'rejected', reason: 'DUPLICATE_ORDER_ID' });
    }
  });

  it('tombstones only in the market the cancel names (registries are per market)', () => {
    const engine = build();
    // Order 1 lives in T; a cancel naming it in U finds nothing there and tombstones 1 in U only.
    const seq = engine.lastSeq('U');
    expect(run(engine, cancel(1, OWNER, 'U'))).toEqual([
      { ...rejected(seq + 1, 'cancel', 1, OWNER, 'UNKNOWN_ORDER'), market: 'U' },
    ]);
    expect(market(engine, 'U').closedOrderIds).toEqual([1]);
    expect(engine.getOrder(1)).toMatchObject({ market: 'T', resting: true });
    expect(run(engine, cancel(1)).map((e) => e.type)).toEqual(['closed', 'depth']);
  });

  it('ignores ids that are not positive safe integers: rejected as before, nothing remembered', () => {
    const engine = build();
    for (const id of [0, -4, 1.5, Number.NaN, 2 ** 53]) {
      const before = state(engine);
      const out = run(engine, cancel(id));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ type: 'rejected', command: 'cancel', reason: 'UNKNOWN_ORDER' });
      expect(state(engine)).toEqual(before);
    }
  });
});

describe('an amend that arrives before its place', () => {
  it('is rejected as before and leaves no tombstone: the late place still runs', () => {
    const engine = build();
    const before = state(engine);
    const seq = engine.lastSeq('T');
    expect(run(engine, amend(10))).toEqual([rejected(seq + 1, 'amend', 10, OWNER, 'UNKNOWN_ORDER')]);
    expect(state(engine)).toEqual(before);
    expect(run(engine, place(10))[0]).toMatchObject({ type: 'accepted', orderId: 10, quantity: 5 });
    expect(engine.getOrder(10)).toMatchObject({ resting: true });
  });
});
