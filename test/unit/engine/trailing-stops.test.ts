// Trailing stops (Binance `trailingDelta`, faqs/trailing-stop-faq.md): activation on entry and by stopPrice,
// the extreme following the price only in the order's favour, the exact trigger tick, both sides, both
// stop families, limit and market variants, cancel, snapshot/restore mid-trail, and validation. The
// scenarios A, C and D are the FAQ's own numbers (prices in ticks of 1).
import { MatchingEngine, type EngineSnapshot } from '@engine/core';
import { trailOffset } from '@engine/core/market-book';
import type { Command, EngineEvent, MarketRules, PlaceCommand } from '@engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
};

let engine: MatchingEngine;
let nextId: number;
let ts: number;
beforeEach(() => {
  engine = new MatchingEngine([rules]);
  nextId = 1;
  ts = 1_000;
});

function apply(cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}

function place(p: Partial<PlaceCommand> & Pick<PlaceCommand, 'side' | 'type'>): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  ts += 10;
  return apply({ kind: 'place', market: 'T', orderId, userId: 1, clientOrderId: `c${orderId}`, ts, ...p });
}

/** One trade at `price` between users 2 and 3 (nothing else rests at or through it), and what follows. */
function tradeAt(price: number): EngineEvent[] {
  place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price, quantity: 1, userId: 2 });
  const out = place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price, quantity: 1, userId: 3 });
  // The first trade is this one (a stop it triggers may trade after it).
  expect(out.find((e) => e.type === 'trade')).toMatchObject({ price, quantity: 1 });
  return out;
}

const triggered = (events: EngineEvent[]) => events.filter((e) => e.type === 'triggered');
const stopTuple = (snap: EngineSnapshot, orderId: number) =>
  snap.markets[0].stops.find((t) => t[0] === orderId);

describe('trailOffset: ceil(extreme × delta / 10000) in exact integers', () => {
  it('rounds up, exactly, also near 2^53', () => {
    expect(trailOffset(42_000, 500)).toBe(2_100);
    expect(trailOffset(46_500, 750)).toBe(3_488); // 3,487.5 → 3,488
    expect(trailOffset(1, 1)).toBe(1);
    expect(trailOffset(10_000, 1)).toBe(1);
    expect(trailOffset(10_001, 1)).toBe(2);
    const big = 900_719_925_474; // × 9,999 stays under 2^53
    expect(trailOffset(big, 9_999)).toBe(Number((BigInt(big) * 9_999n + 9_999n) / 10_000n));
  });
});

describe('activation on entry (no stopPrice)', () => {
  it('SELL STOP_LOSS: tracks the highest trade since entry and triggers 100 BIPS below it, as a MARKET order', () => {
    tradeAt(10_000);
    const accepted = place({
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: 2,
      trailingDelta: 100,
      orderId: 100,
    });
    expect(accepted[0]).toMatchObject({
      type: 'accepted',
      trailingDelta: 100,
      trailingTime: ts,
      stopPrice: 0,
    });
    const since = ts;
    // Liquidity for the market sell once triggered, far below the trades.
    place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 9_000, quantity: 5, userId: 4 });
    expect(triggered(tradeAt(9_901))).toEqual([]); // 99 BIPS under 10,000
    tradeAt(10_500); // new highest: trigger at 10,500 − 105 = 10,395
    expect(triggered(tradeAt(10_400))).toEqual([]);
    expect(triggered(tradeAt(10_450))).toEqual([]); // a rise that is not a new high moves nothing
    expect(triggered(tradeAt(10_396))).toEqual([]);
    const out = tradeAt(10_395);
    expect(triggered(out)).toEqual([expect.objectContaining({ orderId: 100, trailingTime: since })]);
    expect(out).toContainEqual(expect.objectContaining({ type: 'trade', price: 9_000, takerOrderId: 100 }));
    expect(out).toContainEqual(expect.objectContaining({ type: 'closed', orderId: 100, reason: 'FILLED' }));
  });

  it('with no trade yet, the first trade starts the tracking', () => {
    place({ side: 'BUY', type: 'STOP_LOSS', quantity: 1, trailingDelta: 10, orderId: 100 });
    expect(stopTuple(engine.snapshot(), 100)?.slice(17)).toEqual([10, 0, 0]);
    tradeAt(5_000);
    expect(stopTuple(engine.snapshot(), 100)?.slice(17)).toEqual([10, 5_000, ts]);
    tradeAt(4_000); // BUY: a lower price is better, the extreme follows it down
    expect(stopTuple(engine.snapshot(), 100)?.[18]).toBe(4_000);
    expect(triggered(tradeAt(4_003))).toEqual([]); // 4,000 + ceil(4) = 4,004
    expect(triggered(tradeAt(4_004))).toEqual([expect.objectContaining({ orderId: 100 })]);
  });
});

