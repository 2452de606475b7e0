// Order lists (docs/engine.md#order-lists): OCO / OTO / OTOCO placement and its refusals, one-cancels-the-
// other on a fill or a trigger, pending legs placed on the working leg's complete fill, cancels, and the
// prevented-match events of self-trade prevention. The reference engine (test/support/reference-engine.ts)
// must answer every case alike.
import { MatchingEngine, type EngineSnapshot } from '@engine/core';
import type {
  Command,
  EngineEvent,
  ListLeg,
  MarketRules,
  PlaceCommand,
  PlaceListCommand,
} from '@engine/core/types';
import { ReferenceEngine } from '@test/support/reference-engine';

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
let reference: ReferenceEngine;
let nextId: number;
beforeEach(() => {
  engine = new MatchingEngine([rules]);
  reference = new ReferenceEngine([rules]);
  nextId = 1;
  nextList = 1;
});

function apply(cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  const ref: EngineEvent[] = [];
  engine.apply(cmd, out);
  reference.apply(cmd, ref);
  expect(out).toEqual(ref);
  expect(engine.stateHash()).toBe(reference.stateHash());
  return out;
}

function place(p: Partial<PlaceCommand>): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  return apply({
    kind: 'place',
    market: 'T',
    orderId,
    userId: 9,
    clientOrderId: `c${orderId}`,
    side: 'SELL',
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 100,
    quantity: 10,
    ts: 1,
    ...p,
  } as PlaceCommand);
}

const leg = (over: Partial<ListLeg>): ListLeg => {
  const orderId = over.orderId ?? nextId++;
  return { orderId, clientOrderId: `l${orderId}`, side: 'SELL', type: 'LIMIT_MAKER', quantity: 10, ...over };
};

let nextList = 1;
function list(
  contingencyType: PlaceListCommand['contingencyType'],
  legs: ListLeg[],
  over: Partial<PlaceListCommand> = {},
): EngineEvent[] {
  return apply({
    kind: 'placeList',
    market: 'T',
    listId: nextList++,
    userId: 1,
    listClientOrderId: 'x',
    contingencyType,
    legs,
    ts: 2,
    ...over,
  });
}

/** Events in short form. */
function brief(events: EngineEvent[]): string[] {
  return events.flatMap((e) => {
    switch (e.type) {
      case 'accepted':
        return [
          `accepted #${e.orderId}${e.orderListId ? ` list ${e.orderListId}` : ''}${e.pending ? ' pending' : ''}`,
        ];
      case 'rejected':
        return [`rejected ${e.command} #${e.orderId} ${e.reason}`];
      case 'trade':
        return [`trade ${e.quantity}@${e.price} maker #${e.makerOrderId} taker #${e.takerOrderId}`];
      case 'closed':
        return [`closed #${e.orderId} ${e.reason}`];
      case 'triggered':
        return [`triggered #${e.orderId}`];
      case 'activated':
        return [`activated #${e.orderId}`];
      case 'amended':
        return [`amended #${e.orderId} ${e.quantity}`];
      case 'listStatus':
        return [
          `list ${e.listId} ${e.listStatusType} ${e.listOrderStatus}${e.rejectReason ? ` ${e.rejectReason}` : ''}`,
        ];
      case 'prevented':
        return [
          `prevented #${e.preventedMatchId} taker #${e.takerOrderId} maker #${e.makerOrderId} ${e.makerPreventedQuantity}`,
        ];
      default:
        return [];
    }
  });
}

/** Sets the last price to `price` with a trade between two other users. */
function tradeAt(price: number): void {
  place({ side: 'SELL', price, quantity: 1, userId: 7 });
  place({ side: 'BUY', price, quantity: 1, userId: 8 });
}

