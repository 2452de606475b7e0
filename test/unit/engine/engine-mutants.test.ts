// engine/core/engine.ts beyond the order-id tests (order-id-memory, cancel-before-place): the Registry's
// bounds (ids closed or placed out of order never lower the watermark or the largest known id, the ring
// keeps closing order across wrap-arounds), the MatchingEngine's read API (lastSeq, hasOrder, getOrder,
// depth), the unknown-market rejection, the market cache of apply(), and snapshot/restore/hash edges.
import { createHash } from 'node:crypto';
import { MatchingEngine, hashSnapshot, type EngineSnapshot } from '@engine/core';
import { Registry } from '@engine/core/engine';
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

const place = (orderId: number, over: Partial<PlaceCommand> = {}): PlaceCommand => ({
  kind: 'place',
  market: 'T',
  orderId,
  userId: 7,
  clientOrderId: `c${orderId}`,
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: 100,
  quantity: 5,
  ts: 2,
  ...over,
});
const cancel = (orderId: number, market = 'T'): Command => ({
  kind: 'cancel',
  market,
  orderId,
  userId: 7,
  ts: 3,
});

function run(engine: MatchingEngine, cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}
const outcome = (events: EngineEvent[]) =>
  events[0].type === 'rejected' ? events[0].reason : events[0].type;
const market = (engine: MatchingEngine, symbol = 'T') =>
  engine.snapshot().markets.find((m) => m.rules.symbol === symbol) as EngineSnapshot['markets'][number];
const roundTrip = (engine: MatchingEngine, closedIdMemory?: number) =>
  MatchingEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot, { closedIdMemory });

describe('Registry memory bound', () => {
  it.each([0, -1, 1.5, Number.NaN, Infinity, 2 ** 53])('refuses a closed-id memory of %p', (memory) => {
    expect(() => new Registry(memory)).toThrow(
      new RangeError(`closed-id memory must be a positive integer: ${memory}`),
    );
    expect(() => new MatchingEngine([rules('T')], { closedIdMemory: memory })).toThrow(RangeError);
  });

  it('accepts a memory of 1: it remembers exactly the last closed id', () => {
    const r = new Registry(1);
    expect(r.memory).toBe(1);
    r.rememberClosed(5);
    expect(r.closedIds()).toEqual([5]);
    r.rememberClosed(6);
    expect(r.closedIds()).toEqual([6]);
    expect(r.forgottenMaxOrderId).toBe(5);
    expect(r.refusal(6)).toBe('DUPLICATE_ORDER_ID');
    expect(r.refusal(5)).toBe('STALE_ORDER_ID');
    expect(r.refusal(7)).toBeUndefined();
  });

  it('defaults to 100,000 closed ids', () => {
    expect(new Registry().memory).toBe(100_000);
  });
});

