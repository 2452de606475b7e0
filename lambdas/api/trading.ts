// Signed order endpoints (Binance spot v3): POST/GET/DELETE /api/v3/order, POST /api/v3/order/test,
// POST /api/v3/order/cancelReplace, PUT /api/v3/order/amend/keepPriority, GET/DELETE /api/v3/openOrders,
// GET /api/v3/allOrders; order lists and prevented matches (./order-lists.ts).
import { z } from 'zod';
import { authenticate } from '../shared/auth/signed-request';
import {
  BinanceError,
  createApiHandler,
  parseParams,
  router,
  WithHeaders,
  idParam,
  limitParam,
  symbolParam,
  type ApiRequest,
} from '../shared/http';
import { dbPool } from '../shared/db';
import { orderCounts } from '../shared/ledger/order-repository';
import { OPEN_STATUSES, type OrderRecord } from '../shared/stores/orders';
import { apiContext } from './context';
import { commandApplied, waitForAmendAnswer } from './orders/answer-waiter';
import {
  amendJson,
  amendmentJson,
  cancelJson,
  cancelOrderListJson,
  takerFillsJson,
  newOrderJson,
  orderJson,
} from './orders/format';
import { cancelReplaceAnswer } from './orders/cancel-replace';
import {
  CANCEL_REPLACE_MODES,
  orderCountHeaders,
  RATE_LIMIT_EXCEEDED_MODES,
  type PlacedOrder,
} from './orders/order-service';
import { planOrder } from './orders/plan-order';
import { ORDER_LIST_ROUTES } from './order-lists';

const orderRefSchema = z.object({
  symbol: symbolParam,
  orderId: idParam.optional(),
  origClientOrderId: z.string().max(64).optional(),
  newClientOrderId: z.string().max(64).optional(),
});
const newOrderSchema = z.object({
  symbol: symbolParam,
  side: z.string().max(10),
  type: z.string().max(20),
  timeInForce: z.string().max(5).optional(),
  quantity: z.string().max(40).optional(),
  quoteOrderQty: z.string().max(40).optional(),
  price: z.string().max(40).optional(),
  stopPrice: z.string().max(40).optional(),
  icebergQty: z.string().max(40).optional(),
  trailingDelta: z.string().max(20).optional(),
  newClientOrderId: z
    .string()
    .regex(/^[a-zA-Z0-9\-_.]{1,36}$/)
    .optional(),
  selfTradePreventionMode: z.string().max(20).optional(),
  newOrderRespType: z.enum(['ACK', 'RESULT', 'FULL']).optional(),
});

/** How long a RESULT/FULL response (or a cancel) waits for the engine's answer before returning what is known. */
const WAIT_FOR_ENGINE_MS = 3_000;

const engineAnswered = (o: OrderRecord) => o.lastSeq > 0;
const closed = (o: OrderRecord) => !OPEN_STATUSES.has(o.status);

async function waitForEngine(order: OrderRecord, done: (o: OrderRecord) => boolean): Promise<OrderRecord> {
  if (done(order)) return order;
  return (await apiContext().answers.wait(order.orderId, done, WAIT_FOR_ENGINE_MS)) ?? order;
}

/** A new order's POST /api/v3/order answer by newOrderRespType (RESULT/FULL after the engine's answer). */
async function newOrderResponse(placed: PlacedOrder, respType: 'ACK' | 'RESULT' | 'FULL') {
  const ctx = apiContext();
  const spec = ctx.orderService.market(placed.symbol);
  if (respType === 'ACK') return newOrderJson(spec, placed, 'ACK', []);
  const answered = await waitForEngine(placed, engineAnswered);
  // The order row keeps no trailing fields yet (docs/api.md#trailing-stops): the placed order has them.
  const order = placed.trailingDelta
    ? { ...answered, trailingDelta: placed.trailingDelta, trailingTime: answered.trailingTime ?? -1 }
    : answered;
  // A new order's fills at its first answer are all taker fills, settled in the same transaction that
  // recorded the answer.
  const fills =
    respType === 'FULL' && order.executedLots > 0
      ? takerFillsJson(spec, await ctx.liveOrders.takerFills(order.orderId), placed.userId)
      : [];
  return newOrderJson(spec, order, respType, fills);
}

/** Binance's default: FULL for LIMIT and MARKET, ACK for the other types. */
const respTypeOf = (p: { type: string; newOrderRespType?: 'ACK' | 'RESULT' | 'FULL' }) =>
  p.newOrderRespType ?? (p.type === 'LIMIT' || p.type === 'MARKET' ? 'FULL' : 'ACK');

