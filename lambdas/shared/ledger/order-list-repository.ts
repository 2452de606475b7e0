// Order lists (OCO; docs/api.md#order-lists) in PostgreSQL, beside the funds they lock. The accept path is ONE
// transaction (`accept_order_list`, migration 17): replay marker, ORDERS counts, open-order cap, the list's
// single funds lock, the list row, its legs' order rows and ONE `placeList` command in the outbox. A cancel is
// one transaction too: ownership check and the `cancelList` command in the outbox (after the list's own place
// if that is still undelivered). Nothing here releases funds: only the engine's answer does.
import type { Pool } from 'pg';
import type { ContingencyType, ListLeg, PlaceListCommand } from '@engine/core/types';
import type { CommandMessage } from '@contracts/messages';
import { recordCancel } from './cancel-transaction';
import type { OrderRecord } from '../stores/orders';
import {
  orderFromRow,
  rowFromOrder,
  type AcceptOutcome,
  type OrderCounts,
  type OutboxMessage,
  type ReplayMarker,
} from './order-repository';

export type ListStatusType = 'EXEC_STARTED' | 'UPDATED' | 'ALL_DONE';
export type ListOrderStatus = 'EXECUTING' | 'ALL_DONE' | 'REJECT';

/** An order list as stored (its legs are order rows with `orderListId`). */
export interface OrderListRecord {
  orderListId: number;
  userId: number;
  symbol: string;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  listStatusType: ListStatusType;
  listOrderStatus: ListOrderStatus;
  /** The legs' order ids, in the command's order (OCO: above, below). */
  orderIds: number[];
  lockAsset: string;
  /** Ledger minor units, decimal string: what the list locked when accepted. */
  lockAmount: string;
  time: number;
  updateTime: number;
  /** Highest engine seq reflected (0 = not answered by the engine yet). */
  lastSeq: number;
}

export interface AcceptListRequest {
  userId: number;
  symbol: string;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  /** One order row per leg, in the command's order; order ids are allocated in the transaction. */
  orders: Array<Omit<OrderRecord, 'orderId'>>;
  /** The engine command without its list id and its legs' order ids (set in the transaction). */
  command: Omit<PlaceListCommand, 'listId' | 'legs'> & { legs: Array<Omit<ListLeg, 'orderId'>> };
  /** The list's own lock (−list id): OCO both legs' need; OTO/OTOCO the pending legs'. */
  lock: { asset: string; amount: bigint };
  /** OTO/OTOCO: the working leg's own lock (under its order id, as a single order's; migration 18). */
  workingLock?: { asset: string; amount: bigint };
  groupId: string;
  maxOpenOrders: number;
  orderLimits: { per10s: number; perDay: number };
  nowMs: number;
  replay?: ReplayMarker;
}

export type AcceptListResult =
  | {
      outcome: 'accepted';
      list: OrderListRecord;
      orders: OrderRecord[];
      message: OutboxMessage;
      counts: OrderCounts;
    }
  | { outcome: Exclude<AcceptOutcome, 'accepted'>; counts?: OrderCounts };

interface ListRow {
  list_id: string;
  user_id: string;
  market: string;
  list_client_order_id: string;
  contingency_type: string;
  list_status_type: string;
  list_order_status: string;
  order_ids: Array<string | number>;
  lock_asset: string;
  lock_amount: string;
  created_ms: string;
  update_ms: string;
  last_seq: string;
}

export function listFromRow(r: ListRow): OrderListRecord {
  return {
    orderListId: Number(r.list_id),
    userId: Number(r.user_id),
    symbol: r.market,
    listClientOrderId: r.list_client_order_id,
    contingencyType: r.contingency_type as ContingencyType,
    listStatusType: r.list_status_type as ListStatusType,
    listOrderStatus: r.list_order_status as ListOrderStatus,
    orderIds: r.order_ids.map(Number),
    lockAsset: r.lock_asset,
    lockAmount: String(r.lock_amount),
    time: Number(r.created_ms),
    updateTime: Number(r.update_ms),
    lastSeq: Number(r.last_seq),
  };
}

const OPEN_LIST = "list_order_status = 'EXECUTING'";

export class OrderListRepository {
  constructor(private readonly pool: Pool) {}

