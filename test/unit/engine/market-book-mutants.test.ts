// engine/core/market-book.ts, pinned where the hand-written order-type tests (order-types.test.ts) and the
// differential property test leave room: every validation rule at its exact bounds, the accepted event's
// defaults (time in force, quantities, STP mode), and what each refusal leaves unchanged.
import { MatchingEngine } from '@engine/core';
import type { Command, EngineEvent, MarketRules, PlaceCommand } from '@engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 10,
  maxPriceTicks: 100_000,
  minQtyLots: 2,
  maxQtyLots: 100_000,
  minNotional: 1_000,
  maxIcebergParts: 10,
};
/** 2^53 − 1 = 6361 × 69431 × 20394401: a price and a quantity whose product is exactly MAX_SAFE_INTEGER. */
const MAX_PRICE = 6_361 * 69_431;
const MAX_QTY = 20_394_401;
const wideRules: MarketRules = { ...rules, symbol: 'W', maxPriceTicks: MAX_PRICE, maxQtyLots: 1e9 };

let engine: MatchingEngine;
let nextId: number;
beforeEach(() => {
  engine = new MatchingEngine([rules, wideRules]);
  nextId = 1;
});

function apply(cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}

type Place = Partial<PlaceCommand> & Pick<PlaceCommand, 'side' | 'type'>;
function place(p: Place): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  return apply({ kind: 'place', market: 'T', orderId, userId: 1, clientOrderId: `c${orderId}`, ts: 5, ...p });
}
const limit = (over: Partial<PlaceCommand> = {}): Place => ({
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: 500,
  quantity: 4,
  ...over,
});
const outcome = (events: EngineEvent[]) =>
  events[0].type === 'rejected' ? events[0].reason : events[0].type;
/** The market's state without its seq: a refusal changes the seq only. */
const state = (symbol = 'T') => {
  const m = engine.snapshot().markets.find((x) => x.rules.symbol === symbol)!;
  return JSON.stringify({ ...m, seq: 0 });
};

