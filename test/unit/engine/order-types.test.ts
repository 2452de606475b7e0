// Hand-written expectations for each order type, STP mode and command of the engine core.
import { MatchingEngine } from '@engine/core';
import type { Command, EngineEvent, MarketRules, PlaceCommand } from '@engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 10,
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

function place(p: Partial<PlaceCommand> & Pick<PlaceCommand, 'side' | 'type'>): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  return apply({ kind: 'place', market: 'T', orderId, userId: 1, clientOrderId: `c${orderId}`, ts: 5, ...p });
}

/** Events without the bulky fields, to keep expectations readable. */
function brief(events: EngineEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'accepted':
        return `accepted #${e.orderId}`;
      case 'rejected':
        return `rejected #${e.orderId} ${e.reason}`;
      case 'trade':
        return `trade ${e.quantity}@${e.price} maker #${e.makerOrderId} taker #${e.takerOrderId}`;
      case 'closed':
        return `closed #${e.orderId} ${e.reason} exec ${e.executedQty}`;
      case 'triggered':
        return `triggered #${e.orderId}`;
      case 'amended':
        return `amended #${e.orderId} ${e.quantity}@${e.price} ${e.keptPriority ? 'kept' : 'lost'} priority`;
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

const sell = (price: number, quantity: number, extra: Partial<PlaceCommand> = {}) =>
  place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price, quantity, userId: 2, ...extra });

describe('LIMIT', () => {
  it('GTC rests, then trades at the maker price in time priority, remainder rests', () => {
    expect(brief(sell(100, 5))).toEqual(['accepted #1', 'depth 1-1 bids [] asks [[100,5]]']);
    sell(100, 5);
    const events = place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 101, quantity: 12 });
    expect(brief(events)).toEqual([
      'accepted #3',
      'trade 5@100 maker #1 taker #3',
      'closed #1 FILLED exec 5',
      'trade 5@100 maker #2 taker #3',
      'closed #2 FILLED exec 5',
      'depth 3-4 bids [[101,2]] asks [[100,0]]',
    ]);
    expect(events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(engine.depth('T', 10)).toEqual({ lastUpdateId: 4, bids: [[101, 2]], asks: [] });
  });

  it('IOC expires its remainder; FOK trades all or nothing', () => {
    sell(100, 5);
    expect(brief(place({ side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', price: 100, quantity: 6 }))).toEqual(
      ['accepted #2', 'closed #2 FOK exec 0'],
    );
    expect(brief(place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: 100, quantity: 6 }))).toEqual(
      [
        'accepted #3',
        'trade 5@100 maker #1 taker #3',
        'closed #1 FILLED exec 5',
        'closed #3 IOC exec 5',
        'depth 2-2 bids [] asks [[100,0]]',
      ],
    );
  });
});

describe('MARKET', () => {
  it('by base quantity sweeps levels; with an empty book it expires with NO_LIQUIDITY', () => {
    expect(brief(place({ side: 'BUY', type: 'MARKET', quantity: 3 }))).toEqual([
      'accepted #1',
      'closed #1 NO_LIQUIDITY exec 0',
    ]);
    sell(100, 2);
    sell(102, 2);
    const events = place({ side: 'BUY', type: 'MARKET', quantity: 3 });
    expect(brief(events)).toEqual([
      'accepted #4',
      'trade 2@100 maker #2 taker #4',
      'closed #2 FILLED exec 2',
      'trade 1@102 maker #3 taker #4',
      'closed #4 FILLED exec 3',
      'depth 3-4 bids [] asks [[100,0],[102,1]]',
    ]);
    expect(events[4]).toMatchObject({ cumQuote: 302 });
  });

  it('by quote amount spends what it can in whole lots', () => {
    sell(100, 2);
    sell(150, 5);
    // 500 quote: 2 lots at 100 (200), then floor(300 / 150) = 2 lots at 150.
    expect(brief(place({ side: 'BUY', type: 'MARKET', quoteQuantity: 500 }))).toEqual([
      'accepted #3',
      'trade 2@100 maker #1 taker #3',
      'closed #1 FILLED exec 2',
      'trade 2@150 maker #2 taker #3',
      'closed #3 FILLED exec 4',
      'depth 3-4 bids [] asks [[100,0],[150,3]]',
    ]);
  });
});