describe('Registry: ids in any order', () => {
  it('keeps closing order across many wrap-arounds of the ring', () => {
    const r = new Registry(3);
    const closed: number[] = [];
    for (let id = 1; id <= 20; id++) {
      r.rememberClosed(id * 10);
      closed.push(id * 10);
      expect(r.closedIds()).toEqual(closed.slice(-3));
      expect(r.forgottenMaxOrderId).toBe(closed.length > 3 ? closed[closed.length - 4] : 0);
    }
  });

  it('an id forgotten after a larger one does not lower the watermark', () => {
    const r = new Registry(2);
    for (const id of [10, 5, 7, 8]) r.rememberClosed(id); // forgets 10, then 5
    expect(r.closedIds()).toEqual([7, 8]);
    expect(r.forgottenMaxOrderId).toBe(10);
    expect(r.refusal(9)).toBe('STALE_ORDER_ID');
    expect(r.refusal(10)).toBe('STALE_ORDER_ID');
    expect(r.refusal(11)).toBeUndefined();
  });

  it('a smaller id placed after a larger one does not hide the larger from the duplicate check', () => {
    const engine = new MatchingEngine([rules('T')]);
    expect(outcome(run(engine, place(10)))).toBe('accepted');
    expect(outcome(run(engine, place(5)))).toBe('accepted');
    expect(outcome(run(engine, place(10)))).toBe('DUPLICATE_ORDER_ID');
    expect(engine.getOrder(10)).toMatchObject({ orderId: 10, quantity: 5, resting: true });
  });

  it('a smaller id closed after a larger one does not hide the larger from the duplicate check', () => {
    const engine = new MatchingEngine([rules('T')]);
    run(engine, place(10));
    run(engine, cancel(10));
    run(engine, cancel(3)); // a tombstone for a never-seen smaller id
    expect(market(engine).closedOrderIds).toEqual([10, 3]);
    expect(outcome(run(engine, place(10)))).toBe('DUPLICATE_ORDER_ID');
    expect(outcome(run(engine, place(3)))).toBe('DUPLICATE_ORDER_ID');
    expect(outcome(run(engine, place(11)))).toBe('accepted');
  });

  it('the largest live id is a duplicate (the bound of known ids is inclusive)', () => {
    const r = new Registry(4);
    const engine = new MatchingEngine([rules('T')]);
    run(engine, place(42));
    expect(outcome(run(engine, place(42)))).toBe('DUPLICATE_ORDER_ID');
    r.rememberClosed(42);
    expect(r.refusal(42)).toBe('DUPLICATE_ORDER_ID');
    expect(r.refusal(43)).toBeUndefined();
  });

  it('restoreForgottenMax only raises the watermark and the bound of known ids', () => {
    const r = new Registry(2);
    for (const id of [30, 40, 50]) r.rememberClosed(id); // forgets 30
    r.restoreForgottenMax(0);
    expect(r.forgottenMaxOrderId).toBe(30);
    expect(r.refusal(50)).toBe('DUPLICATE_ORDER_ID'); // still known: the bound was not lowered
    r.restoreForgottenMax(20);
    expect(r.forgottenMaxOrderId).toBe(30);
    r.restoreForgottenMax(60);
    expect(r.forgottenMaxOrderId).toBe(60);
    expect(r.refusal(55)).toBe('STALE_ORDER_ID');
    expect(r.refusal(60)).toBe('STALE_ORDER_ID');
    expect(r.refusal(61)).toBeUndefined();
  });
});

describe('restore of a snapshot without a watermark (older format)', () => {
  const oldSnapshot = (closedOrderIds: number[]): EngineSnapshot => {
    const engine = new MatchingEngine([rules('T')]);
    const snap = engine.snapshot();
    snap.markets[0].closedOrderIds = closedOrderIds;
    expect('forgottenMaxOrderId' in snap.markets[0]).toBe(false);
    return snap;
  };

  it('its closed ids stay duplicates', () => {
    const e = MatchingEngine.restore(oldSnapshot([7, 9]));
    expect(outcome(run(e, place(9)))).toBe('DUPLICATE_ORDER_ID');
    expect(outcome(run(e, place(7)))).toBe('DUPLICATE_ORDER_ID');
    expect(outcome(run(e, place(8)))).toBe('accepted');
  });

  it('into a smaller memory: the ids it cannot hold are forgotten and then stale', () => {
    const e = MatchingEngine.restore(oldSnapshot([1, 2, 3]), { closedIdMemory: 2 });
    expect(market(e)).toMatchObject({ closedOrderIds: [2, 3], forgottenMaxOrderId: 1 });
    expect(outcome(run(e, place(1)))).toBe('STALE_ORDER_ID');
    expect(outcome(run(e, place(2)))).toBe('DUPLICATE_ORDER_ID');
  });

  it('refuses another snapshot version, naming it', () => {
    const snap = { ...oldSnapshot([]), v: 2 } as unknown as EngineSnapshot;
    expect(() => MatchingEngine.restore(snap)).toThrow(new Error('unsupported engine snapshot version 2'));
  });
});