describe('place validation at the bounds', () => {
  it.each<[string, Place, string]>([
    // ids
    ['order id 0', limit({ orderId: 0 }), 'DUPLICATE_ORDER_ID'],
    ['negative order id', limit({ orderId: -3 }), 'DUPLICATE_ORDER_ID'],
    ['fractional order id', limit({ orderId: 2.5 }), 'DUPLICATE_ORDER_ID'],
    ['order id past 2^53', limit({ orderId: 2 ** 53 }), 'DUPLICATE_ORDER_ID'],
    // price
    ['price one tick under the minimum', limit({ price: 9 }), 'INVALID_PRICE'],
    ['price one tick over the maximum', limit({ price: 100_001 }), 'INVALID_PRICE'],
    ['fractional price', limit({ price: 500.5 }), 'INVALID_PRICE'],
    ['no price on a LIMIT', limit({ price: undefined }), 'INVALID_PRICE'],
    [
      'no price on a STOP_LOSS_LIMIT',
      limit({ type: 'STOP_LOSS_LIMIT', price: undefined, stopPrice: 400 }),
      'INVALID_PRICE',
    ],
    [
      'no price on a TAKE_PROFIT_LIMIT',
      limit({ type: 'TAKE_PROFIT_LIMIT', price: undefined, stopPrice: 400 }),
      'INVALID_PRICE',
    ],
    [
      'no price on a LIMIT_MAKER',
      limit({ type: 'LIMIT_MAKER', timeInForce: undefined, price: undefined }),
      'INVALID_PRICE',
    ],
    // stop price
    ['no stop price', limit({ type: 'STOP_LOSS_LIMIT', stopPrice: undefined }), 'INVALID_STOP_PRICE'],
    ['stop price 0', limit({ type: 'STOP_LOSS_LIMIT', stopPrice: 0 }), 'INVALID_STOP_PRICE'],
    [
      'stop price under the minimum',
      limit({ type: 'TAKE_PROFIT_LIMIT', stopPrice: 9 }),
      'INVALID_STOP_PRICE',
    ],
    [
      'stop price over the maximum',
      limit({ type: 'STOP_LOSS_LIMIT', stopPrice: 100_001 }),
      'INVALID_STOP_PRICE',
    ],
    ['fractional stop price', limit({ type: 'STOP_LOSS_LIMIT', stopPrice: 400.5 }), 'INVALID_STOP_PRICE'],
    ['STOP_LOSS with no stop price', { side: 'SELL', type: 'STOP_LOSS', quantity: 4 }, 'INVALID_STOP_PRICE'],
    [
      'TAKE_PROFIT with no stop price',
      { side: 'SELL', type: 'TAKE_PROFIT', quantity: 4 },
      'INVALID_STOP_PRICE',
    ],
    // quantity
    ['quantity one lot under the minimum', limit({ quantity: 1, price: 1_000 }), 'INVALID_QUANTITY'],
    ['quantity one lot over the maximum', limit({ quantity: 100_001, price: 10 }), 'INVALID_QUANTITY'],
    ['no quantity at all', limit({ quantity: undefined }), 'INVALID_QUANTITY'],
    [
      'quantity and a quote amount',
      limit({ type: 'MARKET', timeInForce: undefined, price: undefined, quoteQuantity: 5_000 }),
      'INVALID_QUANTITY',
    ],
    ['a quote amount on a LIMIT', limit({ quantity: undefined, quoteQuantity: 5_000 }), 'INVALID_QUANTITY'],
    [
      'a quote amount on a LIMIT_MAKER',
      limit({ type: 'LIMIT_MAKER', timeInForce: undefined, quantity: undefined, quoteQuantity: 5_000 }),
      'INVALID_QUANTITY',
    ],
    ['quote amount 0', { side: 'BUY', type: 'MARKET', quoteQuantity: 0 }, 'INVALID_QUANTITY'],
    ['fractional quote amount', { side: 'BUY', type: 'MARKET', quoteQuantity: 1_500.5 }, 'INVALID_QUANTITY'],
    ['negative quote amount', { side: 'BUY', type: 'MARKET', quoteQuantity: -5_000 }, 'INVALID_QUANTITY'],
    // notional
    ['notional one under the minimum', limit({ price: 333, quantity: 3 }), 'MIN_NOTIONAL'],
    [
      'quote amount one under the minimum',
      { side: 'BUY', type: 'MARKET', quoteQuantity: 999 },
      'MIN_NOTIONAL',
    ],
    // time in force
    [
      'time in force on a STOP_LOSS',
      { side: 'SELL', type: 'STOP_LOSS', quantity: 4, stopPrice: 400, timeInForce: 'GTC' },
      'INVALID_TIME_IN_FORCE',
    ],
    [
      'time in force on a TAKE_PROFIT',
      { side: 'SELL', type: 'TAKE_PROFIT', quantity: 4, stopPrice: 600, timeInForce: 'IOC' },
      'INVALID_TIME_IN_FORCE',
    ],
    [
      'time in force on a MARKET by quote',
      { side: 'BUY', type: 'MARKET', quoteQuantity: 5_000, timeInForce: 'FOK' },
      'INVALID_TIME_IN_FORCE',
    ],
    // iceberg
    ['iceberg slice equal to the quantity', limit({ quantity: 10, icebergQuantity: 10 }), 'INVALID_ICEBERG'],
    ['iceberg slice 0', limit({ quantity: 10, icebergQuantity: 0 }), 'INVALID_ICEBERG'],
    ['fractional iceberg slice', limit({ quantity: 10, icebergQuantity: 2.5 }), 'INVALID_ICEBERG'],
    ['iceberg of 12 parts (ceil(100 / 9))', limit({ quantity: 100, icebergQuantity: 9 }), 'INVALID_ICEBERG'],
    ['iceberg on FOK', limit({ timeInForce: 'FOK', quantity: 10, icebergQuantity: 5 }), 'INVALID_ICEBERG'],
    [
      'iceberg on a STOP_LOSS_LIMIT that is not GTC',
      limit({
        type: 'STOP_LOSS_LIMIT',
        stopPrice: 400,
        timeInForce: 'IOC',
        quantity: 10,
        icebergQuantity: 5,
      }),
      'INVALID_ICEBERG',
    ],
    [
      'iceberg on a MARKET',
      { side: 'BUY', type: 'MARKET', quantity: 10, icebergQuantity: 5 },
      'INVALID_ICEBERG',
    ],
    [
      'iceberg on a MARKET by quote',
      { side: 'BUY', type: 'MARKET', quoteQuantity: 5_000, icebergQuantity: 5 },
      'INVALID_ICEBERG',
    ],
  ])('%s → %s, nothing but the seq changes', (_name, p, reason) => {
    place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: 600, quantity: 5, userId: 2 });
    const before = state();
    const events = place(p);
    expect(events).toEqual([expect.objectContaining({ type: 'rejected', command: 'place', reason })]);
    expect(state()).toBe(before);
  });

  it.each<[string, Place]>([
    ['price at the minimum', limit({ price: 10, quantity: 100 })],
    ['price at the maximum', limit({ price: 100_000, quantity: 2, side: 'SELL' })],
    ['quantity at the minimum', limit({ quantity: 2 })],
    ['quantity at the maximum', limit({ quantity: 100_000, price: 10 })],
    ['notional exactly the minimum', limit({ price: 250, quantity: 4 })],
    ['quote amount exactly the minimum', { side: 'BUY', type: 'MARKET', quoteQuantity: 1_000 }],
    ['stop price at the minimum', limit({ type: 'STOP_LOSS_LIMIT', side: 'SELL', stopPrice: 10 })],
    ['stop price at the maximum', limit({ type: 'STOP_LOSS_LIMIT', stopPrice: 100_000 })],
    ['STOP_LOSS by quantity', { side: 'SELL', type: 'STOP_LOSS', quantity: 4, stopPrice: 400 }],
    [
      'TAKE_PROFIT by quote amount',
      { side: 'BUY', type: 'TAKE_PROFIT', quoteQuantity: 2_000, stopPrice: 400 },
    ],
    ['iceberg one lot under the quantity', limit({ quantity: 10, icebergQuantity: 9 })],
    ['iceberg of exactly maxIcebergParts parts', limit({ quantity: 100, icebergQuantity: 10 })],
    [
      'iceberg on a LIMIT with no time in force',
      limit({ timeInForce: undefined, quantity: 10, icebergQuantity: 5 }),
    ],
    [
      'iceberg on a LIMIT_MAKER',
      limit({ type: 'LIMIT_MAKER', timeInForce: undefined, quantity: 10, icebergQuantity: 5 }),
    ],
    [
      'a LIMIT_MAKER with a time in force (ignored: it rests GTC)',
      limit({ type: 'LIMIT_MAKER', timeInForce: 'IOC' }),
    ],
    [
      'a LIMIT_MAKER one tick inside the spread',
      limit({ type: 'LIMIT_MAKER', timeInForce: undefined, price: 599 }),
    ],
  ])('%s: accepted', (_name, p) => {
    place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: 600, quantity: 5, userId: 2 });
    place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 20, quantity: 50, userId: 2 });
    expect(outcome(place(p))).toBe('accepted');
  });

  it('LIMIT_MAKER at or through the best opposite price would take: WOULD_TAKE, on either side', () => {
    place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: 600, quantity: 5, userId: 2 });
    place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 400, quantity: 5, userId: 2 });
    const maker = (side: 'BUY' | 'SELL', price: number) =>
      outcome(place(limit({ type: 'LIMIT_MAKER', side, timeInForce: undefined, price })));
    expect(maker('BUY', 600)).toBe('WOULD_TAKE');
    expect(maker('BUY', 601)).toBe('WOULD_TAKE');
    expect(maker('BUY', 599)).toBe('accepted'); // now the best bid
    expect(maker('SELL', 599)).toBe('WOULD_TAKE');
    expect(maker('SELL', 598)).toBe('WOULD_TAKE');
    expect(maker('SELL', 600)).toBe('accepted');
    expect(engine.depth('T', 5)).toMatchObject({
      bids: [
        [599, 4],
        [400, 5],
      ],
      asks: [[600, 9]],
    });
  });

  it('LIMIT_MAKER on an empty opposite side rests at any price', () => {
    expect(outcome(place(limit({ type: 'LIMIT_MAKER', timeInForce: undefined, price: 100_000 })))).toBe(
      'accepted',
    );
    expect(
      outcome(
        place(limit({ type: 'LIMIT_MAKER', side: 'SELL', timeInForce: undefined, price: 10, quantity: 100 })),
      ),
    ).toBe('WOULD_TAKE');
  });

  describe('overflow: a notional must stay within 2^53 − 1', () => {
    const wide = (p: Place) => place({ market: 'W', ...p });
    it('a LIMIT of exactly 2^53 − 1 is accepted; one lot more overflows', () => {
      expect(outcome(wide(limit({ price: MAX_PRICE, quantity: MAX_QTY, side: 'SELL' })))).toBe('accepted');
      expect(outcome(wide(limit({ price: MAX_PRICE, quantity: MAX_QTY + 1, side: 'SELL' })))).toBe(
        'OVERFLOW',
      );
    });
    it('a MARKET by quantity is bounded by the maximum price: exactly 2^53 − 1 passes, one lot more overflows', () => {
      expect(outcome(wide({ side: 'BUY', type: 'MARKET', quantity: MAX_QTY }))).toBe('accepted');
      expect(outcome(wide({ side: 'BUY', type: 'MARKET', quantity: MAX_QTY + 1 }))).toBe('OVERFLOW');
      expect(outcome(wide({ side: 'SELL', type: 'STOP_LOSS', quantity: MAX_QTY + 1, stopPrice: 400 }))).toBe(
        'OVERFLOW',
      );
    });
  });
});

