// Turns engine events into absolute order-state updates for the live order rows in PostgreSQL (what
// /order and /openOrders read; the order history in DynamoDB is written from those rows). Pure.
import { isStopType, type CloseReason, type EngineEvent } from '@engine/core/types';
import type { OrderProgress, OrderStatus } from '../shared/stores/orders';

export function statusForClose(reason: CloseReason): OrderStatus {
  switch (reason) {
    case 'FILLED':
      return 'FILLED';
    case 'CANCELED':
      return 'CANCELED';
    case 'STP_TAKER':
    case 'STP_MAKER':
      return 'EXPIRED_IN_MATCH';
    case 'IOC':
    case 'FOK':
    case 'NO_LIQUIDITY':
    case 'LIST': // its sibling in an order list filled or triggered (docs/api.md#order-lists)
      return 'EXPIRED';
  }
}

/** One update per order touched by `events` (a market's events in seq order), with the latest seq. */
export function orderProgressFromEvents(events: readonly EngineEvent[]): OrderProgress[] {
  const byOrder = new Map<number, OrderProgress>();
  const touch = (orderId: number, seq: number, ts: number): OrderProgress => {
    let p = byOrder.get(orderId);
    if (!p) {
      p = { orderId, seq, updateTime: ts };
      byOrder.set(orderId, p);
    }
    p.seq = Math.max(p.seq, seq);
    p.updateTime = ts;
    return p;
  };
  const isClosed = (p: OrderProgress) =>
    p.status !== undefined &&
    p.status !== 'NEW' &&
    p.status !== 'PARTIALLY_FILLED' &&
    p.status !== 'PENDING_NEW';

  for (const e of events) {
    switch (e.type) {
      case 'accepted': {
        const p = touch(e.orderId, e.seq, e.ts);
        // An OTO/OTOCO pending leg waits for its working leg (Binance PENDING_NEW): not working yet.
        p.status ??= e.pending ? 'PENDING_NEW' : 'NEW';
        const working = !e.pending && !isStopType(e.orderType);
        p.isWorking = working;
        if (working) p.workingTime = e.ts;
        if (e.trailingTime !== undefined) p.trailingTime = e.trailingTime;
        break;
      }
      case 'rejected':
        // A rejected place changes an order only if the engine never answered it before (a duplicate or a
        // stale redelivery names an order that lives under its first answer): the ledger decides that
        // with the order's row (LedgerRepository.settleRecords), so it is no progress here.
        break;
      case 'triggered': {
        const p = touch(e.orderId, e.seq, e.ts);
        p.isWorking = true;
        p.workingTime = e.ts;
        if (e.trailingTime !== undefined) p.trailingTime = e.trailingTime;
        break;
      }
      case 'trade': {
        const legs: Array<[number, number, number]> = [
          [e.makerOrderId, e.makerExecutedQty, e.makerCumQuote],
          [e.takerOrderId, e.takerExecutedQty, e.takerCumQuote],
        ];
        for (const [orderId, executed, cumQuote] of legs) {
          const p = touch(orderId, e.seq, e.ts);
          p.executedLots = executed;
          p.cumQuote = cumQuote;
          if (!isClosed(p)) p.status = 'PARTIALLY_FILLED';
        }
        break;
      }
      case 'amended': {
        const p = touch(e.orderId, e.seq, e.ts);
        p.priceTicks = e.price;
        p.qtyLots = e.quantity;
        break;
      }
      case 'closed': {
        const p = touch(e.orderId, e.seq, e.ts);
        p.status = statusForClose(e.reason);
        p.executedLots = e.executedQty;
        p.cumQuote = e.cumQuote;
        break;
      }
      case 'activated': {
        // The working leg filled: the pending leg is placed now (a stop waits for its trigger from here).
        const p = touch(e.orderId, e.seq, e.ts);
        if (!isClosed(p)) p.status = 'NEW';
        if (!isStopType(e.orderType)) {
          p.isWorking = true;
          p.workingTime = e.ts;
        }
        break;
      }
      case 'depth':
      case 'listStatus': // the list's own row (order_lists), settled as an operation
      case 'prevented': // stored as an operation; the orders' closes follow as their own events
        break;
    }
  }
  return [...byOrder.values()];
}
