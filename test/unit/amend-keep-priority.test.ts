// PUT /api/v3/order/amend/keepPriority without the exchange: the request schema, OrderService's rules over
// in-memory fakes (what is refused before any command is recorded, the engine command it records, how the
// engine's answer or its absence is reported) and the response shape.
import { amendJson } from '@lambdas/api/orders/format';
import type { AmendAnswer } from '@lambdas/api/orders/answer-waiter';
import { OrderService, type AmendIo, type AmendParams } from '@lambdas/api/orders/order-service';
import { amendSchema } from '@lambdas/api/trading';
import { parseParams, type BinanceError } from '@lambdas/shared/http';
import type { OrderAmendment, OutboxMessage, ReplayMarker } from '@lambdas/shared/ledger/order-repository';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import { MARKETS } from '@contracts/markets';
import { orderRecord } from '../support/order-record';

const USER = 7;
const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;

async function rejectionOf(p: Promise<unknown>): Promise<{ status: number; code: number; msg: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as BinanceError;
    return { status: e.statusCode, code: e.code, msg: e.message };
  }
  throw new Error('expected a Binance error');
}

describe('amend request schema', () => {
  it('takes the order reference and newQty', () => {
    expect(
      parseParams(amendSchema, { symbol: 'BTCUSDT', orderId: '12', newQty: '0.5', newClientOrderId: 'x-1' }),
    ).toEqual({ symbol: 'BTCUSDT', orderId: 12, newQty: '0.5', newClientOrderId: 'x-1' });
  });

  it.each([
    [{ symbol: 'BTCUSDT', orderId: '12' }, -1102, 'newQty'],
    [{ symbol: 'BTCUSDT', orderId: 'twelve', newQty: '1' }, -1100, 'orderId'],
    [{ symbol: 'btcusdt', orderId: '12', newQty: '1' }, -1100, 'symbol'],
    [{ symbol: 'BTCUSDT', orderId: '12', newQty: '1', newClientOrderId: 'a b' }, -1100, 'newClientOrderId'],
  ])('refuses %j with %i', (params, code, name) => {
    let caught: BinanceError | undefined;
    try {
      parseParams(amendSchema, params);
    } catch (err) {
      caught = err as BinanceError;
    }
    expect(caught).toMatchObject({ statusCode: 400, code });
    expect(caught?.message).toContain(`'${name}'`);
  });
});

function setup(rows: OrderRecord[], amendmentsOf = new Map<number, OrderAmendment[]>()) {
  const live = new Map(rows.map((o) => [o.orderId, o]));
  const recorded: Array<{ message: { cmdId: string; command: unknown }; replay?: ReplayMarker }> = [];
  const sent: string[] = [];
  const service = new OrderService({
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    orders: {
      get: async (id) => live.get(id),
      getByClientOrderId: async (userId, market, cid) =>
        [...live.values()].find((o) => o.userId === userId && o.symbol === market && o.clientOrderId === cid),
      listOpen: async () => [...live.values()],
      amendments: async (orderId) => amendmentsOf.get(orderId) ?? [],
      requestCancel: async (userId, orderId, build, groupId, replay) => {
        const order = live.get(orderId);
        if (!order || order.userId !== userId) return undefined;
        const message = build(order);
        recorded.push({ message, replay });
        const out: OutboxMessage = { cmdId: message.cmdId, market: order.symbol, groupId, body: '{}' };
        return { order, messages: [out] };
      },
      accept: async () => {
        throw new Error('an amend places nothing');
      },
    },
    sender: { send: async (messages) => void sent.push(...messages.map((m) => m.cmdId)) },
    book: { bestPrices: async () => ({}) },
    clock: () => 1_700_000_000_000,
  });
  let answer: (o: OrderRecord, newLots: number) => AmendAnswer | undefined = (o, newLots) => ({
    order: { ...o, qtyLots: newLots, lastSeq: 42 },
    executionId: 42,
  });
  const io: AmendIo = { waitAnswer: async (o, newLots) => answer(o, newLots) };
  return {
    service,
    io,
    recorded,
    sent,
    engine(fn: typeof answer) {
      answer = fn;
    },
  };
}