describe('MatchingEngine read API', () => {
  let engine: MatchingEngine;
  beforeEach(() => {
    engine = new MatchingEngine([rules('T'), rules('U')]);
  });

  it('lastSeq: 0 for a fresh or unknown market, then the seq of its last event', () => {
    expect(engine.lastSeq('T')).toBe(0);
    expect(engine.lastSeq('NOPE')).toBe(0);
    const events = run(engine, place(1));
    expect(engine.lastSeq('T')).toBe(events[events.length - 1].seq);
    expect(engine.lastSeq('T')).toBe(2); // accepted, depth
    expect(engine.lastSeq('U')).toBe(0);
  });

  it('hasOrder and getOrder find live orders in any market, and nothing else', () => {
    run(engine, place(1, { price: 90, quantity: 8 }));
    run(
      engine,
      place(2, { market: 'U', side: 'SELL', userId: 9, price: 120, quantity: 30, icebergQuantity: 4 }),
    );
    run(
      engine,
      place(3, { market: 'U', type: 'STOP_LOSS', timeInForce: undefined, price: undefined, stopPrice: 50 }),
    );
    expect(engine.hasOrder(1)).toBe(true);
    expect(engine.hasOrder(2)).toBe(true);
    expect(engine.hasOrder(4)).toBe(false);
    expect(engine.getOrder(4)).toBeUndefined();
    expect(engine.getOrder(1)).toEqual({
      orderId: 1,
      userId: 7,
      market: 'T',
      side: 'BUY',
      orderType: 'LIMIT',
      price: 90,
      quantity: 8,
      executed: 0,
      visible: 8,
      resting: true,
    });
    expect(engine.getOrder(2)).toEqual({
      orderId: 2,
      userId: 9,
      market: 'U',
      side: 'SELL',
      orderType: 'LIMIT',
      price: 120,
      quantity: 30,
      executed: 0,
      visible: 4,
      resting: true,
    });
    // A pending stop is live but not on the book.
    expect(engine.getOrder(3)).toMatchObject({
      orderId: 3,
      market: 'U',
      orderType: 'STOP_LOSS',
      resting: false,
    });
    run(engine, cancel(1));
    expect(engine.hasOrder(1)).toBe(false);
    expect(engine.getOrder(1)).toBeUndefined();
  });

  it('depth: at most `limit` levels per side, best first; empty for an unknown market', () => {
    for (const [id, side, price] of [
      [1, 'BUY', 90],
      [2, 'BUY', 92],
      [3, 'BUY', 91],
      [4, 'SELL', 110],
      [5, 'SELL', 105],
    ] as const)
      run(engine, place(id, { side, price, quantity: id }));
    expect(engine.depth('T', 10)).toEqual({
      lastUpdateId: 5,
      bids: [
        [92, 2],
        [91, 3],
        [90, 1],
      ],
      asks: [
        [105, 5],
        [110, 4],
      ],
    });
    expect(engine.depth('T', 2)).toEqual({
      lastUpdateId: 5,
      bids: [
        [92, 2],
        [91, 3],
      ],
      asks: [
        [105, 5],
        [110, 4],
      ],
    });
    expect(engine.depth('T', 1)).toEqual({ lastUpdateId: 5, bids: [[92, 2]], asks: [[105, 5]] });
    expect(engine.depth('T', 0)).toEqual({ lastUpdateId: 5, bids: [], asks: [] });
    expect(engine.depth('NOPE', 10)).toEqual({ lastUpdateId: 0, bids: [], asks: [] });
  });
});