  /** The whole accept path of a list in one transaction (one round trip). */
  async accept(req: AcceptListRequest): Promise<AcceptListResult> {
    const res = await this.pool.query<{
      outcome: AcceptOutcome;
      new_list_id: string | null;
      new_order_ids: Array<string | number> | null;
      command: string;
      orders_10s: number | null;
      orders_day: number | null;
    }>(
      'SELECT * FROM accept_order_list($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)',
      [
        req.replay?.signature ?? null,
        req.replay?.expiresAtMs ?? 0,
        req.userId,
        req.symbol,
        req.maxOpenOrders,
        req.lock.asset,
        req.lock.amount.toString(),
        JSON.stringify({
          list_client_order_id: req.listClientOrderId,
          contingency_type: req.contingencyType,
          created_ms: req.nowMs,
          update_ms: req.nowMs,
        }),
        JSON.stringify(req.orders.map(rowFromOrder)),
        JSON.stringify(req.command),
        req.groupId,
        req.orderLimits.per10s,
        req.orderLimits.perDay,
        req.nowMs,
        req.workingLock?.asset ?? req.lock.asset,
        (req.workingLock?.amount ?? 0n).toString(),
      ],
    );
    const row = res.rows[0];
    const counts =
      row.orders_10s === null ? undefined : { per10s: row.orders_10s, perDay: Number(row.orders_day) };
    if (row.outcome !== 'accepted') return { outcome: row.outcome, counts };
    const listId = Number(row.new_list_id);
    const orderIds = (row.new_order_ids ?? []).map(Number);
    return {
      outcome: 'accepted',
      list: {
        orderListId: listId,
        userId: req.userId,
        symbol: req.symbol,
        listClientOrderId: req.listClientOrderId,
        contingencyType: req.contingencyType,
        listStatusType: 'EXEC_STARTED',
        listOrderStatus: 'EXECUTING',
        orderIds,
        lockAsset: req.lock.asset,
        lockAmount: req.lock.amount.toString(),
        time: req.nowMs,
        updateTime: req.nowMs,
        lastSeq: 0,
      },
      orders: req.orders.map((o, i) => ({ ...o, orderId: orderIds[i], orderListId: listId })),
      message: { cmdId: `pl-${listId}`, market: req.symbol, groupId: req.groupId, body: row.command },
      counts: counts ?? { per10s: orderIds.length, perDay: orderIds.length },
    };
  }

  /**
   * Records a cancel command for one of the user's open lists: the list's own place first if the engine has
   * not applied it yet (SQS FIFO keeps a group's order; a duplicate is dropped by its deduplication id), then
   * the cancel. `undefined` when the user has no such open list.
   */
  async requestCancel(
    userId: number,
    listId: number,
    cancel: (list: OrderListRecord) => CommandMessage,
    groupId: string,
    replay?: ReplayMarker,
  ): Promise<{ list: OrderListRecord; messages: OutboxMessage[] } | 'replayed_signature' | undefined> {
    const out = await recordCancel<OrderListRecord>(this.pool, {
      lock: async (c) => {
        const found = await c.query<ListRow>(
          `SELECT * FROM order_lists WHERE list_id = $1 AND user_id = $2 AND ${OPEN_LIST} FOR UPDATE`,
          [listId, userId],
        );
        return found.rowCount === 1 ? listFromRow(found.rows[0]) : undefined;
      },
      market: (list) => list.symbol,
      placeCmdId: () => `pl-${listId}`,
      cancel,
      groupId,
      replay,
    });
    return typeof out === 'object' ? { list: out.target, messages: out.messages } : out;
  }

  async get(listId: number): Promise<OrderListRecord | undefined> {
    const res = await this.pool.query<ListRow>('SELECT * FROM order_lists WHERE list_id = $1', [listId]);
    return res.rows[0] ? listFromRow(res.rows[0]) : undefined;
  }

  /** The user's list with this client id: the open one if there is one, else the latest. */
  async getByClientId(
    userId: number,
    listClientOrderId: string,
    market?: string,
  ): Promise<OrderListRecord | undefined> {
    const res = await this.pool.query<ListRow>(
      `SELECT * FROM order_lists WHERE user_id = $1 AND list_client_order_id = $2 AND ($3::text IS NULL OR market = $3)
        ORDER BY (${OPEN_LIST}) DESC, list_id DESC LIMIT 1`,
      [userId, listClientOrderId, market ?? null],
    );
    return res.rows[0] ? listFromRow(res.rows[0]) : undefined;
  }