// A BTCUSDT BUY of 10 lots (0.0001 BTC) at 30000.00 (3,000,000 ticks), resting.
const resting = (over: Partial<OrderRecord> = {}) =>
  orderRecord({ orderId: 5, userId: USER, qtyLots: 1000, isWorking: true, clientOrderId: 'keep', ...over });
const params = (over: Partial<AmendParams> = {}): AmendParams => ({
  symbol: 'BTCUSDT',
  orderId: 5,
  newQty: '0.006',
  ...over,
});

describe('OrderService.amendKeepPriority', () => {
  it('records an engine amend with the new quantity in lots, sends it, and answers the amended order', async () => {
    const t = setup([resting()]);
    const replay = { signature: 's', expiresAtMs: 1 };
    const order = await t.service.amendKeepPriority(USER, params(), t.io, replay);
    expect(order).toMatchObject({ orderId: 5, qtyLots: 600, lastSeq: 42, clientOrderId: 'keep' });
    expect(t.recorded).toEqual([
      {
        message: {
          v: 1,
          cmdId: expect.stringMatching(/^a-5-[0-9a-f]{16}$/),
          command: {
            kind: 'amend',
            market: 'BTCUSDT',
            orderId: 5,
            userId: USER,
            newQuantity: 600,
            ts: 1_700_000_000_000,
          },
        },
        replay,
      },
    ]);
    expect(t.sent).toEqual([t.recorded[0].message.cmdId]);
  });

  it.each<[string, Partial<OrderRecord>, Partial<AmendParams>, number, string]>([
    ['a higher quantity', {}, { newQty: '0.02' }, -2038, 'Order amend (quantity increase) is not supported.'],
    [
      'the same quantity',
      {},
      { newQty: '0.01' },
      -2038,
      'The requested action would change no state; rejecting',
    ],
    ['at or below what is executed', { executedLots: 600 }, {}, -2038, 'greater than the executed quantity'],
    ['an iceberg slice not below it', { icebergLots: 600 }, {}, -2038, 'IcebergQty exceeds QTY.'],
    ['under NOTIONAL', {}, { newQty: '0.0001' }, -1013, 'Filter failure: NOTIONAL'],
    ['off the lot grid', {}, { newQty: '0.000015' }, -1013, 'Filter failure: LOT_SIZE'],
    ['a malformed quantity', {}, { newQty: '.5' }, -1100, "parameter 'newQty'"],
    [
      'a stop market order under NOTIONAL at its stop price',
      { type: 'STOP_LOSS', priceTicks: 0, stopTicks: 3_000_000, isWorking: false },
      { newQty: '0.0001' },
      -1013,
      'Filter failure: NOTIONAL',
    ],
    ['a closed order', { status: 'FILLED' }, {}, -2038, 'Unknown order sent.'],
    ["another user's order", { userId: USER + 1 }, {}, -2038, 'Unknown order sent.'],
    ['both ids not naming one order', {}, { origClientOrderId: 'other' }, -2039, 'Client order ID'],
    ['a new client order id', {}, { newClientOrderId: 'other' }, -1130, 'newClientOrderId'],
  ])('refuses %s before recording anything', async (_name, order, over, code, msg) => {
    const t = setup([resting(order)]);
    const e = await rejectionOf(t.service.amendKeepPriority(USER, params(over), t.io));
    expect(e.status).toBe(400);
    expect(e.code).toBe(code);
    expect(e.msg).toContain(msg);
    expect(t.recorded).toEqual([]);
  });

  it.each<[string, Partial<OrderRecord>]>([
    ['a stop not yet triggered', { type: 'STOP_LOSS_LIMIT', isWorking: false }],
    ['a stop market order', { type: 'STOP_LOSS', priceTicks: 0, stopTicks: 3_000_000, isWorking: false }],
    ['an OCO leg (its funds are its list’s)', { orderListId: 3, lockAmount: '0' }],
    ['a pending leg', { orderListId: 3, lockAmount: '0', status: 'PENDING_NEW', isWorking: false }],
    [
      'a pending MARKET leg (no price to check NOTIONAL at)',
      { orderListId: 3, type: 'MARKET', priceTicks: 0 },
    ],
  ])('sends %s to the engine, which decides', async (_name, order) => {
    const t = setup([resting(order)]);
    const amended = await t.service.amendKeepPriority(USER, params(), t.io);
    expect(amended.qtyLots).toBe(600);
    expect(t.recorded).toHaveLength(1);
  });

  it('refuses an eleventh amend of one order (MAX_NUM_ORDER_AMENDS 10) before recording anything', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({
      executionId: 10 + i,
      clientOrderId: 'keep',
      origQtyLots: 2000 - i,
      newQtyLots: 1999 - i,
      time: i,
    }));
    const t = setup([resting()], new Map([[5, ten]]));
    const e = await rejectionOf(t.service.amendKeepPriority(USER, params(), t.io));
    expect(e).toEqual({ status: 400, code: -2038, msg: 'Filter failure: MAX_NUM_ORDER_AMENDS' });
    expect(t.recorded).toEqual([]);
    const nine = setup([resting()], new Map([[5, ten.slice(1)]]));
    expect((await nine.service.amendKeepPriority(USER, params(), nine.io)).qtyLots).toBe(600);
  });

  it('answers the order as this amend left it when a later amend settled with it', async () => {
    const t = setup([resting()]);
    // The row already shows the next amend's 500 lots and seq 50; this amend's own answer was seq 44.
    t.engine((o) => ({ order: { ...o, qtyLots: 500, lastSeq: 50 }, executionId: 44 }));
    expect(await t.service.amendKeepPriority(USER, params(), t.io)).toMatchObject({
      qtyLots: 600,
      lastSeq: 44,
    });
  });

  it('reports the engine refusing the amend, the order closing first, and no answer in time', async () => {
    const t = setup([resting()]);
    t.engine((o) => ({ order: { ...o, lastSeq: 9 } }));
    expect(await rejectionOf(t.service.amendKeepPriority(USER, params(), t.io))).toMatchObject({
      code: -2038,
      msg: 'Order amend rejected by the matching engine.',
    });
    t.engine((o) => ({ order: { ...o, status: 'FILLED', executedLots: o.qtyLots, lastSeq: 9 } }));
    expect(await rejectionOf(t.service.amendKeepPriority(USER, params(), t.io))).toMatchObject({
      code: -2038,
      msg: 'Unknown order sent.',
    });
    t.engine(() => undefined);
    expect(await rejectionOf(t.service.amendKeepPriority(USER, params(), t.io))).toMatchObject({
      status: 503,
      code: -1007,
    });
  });
});