describe('OCO', () => {
  it('SELL: a LIMIT_MAKER above rests, a STOP_LOSS below waits; a partial fill of the limit leg expires the stop', () => {
    tradeAt(100);
    const events = list('OCO', [
      leg({ orderId: 10, price: 110 }),
      leg({ orderId: 11, type: 'STOP_LOSS', stopPrice: 90 }),
    ]);
    expect(brief(events)).toEqual([
      'accepted #10 list 1',
      'accepted #11 list 1',
      'list 1 EXEC_STARTED EXECUTING',
    ]);
    expect(brief(place({ side: 'BUY', price: 110, quantity: 4 }))).toEqual([
      'accepted #3',
      'trade 4@110 maker #10 taker #3',
      'closed #11 LIST',
      'closed #3 FILLED',
    ]);
    expect(brief(place({ side: 'BUY', price: 110, quantity: 6 }))).toEqual([
      'accepted #4',
      'trade 6@110 maker #10 taker #4',
      'closed #10 FILLED',
      'list 1 ALL_DONE ALL_DONE',
      'closed #4 FILLED',
    ]);
  });

  it('BUY: the stop leg (above) triggers and expires the limit leg before it runs', () => {
    tradeAt(100);
    list('OCO', [
      leg({
        orderId: 10,
        side: 'BUY',
        type: 'STOP_LOSS_LIMIT',
        stopPrice: 105,
        price: 106,
        timeInForce: 'GTC',
      }),
      leg({ orderId: 11, side: 'BUY', type: 'LIMIT_MAKER', price: 95 }),
    ]);
    place({ side: 'SELL', price: 106, quantity: 20, userId: 7 });
    place({ side: 'SELL', price: 105, quantity: 1, userId: 7 });
    expect(brief(place({ side: 'BUY', price: 105, quantity: 1, userId: 8 }))).toEqual([
      'accepted #5',
      'trade 1@105 maker #4 taker #5',
      'closed #4 FILLED',
      'closed #5 FILLED',
      'triggered #10',
      'closed #11 LIST',
      'trade 10@106 maker #3 taker #10',
      'closed #10 FILLED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });

  it('TAKE_PROFIT + STOP_LOSS: both wait as stops; the one that triggers expires the other', () => {
    tradeAt(100);
    list('OCO', [
      leg({ orderId: 10, type: 'TAKE_PROFIT', stopPrice: 110 }),
      leg({ orderId: 11, type: 'STOP_LOSS', stopPrice: 90 }),
    ]);
    place({ side: 'BUY', price: 89, quantity: 50, userId: 7 });
    place({ side: 'SELL', price: 90, quantity: 1, userId: 8 });
    const events = place({ side: 'BUY', price: 90, quantity: 1, userId: 7 });
    expect(brief(events)).toEqual([
      'accepted #5',
      'trade 1@90 maker #4 taker #5',
      'closed #4 FILLED',
      'closed #5 FILLED',
      'triggered #11',
      'closed #10 LIST',
      'trade 10@89 maker #3 taker #11',
      'closed #11 FILLED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });

  const refused = (legs: ListLeg[], reason: string, trade = true) => {
    if (trade) tradeAt(100);
    const before = engine.snapshot();
    const events = list('OCO', legs);
    expect(brief(events)).toEqual([
      ...legs.map((l) => `rejected placeList #${l.orderId} ${reason}`),
      `list ${nextList - 1} ALL_DONE REJECT ${reason}`,
    ]);
    // Nothing of the list stays: only the seq moved.
    const after = engine.snapshot();
    expect({ ...after.markets[0], seq: 0 }).toEqual({ ...before.markets[0], seq: 0 });
  };

  it('refuses quantities that differ', () =>
    refused(
      [leg({ price: 110 }), leg({ type: 'STOP_LOSS', stopPrice: 90, quantity: 11 })],
      'INVALID_QUANTITY',
    ));
  it('refuses the wrong types for the side (SELL: the stop leg above)', () =>
    refused([leg({ type: 'STOP_LOSS', stopPrice: 90 }), leg({ price: 110 })], 'INVALID_ORDER_TYPE'));
  it('refuses two limit-side legs', () =>
    refused([leg({ price: 110 }), leg({ type: 'TAKE_PROFIT', stopPrice: 95 })], 'INVALID_ORDER_TYPE'));
  it('refuses a LIMIT leg (not LIMIT_MAKER) in an OCO', () =>
    refused(
      [leg({ type: 'LIMIT', price: 110 }), leg({ type: 'STOP_LOSS', stopPrice: 90 })],
      'INVALID_ORDER_TYPE',
    ));
  it('refuses legs on different sides', () =>
    refused([leg({ price: 110 }), leg({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 90 })], 'INVALID_SIDE'));
  it('refuses a take-profit stop price that would trigger at once (SELL: at or under the last price)', () =>
    refused(
      [leg({ type: 'TAKE_PROFIT', stopPrice: 99 }), leg({ type: 'STOP_LOSS', stopPrice: 90 })],
      'INVALID_STOP_PRICE',
    ));
  it('refuses a pending pair whose limit price is at or under its stop price (SELL)', () => {
    const events = list('OTOCO', [
      leg({ side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      leg({ type: 'TAKE_PROFIT_LIMIT', stopPrice: 96, price: 95, timeInForce: 'GTC' }),
      leg({ type: 'STOP_LOSS', stopPrice: 96 }),
    ]);
    expect(brief(events).pop()).toBe('list 1 ALL_DONE REJECT INVALID_PRICE');
  });
  it('refuses a SELL LIMIT_MAKER at or under the last price', () =>
    refused([leg({ price: 100 }), leg({ type: 'STOP_LOSS', stopPrice: 90 })], 'INVALID_PRICE'));
  it('refuses a stop leg that would trigger at once', () =>
    refused([leg({ price: 110 }), leg({ type: 'STOP_LOSS', stopPrice: 100 })], 'INVALID_STOP_PRICE'));
  it('refuses a limit leg under the stop leg (BUY)', () =>
    refused(
      [
        leg({ side: 'BUY', type: 'STOP_LOSS', stopPrice: 105 }),
        leg({ side: 'BUY', type: 'TAKE_PROFIT_LIMIT', stopPrice: 95, price: 106, timeInForce: 'GTC' }),
      ],
      'INVALID_PRICE',
    ));
  it('refuses a quote amount on a leg', () =>
    refused(
      [
        leg({ price: 110 }),
        leg({ type: 'STOP_LOSS', stopPrice: 90, quantity: undefined, quoteQuantity: 1000 }),
      ],
      'INVALID_QUANTITY',
    ));
  it('refuses a leg id used twice, and a leg id already live', () => {
    refused(
      [leg({ orderId: 50, price: 110 }), leg({ orderId: 50, type: 'STOP_LOSS', stopPrice: 90 })],
      'DUPLICATE_ORDER_ID',
    );
    place({ orderId: 60, price: 200 });
    refused(
      [leg({ orderId: 61, price: 110 }), leg({ orderId: 60, type: 'STOP_LOSS', stopPrice: 90 })],
      'DUPLICATE_ORDER_ID',
    );
  });
  it('refuses one leg too many or too few', () => {
    refused([leg({ price: 110 })], 'INVALID_ORDER_TYPE');
    refused(
      [leg({ price: 110 }), leg({ type: 'STOP_LOSS', stopPrice: 90 }), leg({ price: 120 })],
      'INVALID_ORDER_TYPE',
    );
  });
  it('refuses a live list id and an unknown STP mode', () => {
    tradeAt(100);
    list('OCO', [leg({ price: 110 }), leg({ type: 'STOP_LOSS', stopPrice: 90 })], { listId: 77 });
    const again = list('OCO', [leg({ price: 111 }), leg({ type: 'STOP_LOSS', stopPrice: 91 })], {
      listId: 77,
    });
    expect(brief(again).pop()).toBe('list 77 ALL_DONE REJECT DUPLICATE_ORDER_ID');
    const stp = list('OCO', [leg({ price: 111 }), leg({ type: 'STOP_LOSS', stopPrice: 91 })], {
      stpMode: 'DECREMENT' as PlaceListCommand['stpMode'],
    });
    expect(brief(stp).pop()).toContain('INVALID_STP_MODE');
  });
  it('a LIMIT_MAKER leg that would take refuses the whole list', () => {
    tradeAt(100);
    place({ side: 'BUY', price: 120, quantity: 1, userId: 7 });
    refused([leg({ price: 115 }), leg({ type: 'STOP_LOSS', stopPrice: 90 })], 'WOULD_TAKE', false);
  });
});

describe('OTO / OTOCO', () => {
  it('OTO: the pending leg waits (PENDING_NEW) until the working leg fills completely, then trades in the same command', () => {
    place({ side: 'BUY', price: 95, quantity: 5, userId: 7 });
    const placed = list('OTO', [
      leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      leg({ orderId: 11, side: 'SELL', type: 'LIMIT', price: 95, timeInForce: 'GTC', quantity: 5 }),
    ]);
    expect(brief(placed)).toEqual([
      'accepted #10 list 1',
      'accepted #11 list 1 pending',
      'list 1 EXEC_STARTED EXECUTING',
    ]);
    expect(brief(place({ side: 'SELL', price: 100, quantity: 4, userId: 8 }))).toEqual([
      'accepted #2',
      'trade 4@100 maker #10 taker #2',
      'closed #2 FILLED',
    ]);
    expect(brief(place({ side: 'SELL', price: 100, quantity: 6, userId: 8 }))).toEqual([
      'accepted #3',
      'trade 6@100 maker #10 taker #3',
      'closed #10 FILLED',
      'activated #11',
      'closed #3 FILLED',
      'trade 5@95 maker #1 taker #11',
      'closed #1 FILLED',
      'closed #11 FILLED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });

  it('OTO: the working leg filled on entry places the pending leg in the same command', () => {
    place({ side: 'SELL', price: 100, quantity: 10, userId: 7 });
    const events = list('OTO', [
      leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'IOC' }),
      leg({ orderId: 11, side: 'SELL', type: 'LIMIT_MAKER', price: 120 }),
    ]);
    expect(brief(events)).toEqual([
      'accepted #10 list 1',
      'accepted #11 list 1 pending',
      'list 1 EXEC_STARTED EXECUTING',
      'trade 10@100 maker #1 taker #10',
      'closed #1 FILLED',
      'closed #10 FILLED',
      'activated #11',
    ]);
  });

  it('OTO: a working leg that ends unfilled takes the pending leg with it (IOC: LIST; cancel: CANCELED)', () => {
    const ioc = list('OTO', [
      leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'IOC' }),
      leg({ orderId: 11, type: 'LIMIT', price: 120, timeInForce: 'GTC' }),
    ]);
    expect(brief(ioc).slice(3)).toEqual(['closed #10 IOC', 'closed #11 LIST', 'list 1 ALL_DONE ALL_DONE']);
    list('OTO', [
      leg({ orderId: 20, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      leg({ orderId: 21, type: 'LIMIT', price: 120, timeInForce: 'GTC' }),
    ]);
    // A cancel of the pending leg cancels the list.
    const cancel = apply({ kind: 'cancel', market: 'T', orderId: 21, userId: 1, ts: 3 });
    expect(brief(cancel)).toEqual(['closed #20 CANCELED', 'closed #21 CANCELED', 'list 2 ALL_DONE ALL_DONE']);
  });

  it('refuses an OTO whose working leg is not LIMIT / LIMIT_MAKER, and a pending MARKET by quote amount', () => {
    const market = list('OTO', [
      leg({ orderId: 10, side: 'BUY', type: 'MARKET' }),
      leg({ orderId: 11, type: 'LIMIT', price: 120, timeInForce: 'GTC' }),
    ]);
    expect(brief(market)).toEqual([
      'rejected placeList #10 INVALID_ORDER_TYPE',
      'rejected placeList #11 INVALID_ORDER_TYPE',
      'list 1 ALL_DONE REJECT INVALID_ORDER_TYPE',
    ]);
    const byQuote = list('OTO', [
      leg({ orderId: 12, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      leg({ orderId: 13, type: 'MARKET', quantity: undefined, quoteQuantity: 500 }),
    ]);
    expect(brief(byQuote).pop()).toBe('list 2 ALL_DONE REJECT INVALID_QUANTITY');
  });

  it('OTOCO: the pending legs form an OCO once placed; pending legs are not held to the last price', () => {
    tradeAt(100);
    const placed = list('OTOCO', [
      leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      // A stop at 101 would trigger at once if placed now (last 100 ≤ 101): pending, it is accepted.
      leg({ orderId: 11, type: 'LIMIT_MAKER', price: 130 }),
      leg({ orderId: 12, type: 'STOP_LOSS', stopPrice: 101 }),
    ]);
    expect(brief(placed)).toEqual([
      'accepted #10 list 1',
      'accepted #11 list 1 pending',
      'accepted #12 list 1 pending',
      'list 1 EXEC_STARTED EXECUTING',
    ]);
    place({ side: 'BUY', price: 90, quantity: 3, userId: 7 });
    // The working leg fills at 100: both pending legs are placed; the stop (last 100 ≤ 101) triggers, sells 3
    // at 90, and expires the LIMIT_MAKER.
    expect(brief(place({ side: 'SELL', price: 100, quantity: 10, userId: 8 }))).toEqual([
      'accepted #4',
      'trade 10@100 maker #10 taker #4',
      'closed #10 FILLED',
      'activated #11',
      'activated #12',
      'closed #4 FILLED',
      'triggered #12',
      'closed #11 LIST',
      'trade 3@90 maker #3 taker #12',
      'closed #3 FILLED',
      'closed #12 IOC',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });

  it('refuses an OTOCO whose pending pair breaks the OCO rules', () => {
    const events = list('OTOCO', [
      leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
      leg({ orderId: 11, type: 'LIMIT_MAKER', price: 130 }),
      leg({ orderId: 12, type: 'STOP_LOSS', stopPrice: 90, quantity: 9 }),
    ]);
    expect(brief(events).pop()).toBe('list 1 ALL_DONE REJECT INVALID_QUANTITY');
  });
});

describe('cancels and amends of lists', () => {
  beforeEach(() => {
    tradeAt(100);
    list('OCO', [leg({ orderId: 10, price: 110 }), leg({ orderId: 11, type: 'STOP_LOSS', stopPrice: 90 })]);
  });
  it('cancelList closes every live leg CANCELED, in leg order', () => {
    expect(brief(apply({ kind: 'cancelList', market: 'T', listId: 1, userId: 1, ts: 3 }))).toEqual([
      'closed #10 CANCELED',
      'closed #11 CANCELED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });
  it('a cancel of either leg cancels the list', () => {
    expect(brief(apply({ kind: 'cancel', market: 'T', orderId: 11, userId: 1, ts: 3 }))).toEqual([
      'closed #10 CANCELED',
      'closed #11 CANCELED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });
  it('refuses a cancelList by another user or of an unknown list (orderId 0, the list in orderListId)', () => {
    const other = apply({ kind: 'cancelList', market: 'T', listId: 1, userId: 2, ts: 3 });
    expect(other).toMatchObject([
      { type: 'rejected', command: 'cancelList', orderId: 0, orderListId: 1, reason: 'NOT_ORDER_OWNER' },
    ]);
    const unknown = apply({ kind: 'cancelList', market: 'T', listId: 9, userId: 1, ts: 3 });
    expect(unknown).toMatchObject([{ type: 'rejected', orderListId: 9, reason: 'UNKNOWN_ORDER' }]);
  });
  it('an amend of either OCO leg lowers both (Binance keeps the pair at one quantity); a re-price is refused', () => {
    const events = apply({ kind: 'amend', market: 'T', orderId: 11, userId: 1, newQuantity: 5, ts: 3 });
    expect(events).toMatchObject([
      { type: 'amended', orderId: 11, quantity: 5, keptPriority: true },
      { type: 'amended', orderId: 10, quantity: 5, keptPriority: true },
      { type: 'depth', asks: [[110, 5]] },
    ]);
    const reprice = apply({ kind: 'amend', market: 'T', orderId: 10, userId: 1, newPrice: 111, ts: 3 });
    expect(brief(reprice)).toEqual(['rejected amend #10 INVALID_AMEND']);
    // The stop leg triggers with the lower quantity: 5 sold, the limit leg expired.
    place({ orderId: 40, side: 'BUY', price: 89, quantity: 20, userId: 8 });
    expect(brief(place({ orderId: 41, side: 'SELL', price: 89, quantity: 1, userId: 9 }))).toEqual([
      'accepted #41',
      'trade 1@89 maker #40 taker #41',
      'closed #41 FILLED',
      'triggered #11',
      'closed #10 LIST',
      'trade 5@89 maker #40 taker #11',
      'closed #11 FILLED',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });
  it('refuses an OCO amend that its partner cannot take (its iceberg slice would not be below it)', () => {
    list('OCO', [
      leg({ orderId: 12, price: 120, quantity: 10, icebergQuantity: 4 }),
      leg({ orderId: 13, type: 'STOP_LOSS', stopPrice: 80, quantity: 10 }),
    ]);
    const events = apply({ kind: 'amend', market: 'T', orderId: 13, userId: 1, newQuantity: 4, ts: 3 });
    expect(brief(events)).toEqual(['rejected amend #13 INVALID_AMEND']);
    expect(
      brief(apply({ kind: 'amend', market: 'T', orderId: 13, userId: 1, newQuantity: 5, ts: 3 })),
    ).toEqual(['amended #13 5', 'amended #12 5']);
  });
  it('amends an OTO working leg and its pending leg each on its own; the amended legs still run', () => {
    list('OTO', [
      leg({ orderId: 20, side: 'BUY', type: 'LIMIT', price: 95, timeInForce: 'GTC' }),
      leg({ orderId: 21, side: 'SELL', type: 'LIMIT', price: 105, timeInForce: 'GTC' }),
    ]);
    const lower = apply({ kind: 'amend', market: 'T', orderId: 20, userId: 1, newQuantity: 6, ts: 3 });
    expect(lower).toMatchObject([
      { type: 'amended', orderId: 20, quantity: 6, keptPriority: true },
      { type: 'depth' },
    ]);
    const pending = apply({ kind: 'amend', market: 'T', orderId: 21, userId: 1, newQuantity: 5, ts: 3 });
    expect(pending).toMatchObject([
      { type: 'amended', orderId: 21, quantity: 5, keptPriority: true, onBook: false, pending: true },
    ]);
    expect(pending).toHaveLength(1); // not on the book: no depth change
    expect(
      brief(apply({ kind: 'amend', market: 'T', orderId: 21, userId: 1, newPrice: 106, ts: 3 })),
    ).toEqual(['rejected amend #21 INVALID_AMEND']);
    // Its 6 filled: the pending leg is placed with its 5.
    expect(brief(place({ orderId: 30, side: 'SELL', price: 95, quantity: 6, userId: 8 }))).toEqual([
      'accepted #30',
      'trade 6@95 maker #20 taker #30',
      'closed #20 FILLED',
      'activated #21',
      'closed #30 FILLED',
    ]);
    expect(brief(place({ orderId: 31, side: 'BUY', price: 105, quantity: 9, userId: 8 }))).toContain(
      'trade 5@105 maker #21 taker #31',
    );
  });
  it('a snapshot holds the list; restored, it goes on alike', () => {
    const snap = JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot;
    expect(snap.markets[0].lists).toEqual([
      {
        listId: 1,
        userId: 1,
        listClientOrderId: 'x',
        contingencyType: 'OCO',
        orderIds: [10, 11],
        pending: [],
      },
    ]);
    const restored = MatchingEngine.restore(snap);
    const a: EngineEvent[] = [];
    const b: EngineEvent[] = [];
    const cmd: Command = {
      kind: 'place',
      market: 'T',
      orderId: 99,
      userId: 5,
      clientOrderId: '',
      side: 'BUY',
      type: 'LIMIT',
      price: 110,
      quantity: 3,
      ts: 4,
    };
    restored.apply(cmd, a);
    engine.apply(cmd, b);
    expect(a).toEqual(b);
    expect(brief(a)).toContain('closed #11 LIST');
  });
});

describe('prevented matches', () => {
  it('one event per prevented pair, before the closes it causes; ids per market, gap-free', () => {
    place({ side: 'SELL', price: 100, quantity: 4, userId: 1 });
    place({ side: 'SELL', price: 101, quantity: 6, userId: 1, icebergQuantity: 2 });
    const events = place({ side: 'BUY', price: 101, quantity: 10, userId: 1, stpMode: 'EXPIRE_MAKER' });
    expect(brief(events)).toEqual([
      'accepted #3',
      'prevented #1 taker #3 maker #1 4',
      'closed #1 STP_MAKER',
      'prevented #2 taker #3 maker #2 6',
      'closed #2 STP_MAKER',
    ]);
    expect(events[1]).toMatchObject({
      price: 100,
      userId: 1,
      stpMode: 'EXPIRE_MAKER',
      takerPreventedQuantity: 0,
    });
    const taker = place({ side: 'SELL', price: 101, quantity: 5, userId: 1, stpMode: 'EXPIRE_TAKER' });
    expect(taker[1]).toMatchObject({
      type: 'prevented',
      preventedMatchId: 3,
      makerPreventedQuantity: 0,
      takerPreventedQuantity: 5,
    });
    expect(engine.snapshot().markets[0].preventedMatchId).toBe(3);
  });

  it('across legs: a list leg meets its own user’s order under the list’s STP mode', () => {
    place({ side: 'BUY', price: 95, quantity: 5, userId: 1 });
    place({ side: 'SELL', price: 100, quantity: 10, userId: 7 });
    const events = list(
      'OTO',
      [
        leg({ orderId: 10, side: 'BUY', type: 'LIMIT', price: 100, timeInForce: 'GTC' }),
        leg({ orderId: 11, type: 'LIMIT', price: 95, timeInForce: 'GTC', quantity: 5 }),
      ],
      { stpMode: 'EXPIRE_TAKER' },
    );
    expect(brief(events).slice(3)).toEqual([
      'trade 10@100 maker #2 taker #10',
      'closed #2 FILLED',
      'closed #10 FILLED',
      'activated #11',
      'prevented #1 taker #11 maker #1 0',
      'closed #11 STP_TAKER',
      'list 1 ALL_DONE ALL_DONE',
    ]);
  });
});

it('a list for an unknown market: every leg rejected and a REJECT status, seq 0', () => {
  const events = apply({
    kind: 'placeList',
    market: 'NOPE',
    listId: 1,
    userId: 1,
    listClientOrderId: 'x',
    contingencyType: 'OCO',
    legs: [leg({ orderId: 1, price: 110 }), leg({ orderId: 2, type: 'STOP_LOSS', stopPrice: 90 })],
    ts: 1,
  });
  expect(brief(events)).toEqual([
    'rejected placeList #1 UNKNOWN_MARKET',
    'rejected placeList #2 UNKNOWN_MARKET',
    'list 1 ALL_DONE REJECT UNKNOWN_MARKET',
  ]);
  expect(events.every((e) => e.seq === 0)).toBe(true);
});
