// Signed order-list endpoints (Binance spot v3; docs/api.md#order-lists): POST /api/v3/orderList/oco, /oto,
// /otoco, the legacy POST /api/v3/order/oco, DELETE /api/v3/orderList, GET /api/v3/orderList, /allOrderList,
// /openOrderList; and GET /api/v3/myPreventedMatches. Served by the trading function.
import { z } from 'zod';
import { authenticate } from '../shared/auth/signed-request';
import {
  BinanceError,
  parseParams,
  WithHeaders,
  idParam,
  limitParam,
  symbolParam,
  type ApiRequest,
} from '../shared/http';
import { dbPool } from '../shared/db';
import { preventedMatches, type OrderListRecord } from '../shared/ledger/order-list-repository';
import { OPEN_STATUSES, type OrderRecord } from '../shared/stores/orders';
import { apiContext } from './context';
import {
  cancelOrderListJson,
  takerFillsJson,
  newOrderListJson,
  orderListJson,
  preventedMatchJson,
} from './orders/format';
import { orderCountHeaders } from './orders/order-service';
import type { PlacedList } from './orders/list-service';
import {
  ocoFromLegacy,
  type OcoLegParams,
  type OcoParams,
  type OtocoParams,
  type OtoParams,
  type OtoWorkingParams,
} from './orders/plan-list';
import type { ReplayMarker } from '../shared/ledger/order-repository';

const clientId = z
  .string()
  .regex(/^[a-zA-Z0-9\-_.]{1,36}$/)
  .optional();
const decimal = z.string().max(40).optional();

type LegPrefix = 'above' | 'below' | 'pendingAbove' | 'pendingBelow';

/** One leg's parameters under its prefix (`aboveType`, `pendingBelowPrice`, …); the planner checks which are needed. */
const legSchema = (prefix: LegPrefix, typeOptional = false) =>
  z.object({
    [`${prefix}Type`]: typeOptional ? z.string().max(20).optional() : z.string().max(20),
    [`${prefix}ClientOrderId`]: clientId,
    [`${prefix}IcebergQty`]: decimal,
    [`${prefix}Price`]: decimal,
    [`${prefix}StopPrice`]: decimal,
    [`${prefix}TrailingDelta`]: z.string().max(20).optional(),
    [`${prefix}TimeInForce`]: z.string().max(5).optional(),
  });

const ocoSchema = z.object({
  symbol: symbolParam,
  listClientOrderId: clientId,
  side: z.string().max(10),
  quantity: z.string().max(40),
  newOrderRespType: z.enum(['ACK', 'RESULT', 'FULL']).optional(),
  selfTradePreventionMode: z.string().max(20).optional(),
});
const ocoLegsSchema = legSchema('above').merge(legSchema('below'));

const legacyOcoSchema = z.object({
  symbol: symbolParam,
  listClientOrderId: clientId,
  side: z.string().max(10),
  quantity: z.string().max(40),
  limitClientOrderId: clientId,
  price: z.string().max(40),
  limitIcebergQty: decimal,
  trailingDelta: z.string().max(20).optional(),
  stopClientOrderId: clientId,
  stopPrice: z.string().max(40),
  stopLimitPrice: decimal,
  stopIcebergQty: decimal,
  stopLimitTimeInForce: z.string().max(5).optional(),
  newOrderRespType: z.enum(['ACK', 'RESULT', 'FULL']).optional(),
  selfTradePreventionMode: z.string().max(20).optional(),
});

const leg = (p: Record<string, string | undefined>, prefix: LegPrefix): OcoLegParams => ({
  type: p[`${prefix}Type`],
  clientOrderId: p[`${prefix}ClientOrderId`],
  icebergQty: p[`${prefix}IcebergQty`],
  price: p[`${prefix}Price`],
  stopPrice: p[`${prefix}StopPrice`],
  trailingDelta: p[`${prefix}TrailingDelta`],
  timeInForce: p[`${prefix}TimeInForce`],
});

type RespType = 'ACK' | 'RESULT' | 'FULL';

/** How long a RESULT/FULL answer (or a cancel) waits for the engine before returning what is known. */
const WAIT_FOR_ENGINE_MS = 3_000;

const answered = (o: OrderRecord) => o.lastSeq > 0;
const closed = (o: OrderRecord) => !OPEN_STATUSES.has(o.status);

async function waitLegs(orders: OrderRecord[], done: (o: OrderRecord) => boolean): Promise<OrderRecord[]> {
  const ctx = apiContext();
  return Promise.all(
    orders.map(async (o) =>
      done(o) ? o : ((await ctx.answers.wait(o.orderId, done, WAIT_FOR_ENGINE_MS)) ?? o),
    ),
  );
}