describe('amend response', () => {
  it("is Binance's shape: amendedOrder with qty and cumulativeQuoteQty, workingTime only once working", () => {
    const o = resting({
      qtyLots: 600,
      executedLots: 200,
      cumQuote: 600_000_000,
      status: 'PARTIALLY_FILLED',
      workingTime: 77,
      lastSeq: 42,
    });
    expect(amendJson(btc, o, 1234, 'keep')).toEqual({
      transactTime: 1234,
      executionId: 42,
      amendedOrder: {
        symbol: 'BTCUSDT',
        orderId: 5,
        orderListId: -1,
        origClientOrderId: 'keep',
        clientOrderId: 'keep',
        price: '30000.00000000',
        qty: '0.00600000',
        executedQty: '0.00200000',
        preventedQty: '0.00000000',
        quoteOrderQty: '0.00000000',
        cumulativeQuoteQty: '60.00000000',
        status: 'PARTIALLY_FILLED',
        timeInForce: 'GTC',
        type: 'LIMIT',
        side: 'BUY',
        workingTime: 77,
        selfTradePreventionMode: 'EXPIRE_MAKER',
      },
    });
    expect(amendJson(btc, { ...o, isWorking: false }, 1, 'keep').amendedOrder).not.toHaveProperty(
      'workingTime',
    );
  });
});
