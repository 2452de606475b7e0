// engine/core/market-book.ts: behaviour that mutants surviving the other engine unit suites showed unpinned
// (docs/testing.md, "Mutation testing"). Each test names the rule it holds.
import { MatchingEngine } from '@engine/core';
import type {
  Command,
  EngineEvent,
  MarketRules,
  PlaceCommand,
  StpMode,
  TimeInForce,
} from '@engine/core/types';

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
beforeEach(() => {
  engine = new MatchingEngine([rules]);
  nextId = 1;
});

function apply(cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}
function place(p: Partial<PlaceCommand>): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  return apply({
    kind: 'place',
    market: 'T',
    orderId,
    userId: 1,
    clientOrderId: `c${orderId}`,
    side: 'BUY',
    type: 'LIMIT',
    price: 100,
    quantity: 5,
    ts: 5,
    ...p,
  });
}

describe('every valid STP mode and time in force is accepted when named explicitly', () => {
  it.each<StpMode>(['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'])('stpMode %s', (stpMode) => {
    expect(place({ stpMode })[0]).toMatchObject({ type: 'accepted', stpMode });
  });

  it.each<TimeInForce>(['GTC', 'IOC', 'FOK'])('timeInForce %s', (timeInForce) => {
    expect(place({ timeInForce })[0]).toMatchObject({ type: 'accepted', timeInForce });
  });

  it('stpMode NONE trades with the same user’s orders', () => {
    place({ side: 'SELL', timeInForce: 'GTC', stpMode: 'NONE' });
    const events = place({ timeInForce: 'GTC', stpMode: 'NONE' });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'trade', 'closed', 'closed', 'depth']);
  });
});

describe('pending stops', () => {
  const stop = (stopPrice: number, userId = 1) =>
    place({ side: 'BUY', type: 'STOP_LOSS', price: undefined, stopPrice, userId });
  const stopIds = () => engine.snapshot().markets[0].stops.map((t) => t[0]);

  it('a cancel of a pending stop closes it (no depth event) and keeps the others in trigger order', () => {
    stop(200);
    stop(300);
    stop(400);
    expect(apply({ kind: 'cancel', market: 'T', orderId: 2, userId: 1, ts: 6 })).toEqual([
      {
        type: 'closed',
        market: 'T',
        seq: 4,
        ts: 6,
        orderId: 2,
        userId: 1,
        reason: 'CANCELED',
        executedQty: 0,
        cumQuote: 0,
      },
    ]);
    expect(stopIds()).toEqual([1, 3]);
    expect(engine.hasOrder(2)).toBe(false);
    apply({ kind: 'cancel', market: 'T', orderId: 1, userId: 1, ts: 6 });
    expect(stopIds()).toEqual([3]);
  });

  it('each order keeps the seq of its accepted event (a stop’s trigger priority) through a snapshot', () => {
    place({ side: 'SELL', price: 500 }); // seq 1 accepted, 2 depth
    const accepted = stop(600)[0]; // seq 3
    expect(accepted.seq).toBe(3);
    const m = engine.snapshot().markets[0];
    expect(m.asks[0][13]).toBe(1);
    expect(m.stops[0][13]).toBe(3);
  });
});

describe('amend bounds on a plain (non-iceberg) order', () => {
  const amend = (orderId: number, over: { newQuantity?: number; newPrice?: number; userId?: number }) =>
    apply({ kind: 'amend', market: 'T', orderId, userId: 1, ts: 6, ...over });
  const outcome = (events: EngineEvent[]) =>
    events[0].type === 'rejected' ? events[0].reason : `${events[0].type} ${JSON.stringify(events.at(-1))}`;

  it('the new quantity must stay above what is executed: at or under it is INVALID_AMEND', () => {
    place({ price: 100, quantity: 10 }); // #1
    place({ side: 'SELL', price: 100, quantity: 3, userId: 2 }); // fills 3 of #1
    expect(engine.getOrder(1)).toMatchObject({ executed: 3, resting: true });
    expect(outcome(amend(1, { newQuantity: 3 }))).toBe('INVALID_AMEND');
    expect(outcome(amend(1, { newQuantity: 2 }))).toBe('INVALID_AMEND');
    expect(amend(1, { newQuantity: 4 })[0]).toMatchObject({
      type: 'amended',
      quantity: 4,
      keptPriority: true,
    });
    expect(engine.getOrder(1)).toMatchObject({ quantity: 4, executed: 3, visible: 1 });
  });

  it('the maximum quantity and the price bounds are inclusive', () => {
    place({ price: 50, quantity: 10 });
    expect(amend(1, { newQuantity: 100_000 })[0]).toMatchObject({ type: 'amended', quantity: 100_000 });
    expect(outcome(amend(1, { newQuantity: 100_001 }))).toBe('INVALID_AMEND');
    expect(amend(1, { newPrice: 1 })[0]).toMatchObject({ type: 'amended', price: 1 });
    expect(outcome(amend(1, { newPrice: 0 }))).toBe('INVALID_AMEND');
    place({ side: 'SELL', price: 60, quantity: 10 });
    expect(amend(2, { newPrice: 100_000 })[0]).toMatchObject({ type: 'amended', price: 100_000 });
    expect(outcome(amend(2, { newPrice: 100_001 }))).toBe('INVALID_AMEND');
  });

  it('an amend by another user is rejected as an amend, NOT_ORDER_OWNER', () => {
    place({ price: 50, quantity: 10 });
    expect(amend(1, { newQuantity: 5, userId: 9 })).toEqual([
      {
        type: 'rejected',
        market: 'T',
        seq: 3,
        ts: 6,
        command: 'amend',
        orderId: 1,
        userId: 9,
        reason: 'NOT_ORDER_OWNER',
      },
    ]);
    expect(amend(77, { newQuantity: 5 })).toEqual([
      {
        type: 'rejected',
        market: 'T',
        seq: 4,
        ts: 6,
        command: 'amend',
        orderId: 77,
        userId: 1,
        reason: 'UNKNOWN_ORDER',
      },
    ]);
  });
});

