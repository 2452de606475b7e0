// POST /api/v3/order/cancelReplace without the exchange: the request schema (Binance's error codes), the
// domain rules of OrderService.cancelReplace over in-memory fakes (what is checked before anything changes,
// which transaction records the replay marker, when the new order is not attempted), and the response
// shapes and HTTP statuses of every outcome.
import { cancelReplaceAnswer, CancelReplaceError } from '@lambdas/api/orders/cancel-replace';
import {
  OrderService,
  type CancelReplaceIo,
  type CancelReplaceParams,
  type CancelReplaceResult,
  type PlacedOrder,
} from '@lambdas/api/orders/order-service';
import { cancelReplaceSchema } from '@lambdas/api/trading';
import { BinanceError, parseParams } from '@lambdas/shared/http';
import { errorResponse } from '@lambdas/shared/http';
import type {
  AcceptRequest,
  AcceptResult,
  OutboxMessage,
  ReplayMarker,
} from '@lambdas/shared/ledger/order-repository';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import { MARKETS } from '@contracts/markets';
import { orderRecord } from '../support/order-record';

const USER = 7;

function errorOf(fn: () => unknown): { status: number; code: number; msg: string } {
  try {
    fn();
  } catch (err) {
    const e = err as BinanceError;
    return { status: e.statusCode, code: e.code, msg: e.message };
  }
  throw new Error('expected a Binance error');
}

async function rejectionOf(p: Promise<unknown>): Promise<{ status: number; code: number; msg: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as BinanceError;
    return { status: e.statusCode, code: e.code, msg: e.message };
  }
  throw new Error('expected a Binance error');
}

describe('cancelReplace request schema', () => {
  const base = {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.01',
    price: '30000',
  };

  it('takes the new order and the cancel parameters, ids as integers', () => {
    expect(
      parseParams(cancelReplaceSchema, {
        ...base,
        cancelReplaceMode: 'ALLOW_FAILURE',
        cancelOrderId: '42',
        cancelOrigClientOrderId: 'old-1',
        cancelNewClientOrderId: 'cancel-1',
        cancelRestrictions: 'ONLY_NEW',
        orderRateLimitExceededMode: 'CANCEL_ONLY',
        newOrderRespType: 'RESULT',
      }),
    ).toEqual({
      ...base,
      cancelReplaceMode: 'ALLOW_FAILURE',
      cancelOrderId: 42,
      cancelOrigClientOrderId: 'old-1',
      cancelNewClientOrderId: 'cancel-1',
      cancelRestrictions: 'ONLY_NEW',
      orderRateLimitExceededMode: 'CANCEL_ONLY',
      newOrderRespType: 'RESULT',
    });
  });

  it.each([
    [{}, -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed."],
    [{ cancelReplaceMode: 'stop_on_failure' }, -1100, "parameter 'cancelReplaceMode'"],
    [{ cancelReplaceMode: 'STOP_ON_FAILURE', cancelOrderId: '-3' }, -1100, "parameter 'cancelOrderId'"],
    [{ cancelReplaceMode: 'STOP_ON_FAILURE', cancelOrderId: '1.5' }, -1100, "parameter 'cancelOrderId'"],
    [
      { cancelReplaceMode: 'STOP_ON_FAILURE', cancelNewClientOrderId: 'has space' },
      -1100,
      "parameter 'cancelNewClientOrderId'",
    ],
    [
      { cancelReplaceMode: 'STOP_ON_FAILURE', orderRateLimitExceededMode: 'NEVER' },
      -1100,
      "parameter 'orderRateLimitExceededMode'",
    ],
    [
      { cancelReplaceMode: 'STOP_ON_FAILURE', newOrderRespType: 'MAX' },
      -1100,
      "parameter 'newOrderRespType'",
    ],
  ])('refuses %j with %i', (extra, code, msg) => {
    const e = errorOf(() => parseParams(cancelReplaceSchema, { ...base, ...extra }));
    expect(e.status).toBe(400);
    expect(e.code).toBe(code);
    expect(e.msg).toContain(msg);
  });
});

/** The live orders and the accept transaction in memory, recording what each call was given. */
class FakeOrders {
  readonly rows = new Map<number, OrderRecord>();
  readonly accepted: AcceptRequest[] = [];
  readonly cancelRequests: Array<{ orderId: number; replay?: ReplayMarker }> = [];
  readonly usedSignatures = new Set<string>();
  acceptOutcome: AcceptResult['outcome'] = 'accepted';
  private nextId = 100;

  private fresh(replay?: ReplayMarker): boolean {
    if (!replay) return true;
    if (this.usedSignatures.has(replay.signature)) return false;
    this.usedSignatures.add(replay.signature);
    return true;
  }

  async get(orderId: number) {
    return this.rows.get(orderId);
  }
  async getByClientOrderId(userId: number, market: string, clientOrderId: string) {
    return [...this.rows.values()].find(
      (o) => o.userId === userId && o.symbol === market && o.clientOrderId === clientOrderId,
    );
  }
  async listOpen() {
    return [...this.rows.values()];
  }
  async amendments() {
    return [];
  }

  async requestCancel(
    userId: number,
    orderId: number,
    cancel: (o: OrderRecord) => { cmdId: string },
    groupId: string,
    replay?: ReplayMarker,
  ): Promise<{ order: OrderRecord; messages: OutboxMessage[] } | 'replayed_signature' | undefined> {
    if (!this.fresh(replay)) return 'replayed_signature';
    this.cancelRequests.push({ orderId, replay });
    const order = this.rows.get(orderId);
    if (!order || order.userId !== userId || !['NEW', 'PARTIALLY_FILLED'].includes(order.status))
      return undefined;
    const message = cancel(order);
    return { order, messages: [{ cmdId: message.cmdId, market: order.symbol, groupId, body: '{}' }] };
  }
  async accept(req: AcceptRequest): Promise<AcceptResult> {
    if (!this.fresh(req.replay)) return { outcome: 'replayed_signature' };
    this.accepted.push(req);
    if (this.acceptOutcome !== 'accepted') return { outcome: this.acceptOutcome } as AcceptResult;
    const order = { ...req.order, orderId: ++this.nextId };
    return {
      outcome: 'accepted',
      order,
      message: { cmdId: `p-${order.orderId}`, market: order.symbol, groupId: req.groupId, body: '{}' },
      counts: { per10s: 1, perDay: 1 },
    };
  }
}

function setup() {
  const orders = new FakeOrders();
  const sent: string[] = [];
  const service = new OrderService({
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    orders,
    sender: { send: async (messages) => void sent.push(...messages.map((m) => m.cmdId)) },
    book: { bestPrices: async () => ({ bid: 2_999_000, ask: 3_000_000 }) },
    clock: () => 1_700_000_000_000,
    newClientOrderId: () => 'generated',
  });
  // The engine's answer to a cancel, as the answer waiter would return it.
  let engineAnswer: (o: OrderRecord) => OrderRecord = (o) => ({ ...o, status: 'CANCELED', lastSeq: 9 });
  const io: CancelReplaceIo = {
    waitClosed: async (o) => engineAnswer(o),
    orderCounts: async () => ({ per10s: 0, perDay: 0 }),
  };
  return {
    orders,
    sent,
    service,
    io,
    answer(fn: (o: OrderRecord) => OrderRecord) {
      engineAnswer = fn;
    },
  };
}

const params = (over: Partial<CancelReplaceParams> = {}): CancelReplaceParams => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  quantity: '0.01',
  price: '31000',
  cancelReplaceMode: 'STOP_ON_FAILURE',
  cancelOrderId: 1,
  ...over,
});
const replay: ReplayMarker = { signature: 'sig-1', expiresAtMs: 1 };