describe('LIMIT_MAKER', () => {
  it('is rejected when it would take, rests otherwise', () => {
    sell(100, 5);
    const before = engine.snapshot().markets[0];
    expect(before.seq).toBe(2);
    expect(brief(place({ side: 'BUY', type: 'LIMIT_MAKER', price: 100, quantity: 1 }))).toEqual([
      'rejected #2 WOULD_TAKE',
    ]);
    // Only the seq moved: the rejection is event 3; the book, stops, counters and id memory are as before
    // (the refused id 2 is not remembered: a later place may still take it).
    expect(engine.snapshot().markets[0]).toEqual({ ...before, seq: 3 });
    expect(before.bids).toEqual([]);
    expect(before.asks.map((o) => [o[0], o[6], o[7]])).toEqual([[1, 100, 5]]);
    expect(brief(place({ side: 'BUY', type: 'LIMIT_MAKER', price: 99, quantity: 1 }))).toEqual([
      'accepted #3',
      'depth 2-2 bids [[99,1]] asks []',
    ]);
  });
});

describe('stop orders', () => {
  it('trigger on the last trade price in placement order, and cascade', () => {
    sell(100, 1);
    sell(110, 1);
    sell(120, 1);
    // Two buy stops above the market; the first (stop 100) fires on a trade at 100, its fill at 110 fires the second.
    place({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 100, quantity: 1, userId: 3 });
    place({
      side: 'BUY',
      type: 'STOP_LOSS_LIMIT',
      stopPrice: 105,
      price: 125,
      timeInForce: 'GTC',
      quantity: 1,
      userId: 3,
    });
    const events = place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 100, quantity: 1 });
    expect(brief(events)).toEqual([
      'accepted #6',
      'trade 1@100 maker #1 taker #6',
      'closed #1 FILLED exec 1',
      'closed #6 FILLED exec 1',
      'triggered #4',
      'trade 1@110 maker #2 taker #4',
      'closed #2 FILLED exec 1',
      'closed #4 FILLED exec 1',
      'triggered #5',
      'trade 1@120 maker #3 taker #5',
      'closed #3 FILLED exec 1',
      'closed #5 FILLED exec 1',
      'depth 4-6 bids [] asks [[100,0],[110,0],[120,0]]',
    ]);
  });

  it('is refused when it would trigger immediately', () => {
    sell(100, 1);
    place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 100, quantity: 1 });
    expect(brief(place({ side: 'SELL', type: 'STOP_LOSS', stopPrice: 101, quantity: 1 }))).toEqual([
      'rejected #3 INVALID_STOP_PRICE',
    ]);
  });
});

describe('iceberg', () => {
  it('shows one slice; a consumed slice is refreshed at the back of its level', () => {
    sell(100, 10, { icebergQuantity: 4 }); // #1 shows 4 of 10
    sell(100, 3); // #2 behind it
    expect(engine.depth('T', 5).asks).toEqual([[100, 7]]);
    const events = place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: 100, quantity: 6 });
    // 4 from #1's slice, then #2 (now ahead of #1's refreshed slice) gives 2.
    expect(brief(events)).toEqual([
      'accepted #3',
      'trade 4@100 maker #1 taker #3',
      'trade 2@100 maker #2 taker #3',
      'closed #3 FILLED exec 6',
      'depth 3-3 bids [] asks [[100,5]]',
    ]);
  });

  it('a GTC STOP_LOSS_LIMIT iceberg (Binance allows it) rests showing one slice once triggered', () => {
    sell(100, 1); // #1: what the trigger trade takes
    place({
      side: 'BUY',
      type: 'STOP_LOSS_LIMIT',
      stopPrice: 100,
      price: 90,
      timeInForce: 'GTC',
      quantity: 10,
      icebergQuantity: 4,
      userId: 3,
    }); // #2
    expect(engine.depth('T', 5).bids).toEqual([]);
    place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 100, quantity: 1 }); // #3 trades at 100
    expect(engine.depth('T', 5).bids).toEqual([[90, 4]]);
    // A taker of 5 takes the slice of 4, then 1 of the refreshed slice: 3 of it still show.
    place({ side: 'SELL', type: 'LIMIT', timeInForce: 'IOC', price: 90, quantity: 5, userId: 4 });
    expect(engine.depth('T', 5).bids).toEqual([[90, 3]]);
    expect(engine.getOrder(2)).toMatchObject({ quantity: 10, executed: 5 });
  });

  it('is refused on a STOP_LOSS_LIMIT that is not GTC', () => {
    expect(
      brief(
        place({
          side: 'BUY',
          type: 'STOP_LOSS_LIMIT',
          stopPrice: 100,
          price: 90,
          timeInForce: 'IOC',
          quantity: 10,
          icebergQuantity: 4,
        }),
      ),
    ).toEqual(['rejected #1 INVALID_ICEBERG']);
  });
});