describe('amend keeps time priority when nothing grows', () => {
  it.each([
    ['the same quantity', { newQuantity: 5 }],
    ['the same price', { newPrice: 100 }],
    ['the same price and quantity', { newPrice: 100, newQuantity: 5 }],
  ])('%s: kept priority, still first in the queue', (_name, change) => {
    place({ side: 'SELL', quantity: 5 }); // #1
    place({ side: 'SELL', quantity: 5 }); // #2, behind #1
    const events = apply({ kind: 'amend', market: 'T', orderId: 1, userId: 1, ts: 6, ...change });
    expect(events).toEqual([
      expect.objectContaining({ type: 'amended', price: 100, quantity: 5, keptPriority: true }),
    ]);
    const fill = place({ side: 'BUY', quantity: 1, userId: 2 });
    expect(fill[1]).toMatchObject({ type: 'trade', makerOrderId: 1 });
  });
});

describe('a taker stops matching the moment it is done', () => {
  const brief = (events: EngineEvent[]) =>
    events.map((e) =>
      e.type === 'trade'
        ? `trade ${e.quantity}@${e.price} maker #${e.makerOrderId}`
        : e.type === 'closed'
          ? `closed #${e.orderId} ${e.reason} exec ${e.executedQty}`
          : e.type,
    );

  it('filled by quantity: the next maker, its own order, is not touched by STP (EXPIRE_MAKER)', () => {
    place({ side: 'SELL', quantity: 2, userId: 2 }); // #1
    place({ side: 'SELL', quantity: 5, userId: 1 }); // #2, the taker's own
    expect(brief(place({ quantity: 2, timeInForce: 'GTC', stpMode: 'EXPIRE_MAKER' }))).toEqual([
      'accepted',
      'trade 2@100 maker #1',
      'closed #1 FILLED exec 2',
      'closed #3 FILLED exec 2',
      'depth',
    ]);
    expect(engine.getOrder(2)).toMatchObject({ resting: true, executed: 0 });
  });

  it('filled by quantity: the next maker, its own order, does not expire it (EXPIRE_TAKER)', () => {
    place({ side: 'SELL', quantity: 2, userId: 2 });
    place({ side: 'SELL', quantity: 5, userId: 1 });
    expect(brief(place({ quantity: 2, timeInForce: 'IOC', stpMode: 'EXPIRE_TAKER' }))).toEqual([
      'accepted',
      'trade 2@100 maker #1',
      'closed #1 FILLED exec 2',
      'closed #3 FILLED exec 2',
      'depth',
    ]);
  });

  it('by quote, less than one lot left: FILLED, and its own next maker does not expire it', () => {
    place({ side: 'SELL', quantity: 2, userId: 2 });
    place({ side: 'SELL', quantity: 5, userId: 1 });
    const events = place({
      type: 'MARKET',
      price: undefined,
      quantity: undefined,
      quoteQuantity: 250,
      stpMode: 'EXPIRE_TAKER',
    });
    expect(brief(events)).toEqual([
      'accepted',
      'trade 2@100 maker #1',
      'closed #1 FILLED exec 2',
      'closed #3 FILLED exec 2',
      'depth',
    ]);
    expect(engine.getOrder(2)).toMatchObject({ resting: true, executed: 0 });
  });

  it('by quote, exactly one lot’s price left: it buys that lot too', () => {
    place({ side: 'SELL', quantity: 1, userId: 2 }); // #1
    place({ side: 'SELL', quantity: 5, userId: 2 }); // #2
    const events = place({ type: 'MARKET', price: undefined, quantity: undefined, quoteQuantity: 200 });
    expect(brief(events)).toEqual([
      'accepted',
      'trade 1@100 maker #1',
      'closed #1 FILLED exec 1',
      'trade 1@100 maker #2',
      'closed #3 FILLED exec 2',
      'depth',
    ]);
  });

  it('by quote, the last level emptied with less than one lot left: FILLED, not IOC', () => {
    place({ side: 'SELL', quantity: 2, userId: 2 });
    const events = place({ type: 'MARKET', price: undefined, quantity: undefined, quoteQuantity: 250 });
    expect(brief(events)).toEqual([
      'accepted',
      'trade 2@100 maker #1',
      'closed #1 FILLED exec 2',
      'closed #2 FILLED exec 2',
      'depth',
    ]);
  });
});