describe('OrderService.cancelReplace', () => {
  it('cancels (through the engine) and then places; the replay marker goes with the cancel', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER, clientOrderId: 'old' }));
    const r = await t.service.cancelReplace(USER, params(), t.io, replay);
    expect(r.cancel).toEqual({
      ok: true,
      value: expect.objectContaining({ orderId: 1, status: 'CANCELED' }),
    });
    expect(r.placed).toEqual({
      ok: true,
      value: expect.objectContaining({ orderId: 101, priceTicks: 3_100_000 }),
    });
    expect(t.orders.cancelRequests).toEqual([{ orderId: 1, replay }]);
    expect(t.orders.accepted).toHaveLength(1);
    expect(t.orders.accepted[0].replay).toBeUndefined();
    expect(t.orders.accepted[0].order).toMatchObject({ lockAsset: 'USDT', lockAmount: '31000000000' });
    expect(t.sent).toEqual(['c-1', 'p-101']);
  });

  it('STOP_ON_FAILURE: no such order (or not the caller’s, or not open) → the new order is not attempted', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER + 1 }));
    t.orders.rows.set(2, orderRecord({ orderId: 2, userId: USER, status: 'FILLED' }));
    for (const id of [1, 2, 3]) {
      const r = await t.service.cancelReplace(USER, params({ cancelOrderId: id }), t.io, replay);
      expect(r.placed).toBe('NOT_ATTEMPTED');
      expect(r.cancel).toEqual({ ok: false, error: expect.objectContaining({ code: -2011 }) });
    }
    expect(t.orders.cancelRequests).toEqual([]);
    expect(t.orders.accepted).toEqual([]);
    expect(t.sent).toEqual([]);
  });

  it('ALLOW_FAILURE: a failed cancel that ran no transaction leaves the replay marker to the place', async () => {
    const t = setup();
    const r = await t.service.cancelReplace(
      USER,
      params({ cancelReplaceMode: 'ALLOW_FAILURE', cancelOrderId: 5 }),
      t.io,
      replay,
    );
    expect(r.cancel.ok).toBe(false);
    expect(r.placed).toMatchObject({ ok: true });
    expect(t.orders.accepted[0].replay).toEqual(replay);
  });

  it('a cancel the engine answers with a fill instead fails the cancel half (-2011)', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER }));
    t.answer((o) => ({ ...o, status: 'FILLED', executedLots: o.qtyLots, lastSeq: 5 }));
    const stop = await t.service.cancelReplace(USER, params(), t.io);
    expect(stop).toEqual({
      cancel: { ok: false, error: expect.objectContaining({ code: -2011, message: 'Unknown order sent.' }) },
      placed: 'NOT_ATTEMPTED',
    });
  });

  it('no answer from the engine in time is -1007, whatever the mode: the cancel is queued, the outcome unknown', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER }));
    t.answer((o) => o);
    for (const cancelReplaceMode of ['STOP_ON_FAILURE', 'ALLOW_FAILURE'] as const) {
      expect(await rejectionOf(t.service.cancelReplace(USER, params({ cancelReplaceMode }), t.io))).toEqual({
        status: 503,
        code: -1007,
        msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
      });
    }
    expect(t.orders.accepted).toEqual([]);
  });

  it('checks before anything changes: ids, cancelRestrictions, the new order’s filters, the ORDERS limit', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER }));
    const cases: Array<[Partial<CancelReplaceParams>, number, number]> = [
      [{ cancelOrderId: undefined }, 400, -1102],
      [{ cancelRestrictions: 'ONLY_FILLED' }, 400, -1145],
      [{ price: '31000.001' }, 400, -1013],
      [{ quantity: undefined }, 400, -1102],
      [{ type: 'LIMIT_MAKER', timeInForce: undefined, trailingDelta: '100' }, 400, -1106],
      [{ symbol: 'XXXUSDT' }, 400, -1121],
    ];
    for (const [over, status, code] of cases) {
      const e = await rejectionOf(t.service.cancelReplace(USER, params(over), t.io, replay));
      expect({ over, status: e.status, code: e.code }).toEqual({ over, status, code });
    }
    const limited: CancelReplaceIo = { ...t.io, orderCounts: async () => ({ per10s: 100, perDay: 100 }) };
    expect(await rejectionOf(t.service.cancelReplace(USER, params(), limited, replay))).toEqual({
      status: 429,
      code: -1015,
      msg: 'Too many new orders; current limit is 100 orders per 10 SECOND.',
    });
    expect(t.orders.cancelRequests).toEqual([]);
    expect(t.orders.accepted).toEqual([]);
    expect(t.orders.usedSignatures.size).toBe(0);
  });

  it('orderRateLimitExceededMode=CANCEL_ONLY cancels even past the limit; the place then answers -1015', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER }));
    t.orders.acceptOutcome = 'order_rate_10s';
    const limited: CancelReplaceIo = { ...t.io, orderCounts: async () => ({ per10s: 100, perDay: 100 }) };
    const r = await t.service.cancelReplace(
      USER,
      params({ orderRateLimitExceededMode: 'CANCEL_ONLY' }),
      limited,
    );
    expect(r.cancel.ok).toBe(true);
    expect(r.placed).toEqual({ ok: false, error: expect.objectContaining({ statusCode: 429, code: -1015 }) });
  });

  it('cancelRestrictions against the order’s status; both ids must name the same order', async () => {
    const t = setup();
    t.orders.rows.set(
      1,
      orderRecord({ orderId: 1, userId: USER, clientOrderId: 'a', status: 'PARTIALLY_FILLED' }),
    );
    const restricted = await t.service.cancelReplace(USER, params({ cancelRestrictions: 'ONLY_NEW' }), t.io);
    expect(restricted.cancel).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: -2011,
        message: 'Order was not canceled due to cancel restrictions.',
      }),
    });
    const mismatch = await t.service.cancelReplace(USER, params({ cancelOrigClientOrderId: 'b' }), t.io);
    expect(mismatch.cancel).toMatchObject({ ok: false, error: { code: -2011 } });
    expect(t.orders.cancelRequests).toEqual([]);
    const ok = await t.service.cancelReplace(
      USER,
      params({ cancelOrigClientOrderId: 'a', cancelRestrictions: 'ONLY_PARTIALLY_FILLED' }),
      t.io,
    );
    expect(ok.cancel.ok).toBe(true);
  });

  it('a used signature found by the cancel refuses the whole request (-1022) and places nothing', async () => {
    const t = setup();
    t.orders.rows.set(1, orderRecord({ orderId: 1, userId: USER }));
    t.orders.usedSignatures.add(replay.signature);
    const e = await rejectionOf(
      t.service.cancelReplace(USER, params({ cancelReplaceMode: 'ALLOW_FAILURE' }), t.io, replay),
    );
    expect(e.code).toBe(-1022);
    expect(t.orders.accepted).toEqual([]);
  });
});