describe('activation by stopPrice (the FAQ scenarios)', () => {
  it('A: BUY STOP_LOSS_LIMIT, stop 44,000, 500 BIPS, limit 45,000', () => {
    tradeAt(40_000);
    const [acc] = place({
      side: 'BUY',
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'GTC',
      price: 45_000,
      stopPrice: 44_000,
      quantity: 1,
      trailingDelta: 500,
      orderId: 100,
    });
    expect(acc).toMatchObject({ type: 'accepted', stopPrice: 44_000, trailingDelta: 500 });
    expect(acc).not.toHaveProperty('trailingTime');
    expect(triggered(tradeAt(37_000))).toEqual([]); // not tracking yet: a fall of 7.5 % means nothing
    expect(stopTuple(engine.snapshot(), 100)?.[18]).toBe(0);
    tradeAt(44_000); // meets the stop price: tracking from 44,000
    const since = ts;
    tradeAt(45_000);
    expect(triggered(tradeAt(46_000))).toEqual([]); // < 44,000 × 1.05 = 46,200
    tradeAt(42_000); // new lowest: trigger at 44,100
    expect(triggered(tradeAt(44_099))).toEqual([]);
    const out = tradeAt(44_100);
    expect(triggered(out)).toEqual([expect.objectContaining({ orderId: 100, trailingTime: since })]);
    // Works at its limit: nothing to buy, it rests at 45,000.
    expect(engine.depth('T', 5).bids).toEqual([[45_000, 1]]);
  });

  it('C: BUY TAKE_PROFIT_LIMIT, stop 38,000, 850 BIPS', () => {
    tradeAt(40_000);
    place({
      side: 'BUY',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: 38_500,
      stopPrice: 38_000,
      quantity: 1,
      trailingDelta: 850,
      orderId: 100,
    });
    for (const p of [42_000, 38_000, 37_000, 39_000, 38_000]) expect(triggered(tradeAt(p))).toEqual([]);
    expect(triggered(tradeAt(40_144))).toEqual([]); // 37,000 × 1.085 = 40,145
    expect(triggered(tradeAt(40_145))).toEqual([expect.objectContaining({ orderId: 100 })]);
  });

  it('D: SELL TAKE_PROFIT_LIMIT, stop 42,000, 750 BIPS: triggers at 43,012 (46,500 × 0.925 = 43,012.5)', () => {
    tradeAt(40_000);
    place({
      side: 'SELL',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: 41_000,
      stopPrice: 42_000,
      quantity: 1,
      trailingDelta: 750,
      orderId: 100,
    });
    for (const p of [41_500, 39_000, 42_000, 45_000, 44_000, 46_500, 43_013])
      expect(triggered(tradeAt(p))).toEqual([]);
    const out = tradeAt(43_012);
    expect(triggered(out)).toEqual([expect.objectContaining({ orderId: 100 })]);
    expect(engine.depth('T', 5).asks).toEqual([[41_000, 1]]);
  });

  it('SELL STOP_LOSS (market), stop 9,900: starts tracking on a fall to it, then trails the highest', () => {
    tradeAt(10_000);
    place({
      side: 'SELL',
      type: 'STOP_LOSS',
      stopPrice: 9_900,
      quantity: 1,
      trailingDelta: 200,
      orderId: 100,
    });
    expect(triggered(tradeAt(9_700))).toEqual([]); // 9,700 ≤ 9,900: tracking from 9,700
    expect(triggered(tradeAt(9_800))).toEqual([]); // highest 9,800: trigger at 9,800 − 196 = 9,604
    expect(triggered(tradeAt(9_605))).toEqual([]);
    expect(triggered(tradeAt(9_604))).toEqual([expect.objectContaining({ orderId: 100 })]);
  });

  it('refuses a stopPrice that already holds, like a plain stop', () => {
    tradeAt(10_000);
    const out = place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 9_999, quantity: 1, trailingDelta: 100 });
    expect(out[0]).toMatchObject({ type: 'rejected', reason: 'INVALID_STOP_PRICE' });
  });
});

