// Binance user data stream payloads (user-data-stream.md) from engine events. Pure. Decimals are printed from
// the engine's integer ticks and lots with 8 places, by the formatters the REST API uses (lambdas/shared/
// money.ts); commissions are the fees settlement posts (lambdas/shared/ledger/postings.ts tradeSettlement) in
// the ledger's minor units, printed as /api/v3/myTrades prints them.
import type { EngineEvent, ListStatusEvent, MarketSpec, RejectReason, TradeEvent } from '@engine/core/types';
import { statusForClose } from '../data-processor/order-view';
import { tradeSettlement } from '../shared/ledger/postings';
import {
  assetScale,
  formatUnits,
  priceText as price,
  qtyText as qty,
  quoteText as quote,
} from '../shared/money';
import type { OrderRecord, OrderStatus } from '../shared/stores/orders';

/** What an execution report repeats about the order: fixed from its acceptance on. */
export type OrderFacts = Pick<
  OrderRecord,
  | 'orderId'
  | 'userId'
  | 'symbol'
  | 'clientOrderId'
  | 'side'
  | 'type'
  | 'timeInForce'
  | 'priceTicks'
  | 'qtyLots'
  | 'quoteQty'
  | 'stopTicks'
  | 'icebergLots'
  | 'stpMode'
  | 'time'
  | 'trailingDelta'
  | 'trailingTime'
  | 'orderListId'
>;

export type ExecutionType =
  'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED' | 'REJECTED' | 'TRADE_PREVENTION' | 'REPLACED';

/** One change of one order, in engine integers. */
export interface Execution {
  x: ExecutionType;
  X: OrderStatus;
  reject: string;
  cumLots: number;
  cumQuote: number;
  onBook: boolean;
  time: number;
  /** Engine seq of the event: unique per market, the execution id. */
  seq: number;
  /** REPLACED (an amend): the order's quantity from now on, shown as `q` instead of the accepted one. */
  qtyLots?: number;
  /**
   * A trailing stop's delta and start time as this batch's own events tell them (its accepted / triggered
   * events): what `d`/`D` show ahead of the order's facts, which may not know them (docs/api.md#trailing-stops).
   */
  trailingDelta?: number;
  trailingTime?: number;
  fill?: {
    tradeId: number;
    priceTicks: number;
    lots: number;
    isMaker: boolean;
    commission: string;
    asset: string;
  };
}

const STOP_TYPES: ReadonlySet<string> = new Set([
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
]);

/** Binance's reject reasons where one matches; otherwise the engine's own reason. */
const REJECT_REASONS: Partial<Record<RejectReason, string>> = { WOULD_TAKE: 'WOULD_MATCH_IMMEDIATELY' };

export function executionReport(spec: MarketSpec, o: OrderFacts, ex: Execution, eventTime: number) {
  const fill = ex.fill;
  return {
    e: 'executionReport',
    E: eventTime,
    s: o.symbol,
    c: o.clientOrderId,
    S: o.side,
    o: o.type,
    f: o.timeInForce,
    q: qty(spec, ex.qtyLots ?? o.qtyLots),
    p: price(spec, o.priceTicks),
    P: price(spec, o.stopTicks),
    F: qty(spec, o.icebergLots),
    g: o.orderListId ?? -1, // the order list of a list leg (docs/api.md#order-lists)
    // The order being canceled; Cirrus keeps no separate client id for the cancel request itself.
    C: ex.x === 'CANCELED' ? o.clientOrderId : '',
    x: ex.x,
    X: ex.X,
    r: ex.reject,
    i: o.orderId,
    l: qty(spec, fill?.lots ?? 0),
    z: qty(spec, ex.cumLots),
    L: price(spec, fill?.priceTicks ?? 0),
    n: fill ? fill.commission : '0',
    N: fill ? fill.asset : null,
    T: ex.time,
    t: fill ? fill.tradeId : -1,
    I: ex.seq,
    w: ex.onBook,
    m: fill ? fill.isMaker : false,
    M: false,
    O: o.time,
    Z: quote(spec, ex.cumQuote),
    Y: quote(spec, fill ? fill.priceTicks * fill.lots : 0),
    Q: quote(spec, o.quoteQty),
    ...(ex.onBook ? { W: o.time } : {}),
    V: o.stpMode,
    // Trailing stops only, as Binance: the delta (BIPS) and when it started trailing (-1 while it has not).
    ...trailingReport(o, ex),
  };
}

function trailingReport(o: OrderFacts, ex: Execution): { d?: number; D?: number } {
  const d = ex.trailingDelta ?? o.trailingDelta;
  return d ? { d, D: ex.trailingTime ?? o.trailingTime ?? -1 } : {};
}