describe('the accepted event: defaults filled in', () => {
  const accepted = (p: Place) => place(p)[0];
  it.each<[string, Place, Record<string, unknown>]>([
    [
      'LIMIT with no time in force rests GTC',
      limit({ timeInForce: undefined }),
      { timeInForce: 'GTC', price: 500, quantity: 4 },
    ],
    ['LIMIT IOC', limit({ timeInForce: 'IOC' }), { timeInForce: 'IOC' }],
    [
      'LIMIT_MAKER is GTC whatever it asks',
      limit({ type: 'LIMIT_MAKER', timeInForce: 'FOK' }),
      { timeInForce: 'GTC' },
    ],
    [
      'MARKET is IOC, price 0',
      { side: 'BUY', type: 'MARKET', quantity: 4 },
      { timeInForce: 'IOC', price: 0, quantity: 4, quoteQuantity: 0, stopPrice: 0 },
    ],
    [
      'MARKET by quote: quantity 0',
      { side: 'BUY', type: 'MARKET', quoteQuantity: 5_000 },
      { timeInForce: 'IOC', quantity: 0, quoteQuantity: 5_000 },
    ],
    [
      'STOP_LOSS is IOC with its stop price and no limit',
      { side: 'SELL', type: 'STOP_LOSS', quantity: 4, stopPrice: 400, price: 450 },
      { timeInForce: 'IOC', price: 0, stopPrice: 400 },
    ],
    [
      'TAKE_PROFIT',
      { side: 'SELL', type: 'TAKE_PROFIT', quantity: 4, stopPrice: 600 },
      { timeInForce: 'IOC', stopPrice: 600 },
    ],
    [
      'STOP_LOSS_LIMIT keeps its time in force',
      limit({ type: 'STOP_LOSS_LIMIT', timeInForce: 'FOK', stopPrice: 600 }),
      { timeInForce: 'FOK', price: 500, stopPrice: 600 },
    ],
    [
      'TAKE_PROFIT_LIMIT with no time in force is GTC',
      limit({ type: 'TAKE_PROFIT_LIMIT', timeInForce: undefined, stopPrice: 400 }),
      { timeInForce: 'GTC', price: 500, stopPrice: 400 },
    ],
    ['LIMIT: no stop price even if one is sent', limit({ stopPrice: 450 }), { stopPrice: 0 }],
  ])('%s', (_name, p, fields) => {
    const e = accepted(p);
    expect(e).toEqual({
      type: 'accepted',
      market: 'T',
      seq: 1,
      ts: 5,
      orderId: 1,
      userId: 1,
      clientOrderId: 'c1',
      side: p.side,
      orderType: p.type,
      timeInForce: expect.any(String),
      price: expect.any(Number),
      quantity: expect.any(Number),
      quoteQuantity: 0,
      stopPrice: 0,
      icebergQuantity: 0,
      stpMode: 'NONE',
      ...fields,
    });
  });

  it('carries the iceberg slice and the STP mode it was given', () => {
    expect(accepted(limit({ quantity: 10, icebergQuantity: 3, stpMode: 'EXPIRE_BOTH' }))).toMatchObject({
      icebergQuantity: 3,
      stpMode: 'EXPIRE_BOTH',
    });
  });

  it('a LIMIT with no time in force rests on the book (GTC)', () => {
    const events = place(limit({ timeInForce: undefined }));
    expect(events.map((e) => e.type)).toEqual(['accepted', 'depth']);
    expect(engine.depth('T', 5).bids).toEqual([[500, 4]]);
  });
});

