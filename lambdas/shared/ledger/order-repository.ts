// Live orders in PostgreSQL, beside the funds they lock (docs/architecture.md#the-order-pipeline). The
// accept path is one transaction (the `accept_order` function of migration 3): replay marker, open-order
// cap, funds lock, the order row and its engine command in the outbox. A cancel is one transaction too:
// ownership check and the cancel command in the outbox. Nothing here releases funds: only the engine's
// answer does (lambdas/data-processor).
import type { Pool } from 'pg';
import type { PlaceCommand } from '@engine/core/types';
import type { CommandMessage } from '@contracts/messages';
import { recordCancel } from './cancel-transaction';
import type { OrderRecord, OrderStatus } from '../stores/orders';

/** One amend keep priority the ledger settled (GET /api/v3/order/amendments). */
export interface OrderAmendment {
  executionId: number;
  clientOrderId: string;
  origQtyLots: number;
  newQtyLots: number;
  time: number;
}

export type AcceptOutcome =
  | 'accepted'
  | 'replayed_signature'
  | 'duplicate_client_order_id'
  | 'too_many_open_orders'
  | 'insufficient_balance'
  | 'order_rate_10s'
  | 'order_rate_day';

export interface ReplayMarker {
  signature: string;
  expiresAtMs: number;
}

export interface AcceptRequest {
  /** The order as recorded; `orderId` is allocated in the transaction. */
  order: Omit<OrderRecord, 'orderId'>;
  /** The engine command without its order id (set in the transaction). */
  command: Omit<PlaceCommand, 'orderId'>;
  groupId: string;
  maxOpenOrders: number;
  /** Binance's ORDERS limits for the account, and the time that places the order in their windows. */
  orderLimits: { per10s: number; perDay: number };
  nowMs: number;
  replay?: ReplayMarker;
}

/** Orders the account has placed in the current 10-second window and UTC day (after this one if accepted). */
export interface OrderCounts {
  per10s: number;
  perDay: number;
}

export type AcceptResult =
  | { outcome: 'accepted'; order: OrderRecord; message: OutboxMessage; counts: OrderCounts }
  | { outcome: Exclude<AcceptOutcome, 'accepted'>; counts?: OrderCounts };

/** A command as it sits in the outbox: what the relay (or the API right after commit) sends to SQS. */
export interface OutboxMessage {
  cmdId: string;
  market: string;
  groupId: string;
  body: string;
}

/** One fill of an order as a taker, from the ledger's settled trades. */
export interface SettledFill {
  market: string;
  tradeId: number;
  makerOrderId: number;
  takerOrderId: number;
  priceTicks: number;
  qtyLots: number;
  takerSide: 'BUY' | 'SELL';
  time: number;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  market: string;
  client_order_id: string;
  side: string;
  type: string;
  time_in_force: string;
  price_ticks: string;
  qty_lots: string;
  quote_qty: string;
  stop_ticks: string;
  iceberg_lots: string;
  stp_mode: string;
  status: string;
  executed_lots: string;
  cum_quote: string;
  created_ms: string;
  update_ms: string;
  working_ms: string;
  is_working: boolean;
  lock_asset: string;
  lock_amount: string;
  last_seq: string;
  // Not columns yet (docs/api.md#trailing-stops): read when a migration adds them, absent until then.
  trailing_delta?: string | null;
  trailing_ms?: string | null;
  // Migration 17: the order list of a list leg, NULL for a single order.
  order_list_id?: string | null;
}

// The partial indexes of migrations 2 and 18 (orders_open_by_user, orders_open_client_id) use this condition.
const OPEN = "status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_NEW')";

export function orderFromRow(r: OrderRow): OrderRecord {
  return {
    orderId: Number(r.order_id),
    userId: Number(r.user_id),
    symbol: r.market,
    clientOrderId: r.client_order_id,
    side: r.side as OrderRecord['side'],
    type: r.type as OrderRecord['type'],
    timeInForce: r.time_in_force as OrderRecord['timeInForce'],
    priceTicks: Number(r.price_ticks),
    qtyLots: Number(r.qty_lots),
    quoteQty: Number(r.quote_qty),
    stopTicks: Number(r.stop_ticks),
    icebergLots: Number(r.iceberg_lots),
    stpMode: r.stp_mode as OrderRecord['stpMode'],
    status: r.status as OrderStatus,
    executedLots: Number(r.executed_lots),
    cumQuote: Number(r.cum_quote),
    time: Number(r.created_ms),
    updateTime: Number(r.update_ms),
    workingTime: Number(r.working_ms),
    isWorking: r.is_working,
    lockAsset: r.lock_asset,
    lockAmount: String(r.lock_amount),
    lastSeq: Number(r.last_seq),
    ...(Number(r.trailing_delta ?? 0) > 0
      ? { trailingDelta: Number(r.trailing_delta), trailingTime: Number(r.trailing_ms ?? -1) }
      : {}),
    ...(r.order_list_id !== null && r.order_list_id !== undefined
      ? { orderListId: Number(r.order_list_id) }
      : {}),
  };
}