async function placeOrder(req: ApiRequest) {
  const ctx = apiContext();
  // Past capacity: 503/-1008 at once, before any work and before the request could wait long enough for its
  // recvWindow to expire. The signature's replay marker is recorded in the order's own transaction.
  const { p, placed } = await ctx.admission.admit(async () => {
    const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
    const p = parseParams(newOrderSchema, req.params);
    return { p, placed: await ctx.orderService.place(userId, p, replay) };
  });
  return new WithHeaders(
    await newOrderResponse(placed, respTypeOf(p)),
    orderCountHeaders(placed.orderCounts),
  );
}

export const cancelReplaceSchema = newOrderSchema.extend({
  // z.string() first, so a missing mode is -1102 (mandatory) and an unknown one -1100.
  cancelReplaceMode: z.string().pipe(z.enum(CANCEL_REPLACE_MODES)),
  cancelOrderId: idParam.optional(),
  cancelOrigClientOrderId: z.string().max(64).optional(),
  cancelNewClientOrderId: z
    .string()
    .regex(/^[a-zA-Z0-9\-_.]{1,36}$/)
    .optional(),
  cancelRestrictions: z.string().max(30).optional(),
  orderRateLimitExceededMode: z.enum(RATE_LIMIT_EXCEEDED_MODES).optional(),
});

/** How long a cancel-replace waits for the engine to answer its cancel before answering -1007. */
const WAIT_FOR_CANCEL_MS = 5_000;

async function cancelReplace(req: ApiRequest) {
  const ctx = apiContext();
  const { p, result } = await ctx.admission.admit(async () => {
    const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
    const p = parseParams(cancelReplaceSchema, req.params);
    const result = await ctx.orderService.cancelReplace(
      userId,
      p,
      {
        waitClosed: async (o) =>
          (await ctx.answers.wait(o.orderId, closed, WAIT_FOR_CANCEL_MS)) ??
          (await ctx.liveOrders.get(o.orderId)) ??
          o,
        orderCounts: () => orderCounts(dbPool(), userId, Date.now()),
      },
      replay,
    );
    return { p, result };
  });
  const spec = ctx.orderService.market(p.symbol);
  const { cancel, placed } = result;
  const cancelBody = cancel.ok
    ? cancelJson(spec, cancel.value, Date.now(), p.cancelNewClientOrderId ?? cancel.value.clientOrderId)
    : undefined;
  const newBody =
    placed !== 'NOT_ATTEMPTED' && placed.ok ? await newOrderResponse(placed.value, respTypeOf(p)) : undefined;
  const headers = placed !== 'NOT_ATTEMPTED' && placed.ok ? orderCountHeaders(placed.value.orderCounts) : {};
  return new WithHeaders(cancelReplaceAnswer(result, cancelBody, newBody, headers), headers);
}

export const amendSchema = z.object({
  symbol: symbolParam,
  orderId: idParam.optional(),
  origClientOrderId: z.string().max(64).optional(),
  newClientOrderId: z
    .string()
    .regex(/^[a-zA-Z0-9\-_.]{1,36}$/)
    .optional(),
  newQty: z.string().max(40),
});

/** The engine's answer to the amend `cmdId` (answer-waiter.ts), or undefined after WAIT_FOR_ENGINE_MS. */
function waitForAmend(order: OrderRecord, newLots: number, cmdId: string) {
  const ctx = apiContext();
  return waitForAmendAnswer(
    {
      answers: ctx.answers,
      amendmentOf: (orderId, cmd) => ctx.liveOrders.amendmentOf(orderId, cmd),
      order: (orderId) => ctx.liveOrders.get(orderId),
      applied: (cmd) => commandApplied(dbPool(), cmd),
    },
    order,
    newLots,
    cmdId,
    WAIT_FOR_ENGINE_MS,
  );
}

async function amendKeepPriority(req: ApiRequest) {
  const ctx = apiContext();
  const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
  const p = parseParams(amendSchema, req.params);
  const order = await ctx.orderService.amendKeepPriority(userId, p, { waitAnswer: waitForAmend }, replay);
  const list = order.orderListId !== undefined ? await ctx.lists.get(order.orderListId) : undefined;
  const withList = list ? { list, legs: await ctx.lists.legs(list) } : undefined;
  return amendJson(ctx.orderService.market(p.symbol), order, Date.now(), order.clientOrderId, withList);
}

const amendmentsSchema = z.object({
  symbol: symbolParam,
  orderId: idParam,
  fromExecutionId: idParam.optional(),
  limit: limitParam(1000, 500),
});

