// Binance JSON shapes for orders and fills. Decimals are printed with 8 places, as Binance does.
import type { MarketSpec } from '@engine/core/types';
import {
  fixed8,
  formatUnits,
  priceText as price,
  qtyText as qty,
  quoteText as quote,
} from '@lambdas/shared/money';
import type { OrderListRecord, PreventedMatchRecord } from '@lambdas/shared/ledger/order-list-repository';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import type { UserTradeRecord } from '@lambdas/shared/stores/user-trades';
import type { OrderAmendment, SettledFill } from '@lambdas/shared/ledger/order-repository';
import { userTradesOf } from '@lambdas/shared/ledger/fills';
import { assetScale } from '@lambdas/shared/money';

/** GET /api/v3/order, /openOrders, /allOrders. */
export function orderJson(spec: MarketSpec, o: OrderRecord) {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: o.orderListId ?? -1,
    clientOrderId: o.clientOrderId,
    price: price(spec, o.priceTicks),
    origQty: qty(spec, o.qtyLots),
    executedQty: qty(spec, o.executedLots),
    cummulativeQuoteQty: quote(spec, o.cumQuote),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    stopPrice: price(spec, o.stopTicks),
    icebergQty: qty(spec, o.icebergLots),
    ...trailingFields(o),
    time: o.time,
    updateTime: o.updateTime,
    isWorking: o.isWorking,
    workingTime: o.workingTime,
    origQuoteOrderQty: quote(spec, o.quoteQty),
    selfTradePreventionMode: o.stpMode,
  };
}

/** An order's settled taker fills as a FULL response's `fills` (amounts and fees from the ledger's rule). */
export function takerFillsJson(spec: MarketSpec, fills: SettledFill[], takerUserId: number) {
  return fills.map((f) => {
    const taker = userTradesOf(spec, {
      tradeId: f.tradeId,
      price: f.priceTicks,
      quantity: f.qtyLots,
      takerSide: f.takerSide,
      ts: f.time,
      makerOrderId: f.makerOrderId,
      takerOrderId: f.takerOrderId,
      makerUserId: 0,
      takerUserId,
    })[1];
    return fillJson(spec, taker, assetScale(taker.commissionAsset));
  });
}

export function fillJson(spec: MarketSpec, t: UserTradeRecord, commissionScale: number) {
  return {
    price: price(spec, t.priceTicks),
    qty: qty(spec, t.qtyLots),
    commission: formatUnits(BigInt(t.commission), commissionScale),
    commissionAsset: t.commissionAsset,
    tradeId: t.tradeId,
  };
}

/** `trailingDelta` and `trailingTime` (-1 until it trails), present for trailing stops only, as Binance. */
export function trailingFields(o: Pick<OrderRecord, 'trailingDelta' | 'trailingTime'>) {
  return o.trailingDelta ? { trailingDelta: o.trailingDelta, trailingTime: o.trailingTime ?? -1 } : {};
}

/** The execution fields the new-order and cancel responses share, in Binance's order. */
function executionFields(spec: MarketSpec, o: OrderRecord) {
  const full = orderJson(spec, o);
  return {
    price: full.price,
    origQty: full.origQty,
    executedQty: full.executedQty,
    origQuoteOrderQty: full.origQuoteOrderQty,
    cummulativeQuoteQty: full.cummulativeQuoteQty,
    status: full.status,
    timeInForce: full.timeInForce,
    type: full.type,
    side: full.side,
    ...(o.stopTicks ? { stopPrice: full.stopPrice } : {}),
    ...(o.icebergLots ? { icebergQty: full.icebergQty } : {}),
    ...trailingFields(o),
  };
}

/** POST /api/v3/order by newOrderRespType. */
export function newOrderJson(
  spec: MarketSpec,
  o: OrderRecord,
  respType: 'ACK' | 'RESULT' | 'FULL',
  fills: ReturnType<typeof fillJson>[],
) {
  const ack = {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: o.orderListId ?? -1,
    clientOrderId: o.clientOrderId,
    transactTime: o.time,
  };
  if (respType === 'ACK') return ack;
  const result = {
    ...ack,
    ...executionFields(spec, o),
    workingTime: o.workingTime,
    selfTradePreventionMode: o.stpMode,
  };
  return respType === 'RESULT' ? result : { ...result, fills };
}

/** DELETE /api/v3/order (and each element of DELETE /api/v3/openOrders). */
export function cancelJson(spec: MarketSpec, o: OrderRecord, transactTime: number, clientOrderId: string) {
  return {
    symbol: o.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: o.orderId,
    orderListId: o.orderListId ?? -1,
    clientOrderId,
    transactTime,
    ...executionFields(spec, o),
    selfTradePreventionMode: o.stpMode,
  };
}

