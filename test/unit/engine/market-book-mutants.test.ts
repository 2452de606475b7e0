// engine/core/market-book.ts, pinned where the hand-written order-type tests (order-types.test.ts) and the
// differential property test leave room: every validation rule at its exact bounds, the accepted event's
// defaults (time in force, quantities, STP mode), and what each refusal leaves unchanged.
import { MatchingEngine } from '../../../engine/core';
import type { Command, EngineEvent, MarketRules, PlaceCommand } from '../../../engine/core/types';

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
      'iceberg on a STOP_LOSS_LIMIT',
      limit({ type: 'STOP_LOSS_LIMIT', stopPrice: 400, quantity: 10, icebergQuantity: 5 }),
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