/** GET /api/v3/order/amendments: the caller's own order's amendments, oldest first (migration 21). */
async function orderAmendments(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(amendmentsSchema, req.params);
  const spec = ctx.orderService.market(p.symbol);
  const order = await ctx.orderService.get(userId, p.symbol, { orderId: p.orderId });
  const rows = await ctx.liveOrders.amendments(order.orderId, p.fromExecutionId ?? 0, p.limit);
  return rows.map((a) => amendmentJson(spec, order, a));
}

async function testOrder(req: ApiRequest) {
  const ctx = apiContext();
  await authenticate(req, 'trade', ctx.auth);
  const p = parseParams(newOrderSchema, req.params);
  const spec = ctx.orderService.market(p.symbol);
  const best = await ctx.marketData.getBook(spec.symbol);
  planOrder(spec, p, best.asks[0]?.[0]);
  return {};
}

async function getOrder(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(orderRefSchema, req.params);
  const order = await ctx.orderService.get(userId, p.symbol, p);
  return orderJson(ctx.orderService.market(p.symbol), order);
}

async function cancelOrder(req: ApiRequest) {
  const ctx = apiContext();
  const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
  const p = parseParams(orderRefSchema, req.params);
  const order = await ctx.orderService.cancel(userId, p.symbol, p, replay);
  const after = await waitForEngine(order, closed);
  return cancelJson(
    ctx.orderService.market(p.symbol),
    after,
    Date.now(),
    p.newClientOrderId ?? order.clientOrderId,
  );
}

async function cancelOpenOrders(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'trade', ctx.auth);
  const p = parseParams(z.object({ symbol: symbolParam }), req.params);
  const spec = ctx.orderService.market(p.symbol);
  const cancelled = await ctx.orderService.cancelAll(userId, p.symbol);
  // Order lists as Binance answers them here: each list once, with its legs' reports (docs/api.md#order-lists).
  const lists = await ctx.listService.cancelAll(userId, p.symbol);
  if (cancelled.length === 0 && lists.length === 0) throw new BinanceError(400, -2011, 'Unknown order sent.');
  const after = await Promise.all(cancelled.map((o) => waitForEngine(o, closed)));
  const listsAfter = await Promise.all(
    lists.map(async (l) => {
      const legs = await Promise.all((await ctx.lists.legs(l)).map((o) => waitForEngine(o, closed)));
      return { list: (await ctx.lists.get(l.orderListId)) ?? l, legs };
    }),
  );
  const now = Date.now();
  return [
    ...after.map((o) => cancelJson(spec, o, now, o.clientOrderId)),
    ...listsAfter.map(({ list, legs }) => cancelOrderListJson(spec, list, legs, now)),
  ];
}

async function openOrders(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(z.object({ symbol: symbolParam.optional() }), req.params);
  if (p.symbol) ctx.orderService.market(p.symbol);
  const orders = await ctx.liveOrders.listOpen(userId, p.symbol);
  return orders.map((o) => orderJson(ctx.orderService.market(o.symbol), o));
}

async function allOrders(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(
    z.object({
      symbol: symbolParam,
      orderId: idParam.optional(),
      startTime: idParam.optional(),
      endTime: idParam.optional(),
      limit: limitParam(1000, 500),
    }),
    req.params,
  );
  const spec = ctx.orderService.market(p.symbol);
  // History from DynamoDB, merged with the live rows (an order the data processor has not written yet, and
  // the latest state of open ones).
  const [history, live] = await Promise.all([
    ctx.orderHistory.listAll(userId, p.symbol, { fromOrderId: p.orderId, limit: p.limit }),
    ctx.liveOrders.listOpen(userId, p.symbol),
  ]);
  const byId = new Map(history.map((o) => [o.orderId, o]));
  for (const o of live) if (p.orderId === undefined || o.orderId >= p.orderId) byId.set(o.orderId, o);
  const orders = [...byId.values()].sort((a, b) => a.orderId - b.orderId).slice(0, p.limit);
  return orders
    .filter(
      (o) =>
        (p.startTime === undefined || o.time >= p.startTime) &&
        (p.endTime === undefined || o.time <= p.endTime),
    )
    .map((o) => orderJson(spec, o));
}

export const handler = createApiHandler(
  router({
    'POST /api/v3/order': placeOrder,
    'POST /api/v3/order/test': testOrder,
    'POST /api/v3/order/cancelReplace': cancelReplace,
    'PUT /api/v3/order/amend/keepPriority': amendKeepPriority,
    'GET /api/v3/order/amendments': orderAmendments,
    'GET /api/v3/order': getOrder,
    'DELETE /api/v3/order': cancelOrder,
    'GET /api/v3/openOrders': openOrders,
    'DELETE /api/v3/openOrders': cancelOpenOrders,
    'GET /api/v3/allOrders': allOrders,
    ...ORDER_LIST_ROUTES,
  }),
);