/** Events in short form: enough to tell every reason, quantity and level apart. */
function brief(events: EngineEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'accepted':
        return `accepted #${e.orderId}`;
      case 'rejected':
        return `rejected ${e.command} #${e.orderId} ${e.reason}`;
      case 'trade':
        return `trade ${e.quantity}@${e.price} maker #${e.makerOrderId} taker #${e.takerOrderId}`;
      case 'closed':
        return `closed #${e.orderId} ${e.reason} exec ${e.executedQty} quote ${e.cumQuote}`;
      case 'triggered':
        return `triggered #${e.orderId}`;
      case 'amended':
        return `amended #${e.orderId} ${e.quantity}@${e.price} ${e.keptPriority ? 'kept' : 'lost'}`;
      case 'depth':
        return `depth ${e.U}-${e.u} bids ${JSON.stringify(e.bids)} asks ${JSON.stringify(e.asks)}`;
      case 'prevented':
        return `prevented #${e.preventedMatchId} taker #${e.takerOrderId} maker #${e.makerOrderId} ${e.stpMode}`;
      case 'activated':
        return `activated #${e.orderId}`;
      case 'listStatus':
        return `list ${e.listId} ${e.listStatusType} ${e.listOrderStatus}`;
    }
  });
}
const sell = (price: number, quantity: number, over: Partial<PlaceCommand> = {}) =>
  place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price, quantity, userId: 2, ...over });
