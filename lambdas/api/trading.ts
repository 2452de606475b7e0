// Signed order endpoints (Binance spot v3): POST/GET/DELETE /api/v3/order, POST /api/v3/order/test,
// GET/DELETE /api/v3/openOrders, GET /api/v3/allOrders.
import { z } from 'zod';
import { assetScale } from '../shared/money';
import { authenticate } from '../shared/auth/signed-request';
import {
  BinanceError,
  createApiHandler,
  parseParams,
  router,
  WithHeaders,
  type ApiRequest,
} from '../shared/http';
import { userTradesOf } from '../shared/ledger/fills';
import { OPEN_STATUSES, type OrderRecord } from '../shared/stores/orders';
import { apiContext } from './context';
import { cancelJson, fillJson, newOrderJson, orderJson } from './orders/format';
import { orderCountHeaders } from './orders/order-service';
import { planOrder } from './orders/plan-order';

const symbolParam = z.string().regex(/^[A-Z0-9]{2,20}$/);
const idParam = z
  .string()
  .regex(/^\d{1,16}$/)
  .transform(Number);
export const limitParam = (max: number, def: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/)
    .optional()
    .transform((s) => (s === undefined ? def : Number(s)))
    .refine((n) => n >= 1 && n <= max, { message: `limit must be between 1 and ${max}` });

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

async function placeOrder(req: ApiRequest) {
  const ctx = apiContext();
  // Past capacity: 503/-1008 at once, before any work and before the request could wait long enough for its
  // recvWindow to expire. The signature's replay marker is recorded in the order's own transaction.
  const { p, placed } = await ctx.admission.admit(async () => {
    const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
    const p = parseParams(newOrderSchema, req.params);
    return { p, placed: await ctx.orderService.place(userId, p, replay) };
  });
  const spec = ctx.orderService.market(p.symbol);
  const respType = p.newOrderRespType ?? (p.type === 'LIMIT' || p.type === 'MARKET' ? 'FULL' : 'ACK');
  const counted = (json: unknown) => new WithHeaders(json, orderCountHeaders(placed.orderCounts));
  if (respType === 'ACK') return counted(newOrderJson(spec, placed, 'ACK', []));
  const order = await waitForEngine(placed, engineAnswered);
  // A new order's fills at its first answer are all taker fills, settled in the same transaction that
  // recorded the answer.
  const fills =
    respType === 'FULL' && order.executedLots > 0
      ? (await ctx.liveOrders.takerFills(order.orderId)).map((f) => {
          const taker = userTradesOf(spec, {
            tradeId: f.tradeId,
            price: f.priceTicks,
            quantity: f.qtyLots,
            takerSide: f.takerSide,
            ts: f.time,
            makerOrderId: f.makerOrderId,
            takerOrderId: f.takerOrderId,
            makerUserId: 0,
            takerUserId: placed.userId,
          })[1];
          return fillJson(spec, taker, assetScale(taker.commissionAsset));
        })
      : [];
  return counted(newOrderJson(spec, order, respType, fills));
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
  if (cancelled.length === 0) throw new BinanceError(400, -2011, 'Unknown order sent.');
  const after = await Promise.all(cancelled.map((o) => waitForEngine(o, closed)));
  const now = Date.now();
  return after.map((o) => cancelJson(spec, o, now, o.clientOrderId));
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
    'GET /api/v3/order': getOrder,
    'DELETE /api/v3/order': cancelOrder,
    'GET /api/v3/openOrders': openOrders,
    'DELETE /api/v3/openOrders': cancelOpenOrders,
    'GET /api/v3/allOrders': allOrders,
  }),
);