  /** The user's open lists (in one market, if given), oldest first. */
  async listOpen(userId: number, market?: string): Promise<OrderListRecord[]> {
    const res = await this.pool.query<ListRow>(
      `SELECT * FROM order_lists WHERE user_id = $1 AND ($2::text IS NULL OR market = $2) AND ${OPEN_LIST}
        ORDER BY list_id`,
      [userId, market ?? null],
    );
    return res.rows.map(listFromRow);
  }

  /**
   * The user's lists (Binance allOrderList): from `fromId` on, oldest first; otherwise the latest `limit`
   * within [startTime, endTime], newest first (as Binance's example).
   */
  async listAll(
    userId: number,
    opts: { fromId?: number; startTime?: number; endTime?: number; limit: number },
  ): Promise<OrderListRecord[]> {
    const res =
      opts.fromId !== undefined
        ? await this.pool.query<ListRow>(
            'SELECT * FROM order_lists WHERE user_id = $1 AND list_id >= $2 ORDER BY list_id LIMIT $3',
            [userId, opts.fromId, opts.limit],
          )
        : await this.pool.query<ListRow>(
            `SELECT * FROM order_lists WHERE user_id = $1 AND ($2::bigint IS NULL OR created_ms >= $2)
                AND ($3::bigint IS NULL OR created_ms <= $3) ORDER BY list_id DESC LIMIT $4`,
            [userId, opts.startTime ?? null, opts.endTime ?? null, opts.limit],
          );
    return res.rows.map(listFromRow);
  }

  /** The legs of a list, in the list's order. */
  async legs(list: OrderListRecord): Promise<OrderRecord[]> {
    const res = await this.pool.query<Parameters<typeof orderFromRow>[0]>(
      'SELECT * FROM orders WHERE order_id = ANY($1::bigint[])',
      [list.orderIds],
    );
    const byId = new Map(res.rows.map((r) => [Number(r.order_id), orderFromRow(r)]));
    return list.orderIds.flatMap((id) => byId.get(id) ?? []);
  }
}

/** One prevented match as stored (migration 17), engine integers. */
export interface PreventedMatchRecord {
  symbol: string;
  preventedMatchId: number;
  takerOrderId: number;
  makerOrderId: number;
  priceTicks: number;
  makerPreventedLots: number;
  stpMode: string;
  transactTime: number;
}

/**
 * GET /api/v3/myPreventedMatches: the caller's prevented matches in one market, by id, or of one order (as
 * taker or maker) from `fromId` on. Scoped to the user: another user's rows are never read.
 */
export async function preventedMatches(
  pool: Pick<Pool, 'query'>,
  userId: number,
  market: string,
  q: { preventedMatchId?: number; orderId?: number; fromId?: number; limit: number },
): Promise<PreventedMatchRecord[]> {
  const res = await pool.query<{
    market: string;
    prevented_match_id: string;
    taker_order_id: string;
    maker_order_id: string;
    price_ticks: string;
    maker_prevented_lots: string;
    stp_mode: string;
    transact_ms: string;
  }>(
    `SELECT * FROM prevented_matches
      WHERE user_id = $1 AND market = $2
        AND ($3::bigint IS NULL OR prevented_match_id = $3)
        AND ($4::bigint IS NULL OR taker_order_id = $4 OR maker_order_id = $4)
        AND ($5::bigint IS NULL OR prevented_match_id >= $5)
      ORDER BY prevented_match_id LIMIT $6`,
    [userId, market, q.preventedMatchId ?? null, q.orderId ?? null, q.fromId ?? null, q.limit],
  );
  return res.rows.map((r) => ({
    symbol: r.market,
    preventedMatchId: Number(r.prevented_match_id),
    takerOrderId: Number(r.taker_order_id),
    makerOrderId: Number(r.maker_order_id),
    priceTicks: Number(r.price_ticks),
    makerPreventedLots: Number(r.maker_prevented_lots),
    stpMode: r.stp_mode,
    transactTime: Number(r.transact_ms),
  }));
}