const buy = (price: number, quantity: number, over: Partial<PlaceCommand> = {}) =>
  place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price, quantity, userId: 2, ...over });
const amend = (orderId: number, over: { newQuantity?: number; newPrice?: number; userId?: number }) =>
  apply({ kind: 'amend', market: 'T', orderId, userId: 2, ts: 6, ...over });

describe('amend validation', () => {
  it.each<[string, { newQuantity?: number; newPrice?: number }]>([
    ['neither quantity nor price', {}],
    ['quantity 0', { newQuantity: 0 }],
    ['fractional quantity', { newQuantity: 2.5 }],
    ['quantity over the maximum', { newQuantity: 100_001 }],
    ['quantity at what is already executed', { newQuantity: 3 }],
    ['quantity under what is already executed', { newQuantity: 2 }],
    ['price 0', { newPrice: 0 }],
    ['fractional price', { newPrice: 500.5 }],
    ['price one tick under the minimum', { newPrice: 9 }],
    ['price one tick over the maximum', { newPrice: 100_001 }],
    ['iceberg slice no longer below the quantity', { newQuantity: 5 }],
    ['iceberg slice above the quantity', { newQuantity: 4 }],
  ])('%s → INVALID_AMEND, nothing but the seq changes', (_name, change) => {
    // #1: an iceberg of 10, slice 5, 3 lots executed.
    buy(500, 10, { icebergQuantity: 5 });
    sell(500, 3, { userId: 3 });
    const before = state();
    expect(brief(amend(1, change))).toEqual(['rejected amend #1 INVALID_AMEND']);
    expect(state()).toBe(before);
  });

  it('the iceberg and executed bounds are exclusive: one lot above both is accepted', () => {
    buy(500, 10, { icebergQuantity: 5 });
    sell(500, 3, { userId: 3 });
    expect(brief(amend(1, { newQuantity: 6 }))[0]).toBe('amended #1 6@500 kept');
    expect(engine.getOrder(1)).toMatchObject({ quantity: 6, executed: 3, visible: 2 });
    expect(engine.depth('T', 5).bids).toEqual([[500, 2]]);
  });

  it('a stop waiting for its trigger takes a lower quantity, never a new price (it is not on the book)', () => {
    place({
      side: 'BUY',
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'GTC',
      price: 500,
      stopPrice: 600,
      quantity: 4,
      userId: 2,
    });
    const before = state();
    expect(brief(amend(1, { newPrice: 510 }))).toEqual(['rejected amend #1 INVALID_AMEND']);
    expect(brief(amend(1, { newQuantity: 5 }))).toEqual(['rejected amend #1 INVALID_AMEND']);
    expect(state()).toBe(before);
    expect(amend(1, { newQuantity: 3 })).toMatchObject([
      { type: 'amended', orderId: 1, price: 500, quantity: 3, keptPriority: true },
    ]);
    // Triggered later, it rests with the lower quantity.
    const snap = engine.snapshot().markets.find((x) => x.rules.symbol === 'T')!;
    expect(JSON.stringify(snap.stops)).toContain('3');
  });

  it('an amend whose notional would pass 2^53 − 1 is refused; exactly 2^53 − 1 is accepted', () => {
    place({
      market: 'W',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: MAX_PRICE,
      quantity: 2,
      userId: 2,
    });
    const amendW = (newQuantity: number) =>
      apply({ kind: 'amend', market: 'W', orderId: 1, userId: 2, newQuantity, ts: 6 });
    expect(brief(amendW(MAX_QTY + 1))).toEqual(['rejected amend #1 INVALID_AMEND']);
    expect(brief(amendW(MAX_QTY))[0]).toBe(`amended #1 ${MAX_QTY}@${MAX_PRICE} lost`);
  });

  it('a LIMIT_MAKER may not be amended to a price at or through the best opposite price', () => {
    sell(600, 5, { userId: 3 });
    place({ side: 'BUY', type: 'LIMIT_MAKER', price: 500, quantity: 4, userId: 2 });
    expect(brief(amend(2, { newPrice: 600 }))).toEqual(['rejected amend #2 INVALID_AMEND']);
    expect(brief(amend(2, { newPrice: 599 }))[0]).toBe('amended #2 4@599 lost');
    // A plain LIMIT may: it trades.
    buy(400, 4);
    expect(brief(amend(3, { newPrice: 600 }))).toEqual([
      'amended #3 4@600 lost',
      'trade 4@600 maker #1 taker #3',
      'closed #3 FILLED exec 4 quote 2400',
      'depth 6-7 bids [[400,0]] asks [[600,1]]',
    ]);
  });
});