describe('self-trade prevention', () => {
  const own = () => sell(100, 5, { userId: 1 });
  it('NONE trades with itself', () => {
    own();
    expect(brief(place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: 100, quantity: 1 }))[1]).toBe(
      'trade 1@100 maker #1 taker #2',
    );
  });
  it('EXPIRE_TAKER expires the taker, the maker stays', () => {
    own();
    expect(
      brief(
        place({
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 100,
          quantity: 1,
          stpMode: 'EXPIRE_TAKER',
        }),
      ),
    ).toEqual(['accepted #2', 'prevented #1 taker #2 maker #1 EXPIRE_TAKER', 'closed #2 STP_TAKER exec 0']);
  });
  it('EXPIRE_MAKER expires the own maker and keeps matching', () => {
    own();
    sell(100, 5, { userId: 9 });
    expect(
      brief(
        place({
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 100,
          quantity: 2,
          stpMode: 'EXPIRE_MAKER',
        }),
      ),
    ).toEqual([
      'accepted #3',
      'prevented #1 taker #3 maker #1 EXPIRE_MAKER',
      'closed #1 STP_MAKER exec 0',
      'trade 2@100 maker #2 taker #3',
      'closed #3 FILLED exec 2',
      'depth 3-3 bids [] asks [[100,3]]',
    ]);
  });
  it('EXPIRE_BOTH expires both', () => {
    own();
    expect(
      brief(
        place({
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 100,
          quantity: 2,
          stpMode: 'EXPIRE_BOTH',
        }),
      ),
    ).toEqual([
      'accepted #2',
      'prevented #1 taker #2 maker #1 EXPIRE_BOTH',
      'closed #1 STP_MAKER exec 0',
      'closed #2 STP_TAKER exec 0',
      'depth 2-2 bids [] asks [[100,0]]',
    ]);
  });
});

describe('cancel and amend', () => {
  it('amend down keeps priority, a new price loses it', () => {
    sell(100, 5); // #1
    sell(100, 5); // #2
    expect(
      brief(apply({ kind: 'amend', market: 'T', orderId: 1, userId: 2, newQuantity: 3, ts: 6 })),
    ).toEqual(['amended #1 3@100 kept priority', 'depth 3-3 bids [] asks [[100,8]]']);
    const fill = place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: 100, quantity: 1 });
    expect(brief(fill)[1]).toBe('trade 1@100 maker #1 taker #3');
    // Re-price #1 away and back: now it queues behind #2.
    apply({ kind: 'amend', market: 'T', orderId: 1, userId: 2, newPrice: 101, ts: 7 });
    expect(brief(apply({ kind: 'amend', market: 'T', orderId: 1, userId: 2, newPrice: 100, ts: 8 }))[0]).toBe(
      'amended #1 3@100 lost priority',
    );
    expect(brief(place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: 100, quantity: 1 }))[1]).toBe(
      'trade 1@100 maker #2 taker #4',
    );
  });

  it('refuses to cancel or amend another user’s order, changing nothing', () => {
    sell(100, 5);
    const book = JSON.stringify(engine.depth('T', 10));
    expect(brief(apply({ kind: 'cancel', market: 'T', orderId: 1, userId: 1, ts: 9 }))).toEqual([
      'rejected #1 NOT_ORDER_OWNER',
    ]);
    expect(
      brief(apply({ kind: 'amend', market: 'T', orderId: 1, userId: 1, newQuantity: 1, ts: 9 })),
    ).toEqual(['rejected #1 NOT_ORDER_OWNER']);
    expect(brief(apply({ kind: 'cancel', market: 'T', orderId: 77, userId: 2, ts: 9 }))).toEqual([
      'rejected #77 UNKNOWN_ORDER',
    ]);
    expect(JSON.stringify(engine.depth('T', 10))).toBe(book);
    expect(brief(apply({ kind: 'cancel', market: 'T', orderId: 1, userId: 2, ts: 9 }))).toEqual([
      'closed #1 CANCELED exec 0',
      'depth 2-2 bids [] asks [[100,0]]',
    ]);
  });
});