/** A user's balances (ledger minor units) after an event that may have changed them. */
export const outboundAccountPosition = (
  balances: ReadonlyArray<{ asset: string; available: bigint; locked: bigint }>,
  updateTime: number,
  eventTime: number,
) => ({
  e: 'outboundAccountPosition',
  E: eventTime,
  u: updateTime,
  B: balances.map((b) => ({
    a: b.asset,
    f: formatUnits(b.available, assetScale(b.asset)),
    l: formatUnits(b.locked, assetScale(b.asset)),
  })),
});

/** A change of the user's available balance that is not a trade: a deposit, a withdrawal requested or released. */
export const balanceUpdate = (asset: string, delta: bigint, clearTime: number, eventTime: number) => ({
  e: 'balanceUpdate',
  E: eventTime,
  a: asset,
  d: formatUnits(delta, assetScale(asset)),
  T: clearTime,
});

/** The order lists' status events for these users, in event order (Binance `listStatus`). */
export const listStatuses = (events: readonly EngineEvent[], users: ReadonlySet<number>): ListStatusEvent[] =>
  events.filter((e): e is ListStatusEvent => e.type === 'listStatus' && users.has(e.userId));

/**
 * Binance's user data `listStatus` (user-data-stream.md): the list and its orders, each with its client
 * order id from the orders' facts (absent if the facts are unknown: '').
 */
export function listStatusPayload(
  e: ListStatusEvent,
  clientOrderIds: ReadonlyMap<number, string>,
  eventTime: number,
) {
  return {
    e: 'listStatus',
    E: eventTime,
    s: e.market,
    g: e.listId,
    c: e.contingencyType,
    l: e.listStatusType,
    L: e.listOrderStatus,
    r: e.rejectReason ? (REJECT_REASONS[e.rejectReason] ?? e.rejectReason) : 'NONE',
    C: e.listClientOrderId,
    T: e.ts,
    O: e.orderIds.map((i) => ({ s: e.market, i, c: clientOrderIds.get(i) ?? '' })),
  };
}

/** A signature subscription ended by the server (its API key revoked): Binance's last event of a stream. */
export const eventStreamTerminated = (eventTime: number) => ({ e: 'eventStreamTerminated', E: eventTime });

export const listenKeyExpired = (listenKey: string, eventTime: number) => ({
  e: 'listenKeyExpired',
  E: eventTime,
  listenKey,
});

/** The user ids one market's events touch (the accepted/rejected/closed order's owner, both sides of a trade). */
export function usersOf(events: readonly EngineEvent[]): Set<number> {
  const users = new Set<number>();
  for (const e of events) {
    if (e.type === 'trade') {
      users.add(e.makerUserId);
      users.add(e.takerUserId);
    } else if (
      e.type === 'accepted' ||
      e.type === 'activated' ||
      e.type === 'amended' ||
      e.type === 'closed' ||
      e.type === 'listStatus' ||
      (e.type === 'rejected' && (e.command === 'place' || e.command === 'placeList'))
    )
      users.add(e.userId);
  }
  return users;
}

/**
 * Every execution of the users' orders in one market's events (seq order), as Binance reports them: NEW on
 * acceptance (status PENDING_NEW for an OTO/OTOCO pending leg, then NEW when it is placed), TRADE per fill (FILLED on an order's last fill when its close says FILLED, so a filled order
 * gets no separate report), REPLACED (an amend), CANCELED, EXPIRED (IOC / FOK / no liquidity), TRADE_PREVENTION
 * (self-trade prevention) and REJECTED for a place the engine refused.
 */