describe('MARKET orders: how they end', () => {
  it('by quantity on an empty book: NO_LIQUIDITY; on a book it empties: IOC with what it got', () => {
    expect(brief(place({ side: 'BUY', type: 'MARKET', quantity: 4 }))).toEqual([
      'accepted #1',
      'closed #1 NO_LIQUIDITY exec 0 quote 0',
    ]);
    sell(600, 3);
    expect(brief(place({ side: 'BUY', type: 'MARKET', quantity: 4 }))).toEqual([
      'accepted #3',
      'trade 3@600 maker #2 taker #3',
      'closed #2 FILLED exec 3 quote 1800',
      'closed #3 IOC exec 3 quote 1800',
      'depth 2-2 bids [] asks [[600,0]]',
    ]);
  });

  it('by quote amount on an empty book: NO_LIQUIDITY; on a book it empties: IOC', () => {
    expect(brief(place({ side: 'BUY', type: 'MARKET', quoteQuantity: 5_000 }))).toEqual([
      'accepted #1',
      'closed #1 NO_LIQUIDITY exec 0 quote 0',
    ]);
    sell(600, 3);
    expect(brief(place({ side: 'BUY', type: 'MARKET', quoteQuantity: 5_000 }))).toEqual([
      'accepted #3',
      'trade 3@600 maker #2 taker #3',
      'closed #2 FILLED exec 3 quote 1800',
      'closed #3 IOC exec 3 quote 1800',
      'depth 2-2 bids [] asks [[600,0]]',
    ]);
  });

  it('by quote amount: FILLED once what is left cannot buy one lot at the next level', () => {
    sell(600, 2);
    sell(700, 5);
    // 1,200 buys both lots at 600; the 650 left cannot buy a lot at 700.
    expect(brief(place({ side: 'BUY', type: 'MARKET', quoteQuantity: 1_850 }))).toEqual([
      'accepted #3',
      'trade 2@600 maker #1 taker #3',
      'closed #1 FILLED exec 2 quote 1200',
      'closed #3 FILLED exec 2 quote 1200',
      'depth 3-3 bids [] asks [[600,0]]',
    ]);
  });

  it('by quote amount too small for one lot at the best price: IOC, no trade of 0 lots', () => {
    sell(1_500, 5);
    expect(brief(place({ side: 'BUY', type: 'MARKET', quoteQuantity: 1_000 }))).toEqual([
      'accepted #2',
      'closed #2 IOC exec 0 quote 0',
    ]);
    expect(engine.depth('T', 5).asks).toEqual([[1_500, 5]]);
  });
});

