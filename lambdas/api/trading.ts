// Signed order endpoints (Binance spot v3): POST/GET/DELETE /api/v3/order, POST /api/v3/order/test,
// GET/DELETE /api/v3/openOrders, GET /api/v3/allOrders.
import { z } from 'zod';
import { assetScale } from '../shared/money';
import { authenticate } from '../shared/auth/signed-request';
import { BinanceError, createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import type { OrderRecord } from '../shared/stores/orders';
import { apiContext } from './context';
import { cancelJson, fillJson, newOrderJson, orderJson } from './orders/format';
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

/** How long a RESULT/FULL response waits for the engine's answer before returning what is known. */
const WAIT_FOR_ENGINE_MS = 3_000;

async function waitForEngine(
  orderId: number,
  done: (o: OrderRecord) => boolean,
): Promise<OrderRecord | undefined> {
  const { orders } = apiContext();
  const until = Date.now() + WAIT_FOR_ENGINE_MS;
  let order = await orders.get(orderId);
  while (order && !done(order) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    order = await orders.get(orderId);
  }
  return order;
}

const engineAnswered = (o: OrderRecord) => o.lastSeq > 0;
const closed = (o: OrderRecord) => o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED';

async function placeOrder(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'trade', ctx.auth);
  const p = parseParams(newOrderSchema, req.params);
  const placed = await ctx.orderService.place(userId, p);
  const spec = ctx.orderService.market(p.symbol);
  const respType = p.newOrderRespType ?? (p.type === 'LIMIT' || p.type === 'MARKET' ? 'FULL' : 'ACK');
  if (respType === 'ACK') return newOrderJson(spec, placed, 'ACK', []);
  const order = (await waitForEngine(placed.orderId, engineAnswered)) ?? placed;
  const fills =
    respType === 'FULL' && order.executedLots > 0
      ? (await ctx.userTrades.list(userId, spec.symbol, { orderId: order.orderId, limit: 1000 }))
          .filter((t) => t.orderId === order.orderId)
          .map((t) => fillJson(spec, t, assetScale(t.commissionAsset)))
      : [];
  return newOrderJson(spec, order, respType, fills);
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
  const { userId } = await authenticate(req, 'trade', ctx.auth);
  const p = parseParams(orderRefSchema, req.params);
  const order = await ctx.orderService.cancel(userId, p.symbol, p);
  const after = (await waitForEngine(order.orderId, closed)) ?? order;
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
  const after = await Promise.all(cancelled.map(async (o) => (await waitForEngine(o.orderId, closed)) ?? o));
  const now = Date.now();
  return after.map((o) => cancelJson(spec, o, now, o.clientOrderId));
}

async function openOrders(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(z.object({ symbol: symbolParam.optional() }), req.params);
  if (p.symbol) ctx.orderService.market(p.symbol);
  const orders = await ctx.orders.listOpen(userId, p.symbol);
  return orders
    .filter((o) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')
    .map((o) => orderJson(ctx.orderService.market(o.symbol), o));
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
  const orders = await ctx.orders.listAll(userId, p.symbol, { fromOrderId: p.orderId, limit: p.limit });
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