async function listResponse(placed: PlacedList, respType: RespType) {
  const ctx = apiContext();
  const spec = ctx.listService.market(placed.list.symbol);
  if (respType === 'ACK') return newOrderListJson(spec, placed.list, placed.orders, 'ACK', new Map());
  const legs = await waitLegs(placed.orders, answered);
  const list = (await ctx.lists.get(placed.list.orderListId)) ?? placed.list;
  const fills = new Map<number, ReturnType<typeof takerFillsJson>>();
  if (respType === 'FULL')
    for (const o of legs) {
      if (o.executedLots === 0) continue;
      fills.set(o.orderId, takerFillsJson(spec, await ctx.liveOrders.takerFills(o.orderId), o.userId));
    }
  return newOrderListJson(spec, list, legs, respType, fills);
}

/** One list placement: authenticate, parse (zod), accept, answer by newOrderRespType. */
async function place(
  req: ApiRequest,
  parse: (params: Record<string, string>) => {
    respType?: RespType;
    accept: (userId: number, replay?: ReplayMarker) => Promise<PlacedList>;
  },
) {
  const ctx = apiContext();
  const { placed, respType } = await ctx.admission.admit(async () => {
    const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
    const p = parse(req.params);
    return { placed: await p.accept(userId, replay), respType: p.respType ?? 'RESULT' };
  });
  return new WithHeaders(await listResponse(placed, respType), orderCountHeaders(placed.orderCounts));
}

const ocoAccept = (p: OcoParams) => (userId: number, replay?: ReplayMarker) =>
  apiContext().listService.placeOco(userId, p, replay);

function placeOco(req: ApiRequest) {
  return place(req, (params) => {
    const p = parseParams(ocoSchema, params);
    const legs = parseParams(ocoLegsSchema, params) as Record<string, string | undefined>;
    return {
      respType: p.newOrderRespType,
      accept: ocoAccept({
        symbol: p.symbol,
        listClientOrderId: p.listClientOrderId,
        side: p.side,
        quantity: p.quantity,
        above: leg(legs, 'above'),
        below: leg(legs, 'below'),
        selfTradePreventionMode: p.selfTradePreventionMode,
      }),
    };
  });
}

function placeLegacyOco(req: ApiRequest) {
  return place(req, (params) => {
    const p = parseParams(legacyOcoSchema, params);
    return { respType: p.newOrderRespType, accept: ocoAccept(ocoFromLegacy(p)) };
  });
}

/** OTO and OTOCO: the list-wide parameters and the working leg (Binance's `working…` names). */
const otoBaseSchema = z.object({
  symbol: symbolParam,
  listClientOrderId: clientId,
  newOrderRespType: z.enum(['ACK', 'RESULT', 'FULL']).optional(),
  selfTradePreventionMode: z.string().max(20).optional(),
  workingType: z.string().max(20).optional(),
  workingSide: z.string().max(10).optional(),
  workingClientOrderId: clientId,
  workingPrice: decimal,
  workingQuantity: decimal,
  workingIcebergQty: decimal,
  workingTimeInForce: z.string().max(5).optional(),
});
const otoPendingSchema = z.object({
  pendingType: z.string().max(20).optional(),
  pendingSide: z.string().max(10).optional(),
  pendingClientOrderId: clientId,
  pendingPrice: decimal,
  pendingStopPrice: decimal,
  pendingTrailingDelta: z.string().max(20).optional(),
  pendingQuantity: decimal,
  pendingIcebergQty: decimal,
  pendingTimeInForce: z.string().max(5).optional(),
});
const otocoPendingSchema = z
  .object({ pendingSide: z.string().max(10).optional(), pendingQuantity: decimal })
  .merge(legSchema('pendingAbove', true))
  .merge(legSchema('pendingBelow', true));

const working = (p: z.infer<typeof otoBaseSchema>): OtoWorkingParams => ({
  type: p.workingType,
  side: p.workingSide,
  clientOrderId: p.workingClientOrderId,
  price: p.workingPrice,
  quantity: p.workingQuantity,
  icebergQty: p.workingIcebergQty,
  timeInForce: p.workingTimeInForce,
});

function placeOto(req: ApiRequest) {
  return place(req, (params) => {
    const p = parseParams(otoBaseSchema, params);
    const q = parseParams(otoPendingSchema, params);
    const oto: OtoParams = {
      symbol: p.symbol,
      listClientOrderId: p.listClientOrderId,
      selfTradePreventionMode: p.selfTradePreventionMode,
      working: working(p),
      pending: {
        type: q.pendingType,
        side: q.pendingSide,
        clientOrderId: q.pendingClientOrderId,
        price: q.pendingPrice,
        stopPrice: q.pendingStopPrice,
        trailingDelta: q.pendingTrailingDelta,
        quantity: q.pendingQuantity,
        icebergQty: q.pendingIcebergQty,
        timeInForce: q.pendingTimeInForce,
      },
    };
    return {
      respType: p.newOrderRespType,
      accept: (userId, replay) => apiContext().listService.placeOto(userId, oto, replay),
    };
  });
}