describe('cancel and snapshot', () => {
  it('an untriggered trailing stop cancels, and then nothing triggers', () => {
    tradeAt(10_000);
    place({ side: 'SELL', type: 'STOP_LOSS', quantity: 1, trailingDelta: 10, orderId: 100 });
    const out = apply({ kind: 'cancel', market: 'T', orderId: 100, userId: 1, ts: ++ts });
    expect(out).toEqual([expect.objectContaining({ type: 'closed', orderId: 100, reason: 'CANCELED' })]);
    expect(triggered(tradeAt(5_000))).toEqual([]);
    expect(engine.snapshot().markets[0].stops).toEqual([]);
  });

  it('snapshot → JSON → restore mid-trail continues identically', () => {
    tradeAt(10_000);
    place({
      side: 'SELL',
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'GTC',
      price: 9_000,
      quantity: 1,
      trailingDelta: 500,
      orderId: 100,
    });
    place({
      side: 'BUY',
      type: 'TAKE_PROFIT',
      stopPrice: 9_950,
      quantity: 1,
      trailingDelta: 50,
      orderId: 101,
    });
    place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 10_500, quantity: 1, orderId: 102 }); // a plain stop
    tradeAt(10_300); // 100: highest 10,300
    tradeAt(9_900); // 101 starts tracking at 9,900 (trigger at 9,900 + ceil(49.5) = 9,950)
    const snap = engine.snapshot();
    expect(stopTuple(snap, 100)?.slice(17, 19)).toEqual([500, 10_300]);
    expect(stopTuple(snap, 101)?.slice(17, 19)).toEqual([50, 9_900]);
    expect(stopTuple(snap, 102)).toHaveLength(17); // plain stops keep the old tuple
    const restored = MatchingEngine.restore(JSON.parse(JSON.stringify(snap)) as EngineSnapshot);
    expect(restored.stateHash()).toBe(engine.stateHash());
    // 101 at 9,950; 102 at 10,500, which also lifts 100's highest (trigger 10,500 − 525 = 9,975); 100 at 9,975.
    const rest = [9_920, 9_950, 10_500, 9_976, 9_975];
    const original = engine;
    const saved = { nextId, ts };
    const a = rest.flatMap(tradeAt);
    engine = restored;
    ({ nextId, ts } = saved);
    const b = rest.flatMap(tradeAt);
    expect(b).toEqual(a);
    expect(triggered(a).map((e) => e.type === 'triggered' && e.orderId)).toEqual([101, 102, 100]);
    expect(restored.stateHash()).toBe(original.stateHash());
  });
});