describe('FOK: the pre-check', () => {
  it('counts only levels within the limit', () => {
    sell(500, 2);
    sell(501, 5);
    expect(brief(place(limit({ timeInForce: 'FOK', price: 500, quantity: 3 })))).toEqual([
      'accepted #3',
      'closed #3 FOK exec 0 quote 0',
    ]);
    expect(brief(place(limit({ timeInForce: 'FOK', price: 501, quantity: 7 }))).slice(-2)).toEqual([
      'closed #4 FILLED exec 7 quote 3505',
      'depth 3-4 bids [] asks [[500,0],[501,0]]',
    ]);
  });

  it('for a SELL: counts only bids at or above the limit', () => {
    buy(501, 2);
    buy(500, 5);
    expect(brief(place(limit({ side: 'SELL', timeInForce: 'FOK', price: 501, quantity: 3 })))).toEqual([
      'accepted #3',
      'closed #3 FOK exec 0 quote 0',
    ]);
    expect(
      brief(place(limit({ side: 'SELL', timeInForce: 'FOK', price: 500, quantity: 7 }))).slice(-2),
    ).toEqual(['closed #4 FILLED exec 7 quote 3502', 'depth 3-4 bids [[501,0],[500,0]] asks []']);
  });

  it('fills when the book holds exactly the quantity', () => {
    sell(500, 2);
    sell(500, 2);
    expect(brief(place(limit({ timeInForce: 'FOK', price: 500, quantity: 4 }))).at(-2)).toBe(
      'closed #3 FILLED exec 4 quote 2000',
    );
  });

  it('without STP, the taker’s own orders count like any other', () => {
    sell(500, 4, { userId: 1 });
    expect(brief(place(limit({ timeInForce: 'FOK', price: 500, quantity: 4 }))).at(-2)).toBe(
      'closed #2 FILLED exec 4 quote 2000',
    );
  });

  it('EXPIRE_MAKER: own orders do not count, but the others behind them do', () => {
    sell(500, 4, { userId: 1 }); // own
    sell(500, 3); // other
    sell(501, 2); // other
    expect(
      brief(place(limit({ timeInForce: 'FOK', price: 501, quantity: 6, stpMode: 'EXPIRE_MAKER' }))),
    ).toEqual(['accepted #4', 'closed #4 FOK exec 0 quote 0']);
    expect(
      brief(place(limit({ timeInForce: 'FOK', price: 501, quantity: 5, stpMode: 'EXPIRE_MAKER' }))),
    ).toEqual([
      'accepted #5',
      'prevented #1 taker #5 maker #1 EXPIRE_MAKER',
      'closed #1 STP_MAKER exec 0 quote 0',
      'trade 3@500 maker #2 taker #5',
      'closed #2 FILLED exec 3 quote 1500',
      'trade 2@501 maker #3 taker #5',
      'closed #3 FILLED exec 2 quote 1002',
      'closed #5 FILLED exec 5 quote 2502',
      'depth 4-5 bids [] asks [[500,0],[501,0]]',
    ]);
  });

  it('EXPIRE_TAKER and EXPIRE_BOTH: an own order in the way makes it unfillable, nothing is cancelled', () => {
    sell(500, 3);
    sell(500, 4, { userId: 1 }); // own, behind
    for (const stpMode of ['EXPIRE_TAKER', 'EXPIRE_BOTH'] as const) {
      const events = place(limit({ timeInForce: 'FOK', price: 500, quantity: 5, stpMode }));
      expect(brief(events).slice(1)).toEqual([
        `closed #${(events[0] as { orderId: number }).orderId} FOK exec 0 quote 0`,
      ]);
    }
    expect(engine.depth('T', 5).asks).toEqual([[500, 7]]);
  });
});