export function rowFromOrder(o: Omit<OrderRecord, 'orderId'>): Record<string, unknown> {
  return {
    user_id: o.userId,
    market: o.symbol,
    client_order_id: o.clientOrderId,
    side: o.side,
    type: o.type,
    time_in_force: o.timeInForce,
    price_ticks: o.priceTicks,
    qty_lots: o.qtyLots,
    quote_qty: o.quoteQty,
    stop_ticks: o.stopTicks,
    iceberg_lots: o.icebergLots,
    stp_mode: o.stpMode,
    status: o.status,
    executed_lots: o.executedLots,
    cum_quote: o.cumQuote,
    created_ms: o.time,
    update_ms: o.updateTime,
    working_ms: o.workingTime,
    is_working: o.isWorking,
    lock_asset: o.lockAsset,
    lock_amount: o.lockAmount,
    last_seq: o.lastSeq,
    // Trailing stops only (migration 16); other orders leave both columns NULL.
    ...(o.trailingDelta ? { trailing_delta: o.trailingDelta, trailing_ms: o.trailingTime ?? -1 } : {}),
  };
}

export class OrderRepository {
  constructor(private readonly pool: Pool) {}

  /** The whole accept path in one transaction (one round trip). */
  async accept(req: AcceptRequest): Promise<AcceptResult> {
    const { order, command } = req;
    const res = await this.pool.query<{
      outcome: AcceptOutcome;
      new_order_id: string | null;
      command: string;
      orders_10s: number | null;
      orders_day: number | null;
    }>('SELECT * FROM accept_order($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', [
      req.replay?.signature ?? null,
      req.replay?.expiresAtMs ?? 0,
      order.userId,
      order.symbol,
      req.maxOpenOrders,
      order.lockAsset,
      order.lockAmount,
      JSON.stringify(rowFromOrder(order)),
      JSON.stringify(command),
      req.groupId,
      req.orderLimits.per10s,
      req.orderLimits.perDay,
      req.nowMs,
    ]);
    const row = res.rows[0];
    const counts =
      row.orders_10s === null ? undefined : { per10s: row.orders_10s, perDay: Number(row.orders_day) };
    if (row.outcome !== 'accepted') return { outcome: row.outcome, counts };
    const orderId = Number(row.new_order_id);
    return {
      outcome: 'accepted',
      order: { ...order, orderId },
      message: { cmdId: `p-${orderId}`, market: order.symbol, groupId: req.groupId, body: row.command },
      counts: counts ?? { per10s: 1, perDay: 1 },
    };
  }

  /**
   * Records a cancel command for one of the user's open orders. Returns the order and the messages to send,
   * in order: the order's own place command first if the engine has not applied it yet (SQS FIFO keeps
   * a group's messages in send order, and a duplicate place is dropped by its deduplication id), then the
   * cancel. `undefined` when the user has no such open order.
   */
  async requestCancel(
    userId: number,
    orderId: number,
    cancel: (order: OrderRecord) => CommandMessage,
    groupId: string,
    replay?: ReplayMarker,
  ): Promise<{ order: OrderRecord; messages: OutboxMessage[] } | 'replayed_signature' | undefined> {
    const out = await recordCancel<OrderRecord>(this.pool, {
      lock: async (c) => {
        const found = await c.query<OrderRow>(
          `SELECT * FROM orders WHERE order_id = $1 AND user_id = $2 AND ${OPEN} FOR UPDATE`,
          [orderId, userId],
        );
        return found.rowCount === 1 ? orderFromRow(found.rows[0]) : undefined;
      },
      market: (order) => order.symbol,
      // A list leg was placed by its list's command (migration 17).
      placeCmdId: (order) => (order.orderListId !== undefined ? `pl-${order.orderListId}` : `p-${orderId}`),
      cancel,
      groupId,
      replay,
    });
    return typeof out === 'object' ? { order: out.target, messages: out.messages } : out;
  }

  /** An order's amendments (migration 21), by execution id ascending, from `fromExecutionId` on. */
  async amendments(orderId: number, fromExecutionId = 0, limit = 500): Promise<OrderAmendment[]> {
    const res = await this.pool.query<AmendmentRow>(
      `SELECT ${AMENDMENT_COLUMNS} FROM order_amendments
        WHERE order_id = $1 AND execution_id >= $2 ORDER BY execution_id LIMIT $3`,
      [orderId, fromExecutionId, limit],
    );
    return res.rows.map(amendmentFromRow);
  }

  /** The amendment that answered the amend command `cmdId` (migration 22), if the engine applied it. */
  async amendmentOf(orderId: number, cmdId: string): Promise<OrderAmendment | undefined> {
    const res = await this.pool.query<AmendmentRow>(
      `SELECT ${AMENDMENT_COLUMNS} FROM order_amendments WHERE order_id = $1 AND cmd_id = $2`,
      [orderId, cmdId],
    );
    return res.rows.map(amendmentFromRow)[0];
  }

