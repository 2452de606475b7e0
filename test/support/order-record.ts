// A live order row as the order API records it (a BTCUSDT GTC buy), for tests that need one; override any field.
import type { AcceptedEvent } from '@engine/core/types';
import type { OrderRecord } from '@lambdas/shared/stores/orders';

export function orderRecord(over: Partial<OrderRecord> = {}): OrderRecord {
  return {
    orderId: 1,
    userId: 7,
    symbol: 'BTCUSDT',
    clientOrderId: 'c1',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    priceTicks: 3_000_000,
    qtyLots: 10,
    quoteQty: 0,
    stopTicks: 0,
    icebergLots: 0,
    stpMode: 'EXPIRE_MAKER',
    status: 'NEW',
    executedLots: 0,
    cumQuote: 0,
    time: 1,
    updateTime: 1,
    workingTime: -1,
    isWorking: false,
    lockAsset: 'USDT',
    lockAmount: '300000000',
    lastSeq: 0,
    ...over,
  };
}

/** The engine's `accepted` event for an order row (a list leg's carries its list id), at `seq` and `ts`. */
export function acceptedEventOf(o: OrderRecord, seq: number, ts: number): AcceptedEvent {
  return {
    type: 'accepted',
    market: o.symbol,
    seq,
    ts,
    orderId: o.orderId,
    userId: o.userId,
    clientOrderId: o.clientOrderId,
    side: o.side,
    orderType: o.type,
    timeInForce: o.timeInForce,
    price: o.priceTicks,
    quantity: o.qtyLots,
    quoteQuantity: 0,
    stopPrice: o.stopTicks,
    icebergQuantity: 0,
    stpMode: o.stpMode,
    ...(o.orderListId !== undefined ? { orderListId: o.orderListId } : {}),
  };
}