describe('many waiting (engine/core/stop-book.ts keeps them by extreme)', () => {
  it('each stop keeps the extreme of its own start; the highest SELL trigger leaving makes the next one the bound', () => {
    // 500 BIPS each. 100 (SELL) starts at 10,000 and sees 10,200; 101 (SELL) and 102 (BUY) start at 9,950.
    tradeAt(10_000);
    place({ side: 'SELL', type: 'STOP_LOSS', quantity: 1, trailingDelta: 500, orderId: 100 });
    tradeAt(10_200);
    tradeAt(9_950);
    place({ side: 'SELL', type: 'STOP_LOSS', quantity: 1, trailingDelta: 500, orderId: 101 });
    place({ side: 'BUY', type: 'STOP_LOSS', quantity: 1, trailingDelta: 500, orderId: 102 });
    tradeAt(10_050);
    const extremes = () => engine.snapshot().markets[0].stops.map((t) => [t[0], t[18]]);
    expect(extremes()).toEqual([
      [100, 10_200], // trigger 10,200 − 510 = 9,690
      [101, 10_050], // 10,050 − ceil(502.5) = 9,547
      [102, 9_950], // 9,950 + ceil(497.5) = 10,448
    ]);
    const fired = (events: EngineEvent[]) =>
      triggered(events).map((e) => e.type === 'triggered' && e.orderId);
    expect(fired(tradeAt(9_691))).toEqual([]);
    expect(fired(tradeAt(9_690))).toEqual([100]); // 102's lowest is 9,690 now: trigger 9,690 + 485 = 10,175
    expect(fired(tradeAt(9_548))).toEqual([]); // 102: 9,548 + 478 = 10,026
    expect(fired(tradeAt(9_547))).toEqual([101]); // 102: 9,547 + 478 = 10,025
    expect(fired(tradeAt(10_024))).toEqual([]);
    expect(fired(tradeAt(10_025))).toEqual([102]);
    expect(engine.snapshot().markets[0].stops).toEqual([]);
  });

  it('stops waiting for their activation price start at the trade that reaches it, on both sides', () => {
    tradeAt(10_000);
    // SELL take-profit activates on a rise to 10,100; BUY take-profit on a fall to 9,900.
    place({
      side: 'SELL',
      type: 'TAKE_PROFIT',
      stopPrice: 10_100,
      quantity: 1,
      trailingDelta: 50,
      orderId: 100,
    });
    place({
      side: 'BUY',
      type: 'TAKE_PROFIT',
      stopPrice: 9_900,
      quantity: 1,
      trailingDelta: 50,
      orderId: 101,
    });
    tradeAt(10_099);
    expect(engine.snapshot().markets[0].stops.map((t) => t[18])).toEqual([0, 0]);
    tradeAt(10_150); // 100 starts at 10,150 (trigger 10,150 − 51 = 10,099)
    tradeAt(9_900); // 100 fires (9,900 ≤ 10,099); 101 starts at 9,900 in the same trade
    const stops = engine.snapshot().markets[0].stops;
    expect(stops.map((t) => [t[0], t[18]])).toEqual([[101, 9_900]]);
    expect(triggered(tradeAt(9_950)).map((e) => e.type === 'triggered' && e.orderId)).toEqual([101]);
  });
});

describe('validation', () => {
  it.each([
    ['a delta of 0', { type: 'STOP_LOSS', trailingDelta: 0 }],
    ['a delta of 10,000 BIPS (100 %)', { type: 'STOP_LOSS', trailingDelta: 10_000 }],
    ['a fractional delta', { type: 'STOP_LOSS', trailingDelta: 1.5 }],
    ['a delta on a LIMIT order', { type: 'LIMIT', timeInForce: 'GTC', price: 100, trailingDelta: 10 }],
    ['a delta on a MARKET order', { type: 'MARKET', trailingDelta: 10 }],
  ] as const)('refuses %s as INVALID_TRAILING_DELTA', (_, over) => {
    const out = place({ side: 'SELL', quantity: 1, ...over });
    expect(out).toEqual([expect.objectContaining({ type: 'rejected', reason: 'INVALID_TRAILING_DELTA' })]);
  });

  it('a stop order needs a stopPrice or a trailingDelta', () => {
    expect(place({ side: 'SELL', type: 'STOP_LOSS', quantity: 1 })[0]).toMatchObject({
      reason: 'INVALID_STOP_PRICE',
    });
  });

  it('a delta whose trigger distance could pass 2^53 on this market is an OVERFLOW', () => {
    engine = new MatchingEngine([{ ...rules, maxPriceTicks: 2 ** 50 }]);
    expect(place({ side: 'SELL', type: 'STOP_LOSS', quantity: 1, trailingDelta: 100 })[0]).toMatchObject({
      reason: 'OVERFLOW',
    });
  });
});