export function executions(
  spec: MarketSpec,
  events: readonly EngineEvent[],
  users: ReadonlySet<number>,
): Array<{ userId: number; orderId: number; execution: Execution }> {
  const out: Array<{ userId: number; orderId: number; execution: Execution }> = [];
  const filledAt = new Map<number, number>(); // order id → index of its last trade before a FILLED close
  const lastTrade = new Map<number, number>();
  events.forEach((e, i) => {
    if (e.type === 'trade') {
      lastTrade.set(e.makerOrderId, i);
      lastTrade.set(e.takerOrderId, i);
    } else if (e.type === 'closed' && e.reason === 'FILLED' && lastTrade.has(e.orderId))
      filledAt.set(e.orderId, lastTrade.get(e.orderId) as number);
  });
  // Trailing stops' delta and start time from this batch's accepted / triggered events, by order id.
  // `time` is known from event seq `since` on (reports before it leave D to the order's facts).
  const trailing = new Map<number, { delta?: number; time: number; since: number }>();
  events.forEach((e, i) => {
    if (e.type === 'accepted') {
      if (e.trailingDelta !== undefined)
        trailing.set(e.orderId, { delta: e.trailingDelta, time: e.trailingTime ?? -1, since: e.seq });
      if (!users.has(e.userId)) return;
      // An OTO/OTOCO pending leg: accepted, placed when its working leg fills (then an `activated` NEW).
      out.push(newReport(e, e.pending ? 'PENDING_NEW' : 'NEW', !e.pending && !STOP_TYPES.has(e.orderType)));
    } else if (e.type === 'activated' && users.has(e.userId)) {
      out.push(newReport(e, 'NEW', !STOP_TYPES.has(e.orderType)));
    } else if (e.type === 'amended' && users.has(e.userId)) {
      // Amend keep priority (an OCO pair: one per leg): REPLACED with the new quantity.
      out.push({
        userId: e.userId,
        orderId: e.orderId,
        execution: {
          x: 'REPLACED',
          X: e.pending ? 'PENDING_NEW' : e.executedQty > 0 ? 'PARTIALLY_FILLED' : 'NEW',
          reject: 'NONE',
          cumLots: e.executedQty,
          cumQuote: e.cumQuote,
          onBook: e.onBook,
          time: e.ts,
          seq: e.seq,
          qtyLots: e.quantity,
        },
      });
    } else if (
      e.type === 'rejected' &&
      (e.command === 'place' || e.command === 'placeList') &&
      users.has(e.userId)
    ) {
      out.push({
        userId: e.userId,
        orderId: e.orderId,
        execution: {
          x: 'REJECTED',
          X: 'REJECTED',
          reject: REJECT_REASONS[e.reason] ?? e.reason,
          cumLots: 0,
          cumQuote: 0,
          onBook: false,
          time: e.ts,
          seq: e.seq,
        },
      });
    } else if (e.type === 'trade') {
      const settled = tradeSettlement(spec, e);
      for (const isMaker of [true, false]) {
        const userId = isMaker ? e.makerUserId : e.takerUserId;
        const orderId = isMaker ? e.makerOrderId : e.takerOrderId;
        if (!users.has(userId)) continue;
        const isBuyer = (e.takerSide === 'BUY') !== isMaker;
        // The fee exactly as settlement posts it: the buyer pays in base, the seller in quote.
        const commission = isBuyer
          ? { amount: settled.buyerFee, asset: spec.baseAsset }
          : { amount: settled.sellerFee, asset: spec.quoteAsset };
        out.push({
          userId,
          orderId,
          execution: tradeExecution(e, isMaker, commission, filledAt.get(orderId) === i),
        });
      }
    } else if (e.type === 'triggered' && e.trailingTime !== undefined) {
      const t = trailing.get(e.orderId);
      trailing.set(e.orderId, { delta: t?.delta, time: e.trailingTime, since: e.seq });
    } else if (e.type === 'closed' && e.reason !== 'FILLED' && users.has(e.userId)) {
      const status = statusForClose(e.reason);
      out.push({
        userId: e.userId,
        orderId: e.orderId,
        execution: {
          x:
            e.reason === 'CANCELED'
              ? 'CANCELED'
              : status === 'EXPIRED_IN_MATCH'
                ? 'TRADE_PREVENTION'
                : 'EXPIRED',
          X: status,
          reject: 'NONE',
          cumLots: e.executedQty,
          cumQuote: e.cumQuote,
          onBook: false,
          time: e.ts,
          seq: e.seq,
        },
      });
    }
  });
  if (trailing.size > 0) {
    for (const { orderId, execution } of out) {
      const t = trailing.get(orderId);
      if (!t) continue;
      if (t.delta !== undefined) execution.trailingDelta = t.delta;
      if (execution.seq >= t.since) execution.trailingTime = t.time;
    }
  }
  return out;
}

/** An order's NEW report: accepted (NEW, or PENDING_NEW for a pending list leg), or a pending leg placed. */
function newReport(
  e: { userId: number; orderId: number; ts: number; seq: number },
  status: 'NEW' | 'PENDING_NEW',
  onBook: boolean,
): { userId: number; orderId: number; execution: Execution } {
  return {
    userId: e.userId,
    orderId: e.orderId,
    execution: {
      x: 'NEW',
      X: status,
      reject: 'NONE',
      cumLots: 0,
      cumQuote: 0,
      onBook,
      time: e.ts,
      seq: e.seq,
    },
  };
}

function tradeExecution(
  t: TradeEvent,
  isMaker: boolean,
  commission: { amount: bigint; asset: string },
  filled: boolean,
): Execution {
  return {
    x: 'TRADE',
    X: filled ? 'FILLED' : 'PARTIALLY_FILLED',
    reject: 'NONE',
    cumLots: isMaker ? t.makerExecutedQty : t.takerExecutedQty,
    cumQuote: isMaker ? t.makerCumQuote : t.takerCumQuote,
    onBook: !filled,
    time: t.ts,
    seq: t.seq,
    fill: {
      tradeId: t.tradeId,
      priceTicks: t.price,
      lots: t.quantity,
      isMaker,
      commission: formatUnits(commission.amount, assetScale(commission.asset)),
      asset: commission.asset,
    },
  };
}