describe('bad commands', () => {
  it.each<[string, Partial<PlaceCommand>, string]>([
    ['unknown market', { market: 'X' }, 'UNKNOWN_MARKET'],
    ['zero price', { price: 0 }, 'INVALID_PRICE'],
    ['price above max', { price: 100_001 }, 'INVALID_PRICE'],
    ['fractional quantity', { quantity: 1.5 }, 'INVALID_QUANTITY'],
    ['negative quantity', { quantity: -1 }, 'INVALID_QUANTITY'],
    ['quantity above max', { quantity: 100_001 }, 'INVALID_QUANTITY'],
    ['below min notional', { price: 1, quantity: 1 }, 'MIN_NOTIONAL'],
    ['time in force on a market order', { type: 'MARKET', price: undefined }, 'INVALID_TIME_IN_FORCE'],
    ['unknown time in force', { timeInForce: 'GTD' as never }, 'INVALID_TIME_IN_FORCE'],
    ['unknown side', { side: 'HOLD' as never }, 'INVALID_SIDE'],
    ['unknown order type', { type: 'TRAILING' as never }, 'INVALID_ORDER_TYPE'],
    ['unknown self-trade prevention mode', { stpMode: 'EXPIRE_NONE' as never }, 'INVALID_STP_MODE'],
    ['iceberg on IOC', { timeInForce: 'IOC', icebergQuantity: 1 }, 'INVALID_ICEBERG'],
    ['too many iceberg parts', { quantity: 100, icebergQuantity: 5 }, 'INVALID_ICEBERG'],
  ])('%s → %s, nothing changes', (_name, over, reason) => {
    sell(100, 5);
    const before = JSON.stringify({ ...engine.snapshot().markets[0], seq: 0 });
    const events = place({
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 50,
      quantity: 10,
      ...over,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'rejected', reason });
    expect(JSON.stringify({ ...engine.snapshot().markets[0], seq: 0 })).toBe(before);
  });

  it('a duplicate order id is refused, even after the first order closed', () => {
    sell(100, 5, { orderId: 1 });
    expect(brief(sell(100, 5, { orderId: 1 }))).toEqual(['rejected #1 DUPLICATE_ORDER_ID']);
    apply({ kind: 'cancel', market: 'T', orderId: 1, userId: 2, ts: 1 });
    expect(brief(sell(100, 5, { orderId: 1 }))).toEqual(['rejected #1 DUPLICATE_ORDER_ID']);
  });
});

describe('overflow', () => {
  it('refuses an order whose notional could pass 2^53', () => {
    const wide = new MatchingEngine([{ ...rules, symbol: 'W', maxPriceTicks: 1e9, maxQtyLots: 1e9 }]);
    const out: EngineEvent[] = [];
    wide.apply(
      {
        kind: 'place',
        market: 'W',
        orderId: 1,
        userId: 1,
        clientOrderId: 'x',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 1e9,
        quantity: 1e8,
        ts: 1,
      },
      out,
    );
    wide.apply(
      {
        kind: 'place',
        market: 'W',
        orderId: 2,
        userId: 1,
        clientOrderId: 'y',
        side: 'BUY',
        type: 'MARKET',
        quantity: 1e8,
        ts: 1,
      },
      out,
    );
    expect(out.map((e) => e.type === 'rejected' && e.reason)).toEqual(['OVERFLOW', 'OVERFLOW']);
  });
});