describe('MatchingEngine.apply: markets', () => {
  it('rejects a command for an unknown market with seq 0 and changes nothing', () => {
    const engine = new MatchingEngine([rules('T')]);
    run(engine, place(1));
    const hash = engine.stateHash();
    for (const cmd of [
      place(2, { market: 'NOPE', ts: 11 }),
      { ...cancel(1, 'NOPE'), ts: 12 },
      { kind: 'amend', market: 'NOPE', orderId: 1, userId: 7, newQuantity: 1, ts: 13 } as Command,
    ]) {
      expect(run(engine, cmd)).toEqual([
        {
          type: 'rejected',
          market: 'NOPE',
          seq: 0,
          ts: cmd.ts,
          command: cmd.kind,
          orderId: (cmd as { orderId: number }).orderId,
          userId: 7,
          reason: 'UNKNOWN_MARKET',
        },
      ]);
    }
    expect(engine.stateHash()).toBe(hash);
    expect(engine.lastSeq('T')).toBe(2);
  });

  it('sends each command to its own market when markets alternate', () => {
    const engine = new MatchingEngine([rules('T'), rules('U')]);
    const seq = (events: EngineEvent[]) => events.map((e) => `${e.market}:${e.seq}`);
    expect(seq(run(engine, place(1)))).toEqual(['T:1', 'T:2']);
    expect(seq(run(engine, place(2, { market: 'U' })))).toEqual(['U:1', 'U:2']);
    expect(seq(run(engine, place(3, { market: 'NOPE' })))).toEqual(['NOPE:0']);
    expect(seq(run(engine, place(4)))).toEqual(['T:3', 'T:4']);
    expect(seq(run(engine, place(5)))).toEqual(['T:5', 'T:6']);
    expect(seq(run(engine, cancel(2, 'U')))).toEqual(['U:3', 'U:4']);
    expect(seq(run(engine, place(6, { market: 'NOPE' })))).toEqual(['NOPE:0']);
    expect(seq(run(engine, cancel(1)))).toEqual(['T:7', 'T:8']);
  });

  it('looks a market up once for a run of commands naming it (the cache of the previous market)', () => {
    const engine = new MatchingEngine([rules('T'), rules('U')]);
    const books = (engine as unknown as { books: Map<string, unknown> }).books;
    const lookups = jest.spyOn(books, 'get');
    for (let id = 1; id <= 5; id++) run(engine, place(id));
    expect(lookups).toHaveBeenCalledTimes(1);
    run(engine, place(6, { market: 'U' }));
    run(engine, place(7, { market: 'U' }));
    expect(lookups).toHaveBeenCalledTimes(2);
    lookups.mockRestore();
  });
});

describe('snapshots and hashes', () => {
  it('hashSnapshot is the SHA-256 (hex) of the snapshot JSON', () => {
    const engine = new MatchingEngine([rules('T')]);
    run(engine, place(1));
    const snap = engine.snapshot();
    const hex = createHash('sha256').update(JSON.stringify(snap)).digest('hex');
    expect(hashSnapshot(snap)).toBe(hex);
    expect(engine.stateHash()).toBe(hex);
  });

  it('a market that never forgot an id has no watermark in its snapshot; one that did has it', () => {
    const engine = new MatchingEngine([rules('T')], { closedIdMemory: 1 });
    run(engine, place(1));
    run(engine, cancel(1));
    expect(Object.keys(market(engine))).not.toContain('forgottenMaxOrderId');
    run(engine, cancel(2)); // forgets 1
    expect(market(engine).forgottenMaxOrderId).toBe(1);
    expect(roundTrip(engine, 1).stateHash()).toBe(engine.stateHash());
  });

  it('restores resting orders in priority order and pending stops as live orders', () => {
    const engine = new MatchingEngine([rules('T')]);
    run(engine, place(1, { price: 100, quantity: 3 }));
    run(engine, place(2, { price: 100, quantity: 4, userId: 8 }));
    run(
      engine,
      place(3, { side: 'SELL', type: 'STOP_LOSS', timeInForce: undefined, price: undefined, stopPrice: 50 }),
    );
    const copy = roundTrip(engine);
    expect(copy.stateHash()).toBe(engine.stateHash());
    expect(copy.getOrder(3)).toMatchObject({ orderType: 'STOP_LOSS', resting: false });
    expect(outcome(run(copy, place(3)))).toBe('DUPLICATE_ORDER_ID');
    // Order 1 is first in the queue at 100.
    const events = run(copy, place(4, { side: 'SELL', price: 100, quantity: 3, userId: 9 }));
    expect(events.filter((e) => e.type === 'trade')).toEqual([expect.objectContaining({ makerOrderId: 1 })]);
  });
});