function placeOtoco(req: ApiRequest) {
  return place(req, (params) => {
    const p = parseParams(otoBaseSchema, params);
    const q = parseParams(otocoPendingSchema, params) as Record<string, string | undefined>;
    const otoco: OtocoParams = {
      symbol: p.symbol,
      listClientOrderId: p.listClientOrderId,
      selfTradePreventionMode: p.selfTradePreventionMode,
      working: working(p),
      pendingSide: q.pendingSide,
      pendingQuantity: q.pendingQuantity,
      pendingAbove: leg(q, 'pendingAbove'),
      pendingBelow: leg(q, 'pendingBelow'),
    };
    return {
      respType: p.newOrderRespType,
      accept: (userId, replay) => apiContext().listService.placeOtoco(userId, otoco, replay),
    };
  });
}

const listRefSchema = z.object({
  symbol: symbolParam,
  orderListId: idParam.optional(),
  listClientOrderId: z.string().max(64).optional(),
  newClientOrderId: clientId,
});

async function cancelList(req: ApiRequest) {
  const ctx = apiContext();
  const { userId, replay } = await authenticate(req, 'trade', ctx.auth, { deferReplay: true });
  const p = parseParams(listRefSchema, req.params);
  const list = await ctx.listService.cancel(userId, p.symbol, p, replay);
  const legs = await waitLegs(await ctx.lists.legs(list), closed);
  const after = (await ctx.lists.get(list.orderListId)) ?? list;
  return cancelOrderListJson(ctx.listService.market(p.symbol), after, legs, Date.now(), p.newClientOrderId);
}

async function withLegs(lists: OrderListRecord[]) {
  const ctx = apiContext();
  return Promise.all(lists.map(async (l) => orderListJson(l, await ctx.lists.legs(l))));
}

async function getList(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(
    z.object({ orderListId: idParam.optional(), origClientOrderId: z.string().max(64).optional() }),
    req.params,
  );
  const list = await ctx.listService.find(userId, {
    orderListId: p.orderListId,
    listClientOrderId: p.orderListId === undefined ? p.origClientOrderId : undefined,
  });
  if (!list) throw new BinanceError(400, -2013, 'Order list does not exist.');
  return (await withLegs([list]))[0];
}

async function allLists(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(
    z.object({
      fromId: idParam.optional(),
      startTime: idParam.optional(),
      endTime: idParam.optional(),
      limit: limitParam(1000, 500),
    }),
    req.params,
  );
  if (p.fromId !== undefined && (p.startTime !== undefined || p.endTime !== undefined))
    throw new BinanceError(400, -1128, 'Combination of optional parameters invalid.');
  if (p.startTime !== undefined && p.endTime !== undefined && p.endTime - p.startTime > 86_400_000)
    throw new BinanceError(400, -1127, 'More than 24 hours between startTime and endTime.');
  return withLegs(await ctx.lists.listAll(userId, p));
}

async function openLists(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  parseParams(z.object({}), req.params);
  return withLegs(await ctx.lists.listOpen(userId));
}

async function myPreventedMatches(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(
    z.object({
      symbol: symbolParam,
      preventedMatchId: idParam.optional(),
      orderId: idParam.optional(),
      fromPreventedMatchId: idParam.optional(),
      limit: limitParam(1000, 500),
    }),
    req.params,
  );
  const spec = ctx.listService.market(p.symbol);
  // Binance's combinations: symbol + preventedMatchId, or symbol + orderId [+ fromPreventedMatchId [+ limit]].
  const byId = p.preventedMatchId !== undefined;
  const byOrder = p.orderId !== undefined;
  if (byId === byOrder || (byId && p.fromPreventedMatchId !== undefined))
    throw new BinanceError(400, -1128, 'Combination of optional parameters invalid.');
  const rows = await preventedMatches(dbPool(), userId, spec.symbol, {
    preventedMatchId: p.preventedMatchId,
    orderId: p.orderId,
    fromId: p.fromPreventedMatchId,
    limit: p.limit,
  });
  return rows.map((m) => preventedMatchJson(spec, m));
}

export const ORDER_LIST_ROUTES = {
  'POST /api/v3/orderList/oco': placeOco,
  'POST /api/v3/orderList/oto': placeOto,
  'POST /api/v3/orderList/otoco': placeOtoco,
  'POST /api/v3/order/oco': placeLegacyOco,
  'DELETE /api/v3/orderList': cancelList,
  'GET /api/v3/orderList': getList,
  'GET /api/v3/allOrderList': allLists,
  'GET /api/v3/openOrderList': openLists,
  'GET /api/v3/myPreventedMatches': myPreventedMatches,
};