describe('stops: every pending stop is checked, oldest first', () => {
  it('a later stop fires even when earlier ones do not hold', () => {
    sell(500, 2);
    sell(510, 5);
    place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 900, quantity: 2, userId: 3 }); // #3: far above
    place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: 100, quantity: 2, userId: 3 }); // #4: far below
    place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 500, quantity: 2, userId: 3 }); // #5: fires at 500
    expect(brief(place(limit({ price: 500, quantity: 2 })))).toEqual([
      'accepted #6',
      'trade 2@500 maker #1 taker #6',
      'closed #1 FILLED exec 2 quote 1000',
      'closed #6 FILLED exec 2 quote 1000',
      'triggered #5',
      'trade 2@510 maker #2 taker #5',
      'closed #5 FILLED exec 2 quote 1020',
      'depth 3-4 bids [] asks [[500,0],[510,3]]',
    ]);
    expect(engine.snapshot().markets[0].stops.map((t) => t[0])).toEqual([3, 4]);
  });
});

describe('depth events list levels best first, whatever order the command touched them in', () => {
  it('two levels: an amend that moves a bid up or an ask down', () => {
    buy(400, 5);
    sell(600, 5);
    expect(brief(amend(1, { newPrice: 450 })).at(-1)).toBe('depth 3-4 bids [[450,5],[400,0]] asks []');
    expect(brief(amend(2, { newPrice: 550 })).at(-1)).toBe('depth 5-6 bids [] asks [[550,5],[600,0]]');
    // …and the other way: the touched order is already best first.
    expect(brief(amend(1, { newPrice: 420 })).at(-1)).toBe('depth 7-8 bids [[450,0],[420,5]] asks []');
    expect(brief(amend(2, { newPrice: 580 })).at(-1)).toBe('depth 9-10 bids [] asks [[550,0],[580,5]]');
  });

  it('three levels: a sweep that triggers a stop resting on the far side of the swept levels', () => {
    buy(1_020, 2);
    buy(1_010, 2);
    // BUY take-profit: fires on a fall to 1010, rests at 1030 (no asks).
    place({
      side: 'BUY',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: 1_030,
      stopPrice: 1_010,
      quantity: 2,
      userId: 3,
    });
    const bids = brief(place(limit({ side: 'SELL', price: 1_010, quantity: 4 }))).at(-1);
    expect(bids).toBe('depth 3-5 bids [[1030,2],[1020,0],[1010,0]] asks []');

    sell(2_000, 2);
    sell(2_010, 2);
    // SELL take-profit: fires on a rise to 2010, rests at 1990 (the bid at 1030 is below it).
    place({
      side: 'SELL',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: 1_990,
      stopPrice: 2_010,
      quantity: 2,
      userId: 3,
    });
    const asks = brief(place(limit({ price: 2_010, quantity: 4 }))).at(-1);
    expect(asks).toBe('depth 8-10 bids [] asks [[1990,2],[2000,0],[2010,0]]');
  });
});