  async get(orderId: number): Promise<OrderRecord | undefined> {
    const res = await this.pool.query<OrderRow>('SELECT * FROM orders WHERE order_id = $1', [orderId]);
    return res.rows[0] ? orderFromRow(res.rows[0]) : undefined;
  }

  async getMany(orderIds: number[]): Promise<OrderRecord[]> {
    const res = await this.pool.query<OrderRow>('SELECT * FROM orders WHERE order_id = ANY($1::bigint[])', [
      orderIds,
    ]);
    return res.rows.map(orderFromRow);
  }

  /**
   * The order list of each of these orders that is a list leg (orders.order_list_id, migration 17); single
   * orders are absent. One primary-key lookup for the fills of GET /api/v3/myTrades, whose read model
   * (TABLES.trades) does not carry the list id.
   */
  async listIdsOf(orderIds: number[]): Promise<Map<number, number>> {
    if (orderIds.length === 0) return new Map();
    const res = await this.pool.query<{ order_id: string; order_list_id: string }>(
      `SELECT order_id, order_list_id FROM orders
        WHERE order_id = ANY($1::bigint[]) AND order_list_id IS NOT NULL`,
      [[...new Set(orderIds)]],
    );
    return new Map(res.rows.map((r) => [Number(r.order_id), Number(r.order_list_id)]));
  }

  /** The order with this client order id: the open one if there is one, else the latest. */
  async getByClientOrderId(
    userId: number,
    market: string,
    clientOrderId: string,
  ): Promise<OrderRecord | undefined> {
    const res = await this.pool.query<OrderRow>(
      `SELECT * FROM orders WHERE user_id = $1 AND market = $2 AND client_order_id = $3
        ORDER BY (${OPEN}) DESC, order_id DESC LIMIT 1`,
      [userId, market, clientOrderId],
    );
    return res.rows[0] ? orderFromRow(res.rows[0]) : undefined;
  }

  /** A user's open orders (strongly consistent: the order is here from the moment it was accepted). */
  async listOpen(userId: number, market?: string): Promise<OrderRecord[]> {
    const res = market
      ? await this.pool.query<OrderRow>(
          `SELECT * FROM orders WHERE user_id = $1 AND market = $2 AND ${OPEN} ORDER BY order_id`,
          [userId, market],
        )
      : await this.pool.query<OrderRow>(
          `SELECT * FROM orders WHERE user_id = $1 AND ${OPEN} ORDER BY order_id`,
          [userId],
        );
    return res.rows.map(orderFromRow);
  }

  /** Orders among `orderIds` that the engine has answered (one query for every waiting request). */
  async answered(orderIds: number[]): Promise<OrderRecord[]> {
    const res = await this.pool.query<OrderRow>(
      'SELECT * FROM orders WHERE order_id = ANY($1::bigint[]) AND last_seq > 0',
      [orderIds],
    );
    return res.rows.map(orderFromRow);
  }

  /** The order's fills as a taker, settled in the ledger. */
  async takerFills(orderId: number): Promise<SettledFill[]> {
    const res = await this.pool.query<{
      market: string;
      trade_id: string;
      maker_order_id: string;
      taker_order_id: string;
      price_ticks: string;
      qty_lots: string;
      taker_side: string;
      trade_ms: string;
    }>('SELECT * FROM settled_trades WHERE taker_order_id = $1 ORDER BY trade_id', [orderId]);
    return res.rows.map((r) => ({
      market: r.market,
      tradeId: Number(r.trade_id),
      makerOrderId: Number(r.maker_order_id),
      takerOrderId: Number(r.taker_order_id),
      priceTicks: Number(r.price_ticks),
      qtyLots: Number(r.qty_lots),
      takerSide: r.taker_side as 'BUY' | 'SELL',
      time: Number(r.trade_ms),
    }));
  }
}

/** The account's ORDERS counts now (GET /api/v3/rateLimit/order). */
export async function orderCounts(
  pool: Pick<Pool, 'query'>,
  userId: number,
  nowMs: number,
): Promise<OrderCounts> {
  const res = await pool.query<{ per10s: number; per_day: number }>(
    `SELECT CASE WHEN window_10s = $2 THEN count_10s ELSE 0 END AS per10s,
            CASE WHEN day = $3 THEN count_day ELSE 0 END AS per_day
       FROM order_rate WHERE user_id = $1`,
    [userId, Math.floor(nowMs / 10_000), Math.floor(nowMs / 86_400_000)],
  );
  return { per10s: res.rows[0]?.per10s ?? 0, perDay: res.rows[0]?.per_day ?? 0 };
}

const AMENDMENT_COLUMNS = 'execution_id, client_order_id, orig_qty_lots, new_qty_lots, time_ms';

interface AmendmentRow {
  execution_id: string;
  client_order_id: string;
  orig_qty_lots: string;
  new_qty_lots: string;
  time_ms: string;
}

function amendmentFromRow(r: AmendmentRow): OrderAmendment {
  return {
    executionId: Number(r.execution_id),
    clientOrderId: r.client_order_id,
    origQtyLots: Number(r.orig_qty_lots),
    newQtyLots: Number(r.new_qty_lots),
    time: Number(r.time_ms),
  };
}