describe('FOK with STP: the taker’s own order blocks the fill even with enough liquidity behind it', () => {
  it.each(['EXPIRE_TAKER', 'EXPIRE_BOTH'] as const)('%s: FOK, no trade, nothing cancelled', (stpMode) => {
    place({ side: 'SELL', quantity: 3, userId: 2 }); // #1
    place({ side: 'SELL', quantity: 4, userId: 1 }); // #2, the taker's own
    place({ side: 'SELL', quantity: 5, userId: 2 }); // #3
    const events = place({ quantity: 5, timeInForce: 'FOK', stpMode });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'closed']);
    expect(events[1]).toMatchObject({ orderId: 4, reason: 'FOK', executedQty: 0 });
    expect(engine.depth('T', 5).asks).toEqual([[100, 12]]);
  });
});

describe('trade ids', () => {
  it('count up from 1 per market, across commands and a snapshot/restore', () => {
    place({ side: 'SELL', quantity: 1, userId: 2 });
    place({ side: 'SELL', quantity: 1, userId: 2 });
    const ids = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'trade' ? [e.tradeId] : []));
    expect(ids(place({ quantity: 2 }))).toEqual([1, 2]);
    place({ side: 'SELL', quantity: 1, userId: 2 });
    engine = MatchingEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())) as never);
    expect(engine.snapshot().markets[0].tradeId).toBe(2);
    expect(ids(place({ quantity: 1 }))).toEqual([3]);
  });
});

describe('the triggered event', () => {
  it('takes the next seq, between the trade that fired it and its own events', () => {
    place({ side: 'SELL', quantity: 1, userId: 2 }); // #1: seq 1, 2
    place({ side: 'SELL', price: 110, quantity: 1, userId: 2 }); // #2: seq 3, 4
    place({ type: 'STOP_LOSS', price: undefined, stopPrice: 100, quantity: 1, userId: 3 }); // #3: seq 5
    const events = place({ quantity: 1, timeInForce: 'IOC', ts: 9 }); // #4: seq 6 …
    expect(events.map((e) => `${e.seq} ${e.type}`)).toEqual([
      '6 accepted',
      '7 trade',
      '8 closed',
      '9 closed',
      '10 triggered',
      '11 trade',
      '12 closed',
      '13 closed',
      '14 depth',
    ]);
    expect(events[4]).toEqual({ type: 'triggered', market: 'T', seq: 10, ts: 9, orderId: 3, userId: 3 });
  });
});

describe('the amended event', () => {
  it('takes the next seq and carries the new price and quantity', () => {
    place({ side: 'SELL', price: 120, quantity: 5 }); // seq 1, 2
    const events = apply({ kind: 'amend', market: 'T', orderId: 1, userId: 1, newQuantity: 3, ts: 8 });
    expect(events[0]).toEqual({
      type: 'amended',
      market: 'T',
      seq: 3,
      ts: 8,
      orderId: 1,
      userId: 1,
      price: 120,
      quantity: 3,
      keptPriority: true,
      executedQty: 0,
      cumQuote: 0,
      onBook: true,
    });
    expect(events[1]).toMatchObject({ type: 'depth', seq: 4, asks: [[120, 3]] });
  });
  it('carries what the order has executed, and whether it rests (a waiting stop does not)', () => {
    place({ side: 'SELL', price: 120, quantity: 5 });
    place({ side: 'BUY', price: 120, quantity: 2, userId: 2 });
    const [partly] = apply({ kind: 'amend', market: 'T', orderId: 1, userId: 1, newQuantity: 4, ts: 8 });
    expect(partly).toMatchObject({ executedQty: 2, cumQuote: 240, onBook: true });
    expect(partly).not.toHaveProperty('pending');
    place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: 100, quantity: 5 });
    const [stop] = apply({ kind: 'amend', market: 'T', orderId: 3, userId: 1, newQuantity: 4, ts: 9 });
    expect(stop).toMatchObject({ type: 'amended', executedQty: 0, onBook: false });
  });
});