/** One fill of GET /api/v3/myTrades; `orderListId` the list of the order when it is a list leg. */
export function myTradeJson(
  spec: MarketSpec,
  t: UserTradeRecord,
  commissionScale: number,
  orderListId: number | undefined,
) {
  return {
    symbol: t.symbol,
    id: t.tradeId,
    orderId: t.orderId,
    orderListId: orderListId ?? -1,
    price: price(spec, t.priceTicks),
    qty: qty(spec, t.qtyLots),
    quoteQty: quote(spec, t.quoteTL),
    commission: formatUnits(BigInt(t.commission), commissionScale),
    commissionAsset: t.commissionAsset,
    time: t.time,
    isBuyer: t.isBuyer,
    isMaker: t.isMaker,
    isBestMatch: true,
  };
}

/**
 * PUT /api/v3/order/amend/keepPriority. `executionId` is the engine's sequence number of its answer; a list
 * leg's answer carries its list (`listStatus`, without Binance's listStatusType and transactionTime there).
 */
export function amendJson(
  spec: MarketSpec,
  o: OrderRecord,
  transactTime: number,
  origClientOrderId: string,
  list?: { list: OrderListRecord; legs: OrderRecord[] },
) {
  const full = orderJson(spec, o);
  let listStatus: object | undefined;
  if (list) {
    const { listStatusType: _type, transactionTime: _time, ...rest } = orderListJson(list.list, list.legs);
    listStatus = rest;
  }
  return {
    transactTime,
    executionId: o.lastSeq,
    amendedOrder: {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: o.orderListId ?? -1,
      origClientOrderId,
      clientOrderId: o.clientOrderId,
      price: full.price,
      qty: full.origQty,
      executedQty: full.executedQty,
      preventedQty: fixed8('0'),
      quoteOrderQty: full.origQuoteOrderQty,
      cumulativeQuoteQty: full.cummulativeQuoteQty,
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      ...(o.stopTicks ? { stopPrice: full.stopPrice } : {}),
      ...(o.icebergLots ? { icebergQty: full.icebergQty } : {}),
      ...trailingFields(o),
      ...(o.isWorking ? { workingTime: o.workingTime } : {}),
      selfTradePreventionMode: o.stpMode,
    },
    ...(listStatus ? { listStatus } : {}),
  };
}

/** One row of GET /api/v3/order/amendments (Cirrus keeps the client order id: orig = new). */
export function amendmentJson(spec: MarketSpec, o: OrderRecord, a: OrderAmendment) {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    executionId: a.executionId,
    origClientOrderId: a.clientOrderId,
    newClientOrderId: a.clientOrderId,
    origQty: qty(spec, a.origQtyLots),
    newQty: qty(spec, a.newQtyLots),
    time: a.time,
  };
}

/** An order list without its order reports: GET /api/v3/orderList, /allOrderList, /openOrderList. */
export function orderListJson(list: OrderListRecord, legs: OrderRecord[], transactionTime = list.time) {
  const clientIds = new Map(legs.map((o) => [o.orderId, o.clientOrderId]));
  return {
    orderListId: list.orderListId,
    contingencyType: list.contingencyType,
    listStatusType: list.listStatusType,
    listOrderStatus: list.listOrderStatus,
    listClientOrderId: list.listClientOrderId,
    transactionTime,
    symbol: list.symbol,
    orders: list.orderIds.map((orderId) => ({
      symbol: list.symbol,
      orderId,
      clientOrderId: clientIds.get(orderId) ?? '',
    })),
  };
}

/** POST /api/v3/orderList/oco (and /order/oco): the list and one report per leg by newOrderRespType. */
export function newOrderListJson(
  spec: MarketSpec,
  list: OrderListRecord,
  legs: OrderRecord[],
  respType: 'ACK' | 'RESULT' | 'FULL',
  fills: ReadonlyMap<number, ReturnType<typeof fillJson>[]>,
) {
  return {
    ...orderListJson(list, legs),
    orderReports: legs.map((o) => newOrderJson(spec, o, respType, fills.get(o.orderId) ?? [])),
  };
}

/** DELETE /api/v3/orderList: the list and each leg as its cancel answer. */
export function cancelOrderListJson(
  spec: MarketSpec,
  list: OrderListRecord,
  legs: OrderRecord[],
  transactTime: number,
  newClientOrderId?: string,
) {
  return {
    ...orderListJson(list, legs, transactTime),
    orderReports: legs.map((o) => cancelJson(spec, o, transactTime, newClientOrderId ?? o.clientOrderId)),
  };
}

/** GET /api/v3/myPreventedMatches, one element (Binance's fields; one user per trade group here). */
export function preventedMatchJson(spec: MarketSpec, m: PreventedMatchRecord) {
  return {
    symbol: m.symbol,
    preventedMatchId: m.preventedMatchId,
    takerOrderId: m.takerOrderId,
    makerSymbol: m.symbol,
    makerOrderId: m.makerOrderId,
    tradeGroupId: -1,
    selfTradePreventionMode: m.stpMode,
    price: price(spec, m.priceTicks),
    makerPreventedQuantity: qty(spec, m.makerPreventedLots),
    transactTime: m.transactTime,
  };
}