describe('cancelReplace responses', () => {
  const cancelled = orderRecord({ orderId: 1, status: 'CANCELED' });
  const placed = { ...orderRecord({ orderId: 2 }), orderCounts: { per10s: 1, perDay: 1 } } as PlacedOrder;
  const unknown = new BinanceError(400, -2011, 'Unknown order sent.');
  const broke = new BinanceError(400, -2010, 'Account has insufficient balance for requested action.');
  const rate = new BinanceError(
    429,
    -1015,
    'Too many new orders; current limit is 100 orders per 10 SECOND.',
    undefined,
    {
      'Retry-After': '3',
    },
  );
  const cancelBody = { orderId: 1, status: 'CANCELED' };
  const newBody = { orderId: 2, status: 'NEW' };

  function answer(result: CancelReplaceResult) {
    try {
      return { status: 200, body: cancelReplaceAnswer(result, cancelBody, newBody), headers: {} };
    } catch (err) {
      expect(err).toBeInstanceOf(CancelReplaceError);
      const res = errorResponse(err);
      return { status: res.statusCode, body: JSON.parse(res.body) as unknown, headers: res.headers };
    }
  }

  it('both halves: 200 with the results and both responses, in Binance’s key order', () => {
    const r = answer({ cancel: { ok: true, value: cancelled }, placed: { ok: true, value: placed } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      cancelResult: 'SUCCESS',
      newOrderResult: 'SUCCESS',
      cancelResponse: cancelBody,
      newOrderResponse: newBody,
    });
    expect(Object.keys(r.body as object)).toEqual([
      'cancelResult',
      'newOrderResult',
      'cancelResponse',
      'newOrderResponse',
    ]);
  });

  it.each<[string, CancelReplaceResult, number, unknown]>([
    [
      'cancel failed, new order not attempted: 400 / -2022',
      { cancel: { ok: false, error: unknown }, placed: 'NOT_ATTEMPTED' },
      400,
      {
        code: -2022,
        msg: 'Order cancel-replace failed.',
        data: {
          cancelResult: 'FAILURE',
          newOrderResult: 'NOT_ATTEMPTED',
          cancelResponse: { code: -2011, msg: 'Unknown order sent.' },
          newOrderResponse: null,
        },
      },
    ],
    [
      'cancel done, new order failed: 409 / -2021',
      { cancel: { ok: true, value: cancelled }, placed: { ok: false, error: broke } },
      409,
      {
        code: -2021,
        msg: 'Order cancel-replace partially failed.',
        data: {
          cancelResult: 'SUCCESS',
          newOrderResult: 'FAILURE',
          cancelResponse: cancelBody,
          newOrderResponse: { code: -2010, msg: 'Account has insufficient balance for requested action.' },
        },
      },
    ],
    [
      'cancel failed, new order placed: 409 / -2021',
      { cancel: { ok: false, error: unknown }, placed: { ok: true, value: placed } },
      409,
      {
        code: -2021,
        msg: 'Order cancel-replace partially failed.',
        data: {
          cancelResult: 'FAILURE',
          newOrderResult: 'SUCCESS',
          cancelResponse: { code: -2011, msg: 'Unknown order sent.' },
          newOrderResponse: newBody,
        },
      },
    ],
    [
      'both failed: 400 / -2022',
      { cancel: { ok: false, error: unknown }, placed: { ok: false, error: broke } },
      400,
      {
        code: -2022,
        msg: 'Order cancel-replace failed.',
        data: {
          cancelResult: 'FAILURE',
          newOrderResult: 'FAILURE',
          cancelResponse: { code: -2011, msg: 'Unknown order sent.' },
          newOrderResponse: { code: -2010, msg: 'Account has insufficient balance for requested action.' },
        },
      },
    ],
  ])('%s', (_name, result, status, body) => {
    const r = answer(result);
    expect(r.status).toBe(status);
    expect(r.body).toEqual(body);
  });

  it('a new order refused for the ORDERS limit after the cancel: 429 / -2021 with Retry-After', () => {
    const r = answer({ cancel: { ok: true, value: cancelled }, placed: { ok: false, error: rate } });
    expect(r.status).toBe(429);
    expect(r.headers).toMatchObject({ 'Retry-After': '3' });
    expect(r.body).toMatchObject({
      code: -2021,
      data: { cancelResult: 'SUCCESS', newOrderResult: 'FAILURE', newOrderResponse: { code: -1015 } },
    });
  });
});
