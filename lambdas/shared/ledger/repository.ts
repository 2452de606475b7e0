// The ledger in PostgreSQL: the only source of truth for money (docs/architecture.md). Every movement is
// applied by one SQL function, `ledger_post` (migration 4: postings computed here in ./postings.ts, applied
// once per unique (kind, reference), account rows updated in account-id order), inside one transaction on one
// connection (pglite serialises transactions, so nothing here awaits a second connection inside one).
import type { Pool } from 'pg';
import type { EngineEvent, MarketSpec, TradeEvent } from '@engine/core/types';
import { mergeProgress, type OrderProgress, type OrderRecord } from '../stores/orders';
import { orderFromRow } from './order-repository';
import { ASSETS } from '@contracts/markets';
import {
  EXTERNAL,
  FEES,
  depositPostings,
  lockPostings,
  tradeSettlement,
  userAccount,
  type Posting,
} from './postings';

export interface Balance {
  asset: string;
  available: bigint;
  locked: bigint;
}

export interface ConservationReport {
  ok: boolean;
  /** Per asset: user balances + fee account, and deposits credited − withdrawals sent. */
  assets: Array<{
    asset: string;
    held: bigint;
    netDeposits: bigint;
    lockedByUsers: bigint;
    lockedByOrders: bigint;
  }>;
  problems: string[];
}

/** Postings as `ledger_post` takes them (amounts as decimal strings). */
function postingsForSql(postings: Posting[]) {
  return postings.map((p) => ({ ...p, amount: p.amount.toString() }));
}
const postingsJson = (postings: Posting[]): string => JSON.stringify(postingsForSql(postings));

/**
 * A movement the ledger refuses for what it is, not for a passing fault: data (22xxx) and integrity (23xxx)
 * errors, the settlement functions' own refusals included. Retrying cannot help; connection or server faults
 * are not these.
 */
function isUnsettleable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

type OrderRow = Parameters<typeof orderFromRow>[0];

/** A trade as `settle_trade` takes it: the facts, the postings, and what each order's lock pays. */
function tradeOp(market: MarketSpec, trade: TradeEvent) {
  const s = tradeSettlement(market, trade);
  return {
    op: 'trade',
    market: market.symbol,
    tradeId: trade.tradeId,
    makerOrderId: trade.makerOrderId,
    takerOrderId: trade.takerOrderId,
    price: trade.price,
    quantity: trade.quantity,
    takerSide: trade.takerSide,
    ts: trade.ts,
    postings: postingsForSql(s.postings),
    shrink: [
      { orderId: s.buyerOrderId, amount: s.quote.toString() },
      { orderId: s.sellerOrderId, amount: s.base.toString() },
    ],
  };
}

/** The engine answers that move money or answer an order, as `settle_batch` operations, in stream order. */
export function settlementOps(item: SettlementItem): unknown[] {
  const ops: unknown[] = [];
  for (const e of item.events) {
    if (e.type === 'trade') ops.push(tradeOp(item.market, e));
    else if (e.type === 'closed') ops.push({ op: 'release', orderId: e.orderId });
    else if (e.type === 'rejected' && (e.command === 'place' || e.command === 'placeList'))
      ops.push({ op: 'rejectPlace', orderId: e.orderId, seq: e.seq, ts: e.ts });
    else if (e.type === 'rejected' && e.command === 'cancel' && e.reason === 'UNKNOWN_ORDER')
      ops.push({ op: 'rejectCancel', orderId: e.orderId, seq: e.seq, ts: e.ts });
    // Order lists (migration 17): the list's status, and its lock's release on ALL_DONE (or a first REJECT).
    else if (e.type === 'listStatus')
      ops.push({
        op: 'listStatus',
        listId: e.listId,
        listStatusType: e.listStatusType,
        listOrderStatus: e.listOrderStatus,
        seq: e.seq,
        ts: e.ts,
      });
    else if (e.type === 'prevented')
      ops.push({
        op: 'prevented',
        market: item.market.symbol,
        preventedMatchId: e.preventedMatchId,
        userId: e.userId,
        takerOrderId: e.takerOrderId,
        makerOrderId: e.makerOrderId,
        price: e.price,
        makerPreventedQuantity: e.makerPreventedQuantity,
        stpMode: e.stpMode,
        ts: e.ts,
      });
    // The amend history (migration 22): one row per answer, not per batch's merged progress.
    else if (e.type === 'amended')
      ops.push({
        op: 'amend',
        orderId: e.orderId,
        seq: e.seq,
        ts: e.ts,
        quantity: e.quantity,
        // The command it answers, so that command's request finds its own row (docs/api.md#amend-keep-priority).
        cmdId: item.commands?.find((c) => c.firstSeq <= e.seq && e.seq <= c.lastSeq)?.cmdId,
      });
  }
  return ops;
}

/** settle_batch's arguments for records in stream order: progress merged per order (the latest seq wins). */
function batchArgs(items: SettlementItem[]): [string, string, string[], number[]] {
  const latest = new Map<number, OrderProgress>();
  const touched = new Set<number>();
  for (const item of items) {
    for (const p of item.progress) {
      mergeProgress(latest, p);
      touched.add(p.orderId);
    }
    for (const id of item.rejectedOrderIds) touched.add(id);
  }
  const progress = [...latest.values()].map((p) => ({
    order_id: p.orderId,
    seq: p.seq,
    update_ms: p.updateTime,
    status: p.status,
    executed_lots: p.executedLots,
    cum_quote: p.cumQuote,
    price_ticks: p.priceTicks,
    qty_lots: p.qtyLots,
    is_working: p.isWorking,
    working_ms: p.workingTime,
    // When a trailing stop started trailing (docs/api.md#trailing-stops; migration 16).
    ...(p.trailingTime !== undefined ? { trailing_ms: p.trailingTime } : {}),
  }));
  return [
    JSON.stringify(items.flatMap(settlementOps)),
    JSON.stringify(progress),
    items.flatMap((i) => i.cmdIds),
    [...touched],
  ];
}

/** One Kinesis record's worth of settlement (see settleRecords). */
export interface SettlementItem {
  /** The record's sequence number: its identity in quarantine. */
  key: string;
  market: MarketSpec;
  events: EngineEvent[];
  /** Progress of the record's orders (absolute values, seq-guarded). */
  progress: OrderProgress[];
  /** Orders whose place or cancel the record rejects (their rows may change too). */
  rejectedOrderIds: number[];
  /** Commands the record shows applied: their outbox rows are done. */
  cmdIds: string[];
  /** The same commands with the seqs of the events each produced (an amend's answer names its command). */
  commands?: ReadonlyArray<{ cmdId: string; firstSeq: number; lastSeq: number }>;
  /** The record as received, kept if it is quarantined. */
  raw: string;
}

export interface SettlementResult {
  /** Current rows of the orders the batch touched. */
  orders: OrderRecord[];
  quarantined: Array<{ key: string; market: string; error: string }>;
}

/** Funds to lock for a new order, and the open-order cap it must fit under. */
export interface LockRequest {
  orderId: number;
  userId: number;
  market: string;
  asset: string;
  amount: bigint;
  /** Binance MAX_NUM_ORDERS: open orders of this user in this market, this one included. */
  maxOpenOrders: number;
}

/** Outcome of locking funds for a new order. */
export type LockResult = 'locked' | 'insufficient_balance' | 'too_many_open_orders';

export class LedgerRepository {
  constructor(private readonly pool: Pool) {}

  async createUser(email: string): Promise<number> {
    const res = await this.pool.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [
      email,
    ]);
    return Number(res.rows[0].id);
  }

  async findUserByEmail(email: string): Promise<number | undefined> {
    const res = await this.pool.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
    return res.rows[0] ? Number(res.rows[0].id) : undefined;
  }

  /** Credits a deposit once per reference; returns false if that reference was already credited. */
  async creditDeposit(userId: number, asset: string, amount: bigint, reference: string): Promise<boolean> {
    if (amount <= 0n) throw new Error('deposit amount must be positive');
    const res = await this.pool.query<{ posted: boolean }>('SELECT ledger_post($1, $2, $3) AS posted', [
      'deposit',
      reference,
      postingsJson(depositPostings(userId, asset, amount)),
    ]);
    return res.rows[0].posted;
  }

  /**
   * Locks `amount` of `asset` for an order, in one transaction with the open-order cap: the user's row is
   * locked first, so concurrent orders of one user are counted one after another and the cap is exact; the
   * ledger's `available >= 0` check refuses an overdraft. (The order API does all of this, and more, in
   * `accept_order`; this is the ledger's own primitive, kept for its tests and tools.)
   */
  async lockForOrder(input: LockRequest): Promise<LockResult> {
    const { orderId, userId, market, asset, amount } = input;
    if (amount <= 0n) throw new Error('lock amount must be positive');
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const open = await c.query<{ n: string }>(
        "SELECT count(*) AS n FROM order_locks WHERE user_id = $1 AND market = $2 AND status = 'open'",
        [userId, market],
      );
      if (Number(open.rows[0].n) >= input.maxOpenOrders) {
        await c.query('ROLLBACK');
        return 'too_many_open_orders';
      }
      try {
        await c.query('SELECT ledger_post($1, $2, $3)', [
          'lock',
          `order:${orderId}`,
          postingsJson(lockPostings(userId, asset, amount)),
        ]);
      } catch (err) {
        if ((err as { code?: string }).code !== '23514') throw err; // check_violation: available would go < 0
        await c.query('ROLLBACK');
        return 'insufficient_balance';
      }
      await c.query(
        'INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining) VALUES ($1, $2, $3, $4, $5, $5)',
        [orderId, userId, market, asset, amount.toString()],
      );
      await c.query('COMMIT');
      return 'locked';
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** Gives back whatever an order still has locked, once; later calls change nothing. */
  async releaseOrderLock(orderId: number): Promise<boolean> {
    const res = await this.pool.query<{ released: boolean }>('SELECT release_order_lock($1) AS released', [
      orderId,
    ]);
    return res.rows[0].released;
  }

  /** Settles one trade once per (market, trade id): funds move, fees go to the fee account, locks shrink. */
  async settleTrade(market: MarketSpec, trade: TradeEvent): Promise<boolean> {
    const res = await this.pool.query<{ settled: boolean }>('SELECT settle_trade($1) AS settled', [
      JSON.stringify(tradeOp(market, trade)),
    ]);
    return res.rows[0].settled;
  }

  /**
   * Settles a Kinesis batch in one transaction and one round trip (`settle_batch`, migration 4): per record,
   * in stream order, its trades, the locks its closed orders release, its first-answer rejections, its amend
   * answers (one amend history row each, migration 22); then the
   * orders' progress and the outbox rows of its commands. If a record cannot be settled (a data or integrity
   * error: retrying cannot help), the batch is redone record by record, each under a savepoint: that record
   * is rolled back alone and quarantined with the error, the records after it go on. Any other error
   * (connection, server) fails the whole batch for a retry. Returns the current rows of the orders touched.
   */
  async settleRecords(items: SettlementItem[]): Promise<SettlementResult> {
    try {
      const res = await this.pool.query<OrderRow>(
        'SELECT * FROM settle_batch($1, $2, $3, $4)',
        batchArgs(items),
      );
      return { orders: res.rows.map(orderFromRow), quarantined: [] };
    } catch (err) {
      if (!isUnsettleable(err)) throw err;
      return this.settleRecordByRecord(items);
    }
  }

  private async settleRecordByRecord(items: SettlementItem[]): Promise<SettlementResult> {
    const c = await this.pool.connect();
    const quarantined: SettlementResult['quarantined'] = [];
    const orders = new Map<number, OrderRecord>();
    try {
      await c.query('BEGIN');
      for (const item of items) {
        await c.query('SAVEPOINT record');
        try {
          const res = await c.query<OrderRow>(
            'SELECT * FROM settle_batch($1, $2, $3, $4)',
            batchArgs([item]),
          );
          await c.query('RELEASE SAVEPOINT record');
          for (const row of res.rows) orders.set(Number(row.order_id), orderFromRow(row));
        } catch (err) {
          await c.query('ROLLBACK TO SAVEPOINT record');
          if (!isUnsettleable(err)) throw err;
          const error = err instanceof Error ? err.message : String(err);
          await c.query(
            `INSERT INTO quarantined_records (market, sequence_number, record, error) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sequence_number) DO NOTHING`,
            [item.market.symbol, item.key, item.raw, error],
          );
          quarantined.push({ key: item.key, market: item.market.symbol, error });
        }
      }
      await c.query('COMMIT');
      return { orders: [...orders.values()], quarantined };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** Quarantines a record outside a batch (one that could not even be decoded). */
  async quarantine(key: string, market: string, raw: string, error: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO quarantined_records (market, sequence_number, record, error) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sequence_number) DO NOTHING`,
      [market, key, raw, error],
    );
  }

  /** Records still quarantined (not replayed), oldest first. */
  async quarantinedRecords(): Promise<
    Array<{ id: number; key: string; market: string; record: string; error: string }>
  > {
    const res = await this.pool.query<{
      id: string;
      sequence_number: string;
      market: string;
      record: string;
      error: string;
    }>(
      'SELECT id, sequence_number, market, record, error FROM quarantined_records WHERE replayed_at IS NULL ORDER BY id',
    );
    return res.rows.map((r) => ({
      id: Number(r.id),
      key: r.sequence_number,
      market: r.market,
      record: r.record,
      error: r.error,
    }));
  }

  async markReplayed(id: number): Promise<void> {
    await this.pool.query('UPDATE quarantined_records SET replayed_at = clock_timestamp() WHERE id = $1', [
      id,
    ]);
  }

  async getBalances(userId: number): Promise<Balance[]> {
    const res = await this.pool.query<{ asset: string; available: string; locked: string }>(
      'SELECT asset, available, locked FROM accounts WHERE owner = $1',
      [userAccount(userId)],
    );
    const byAsset = new Map(res.rows.map((r) => [r.asset, r]));
    return ASSETS.map((a) => {
      const r = byAsset.get(a.symbol);
      return { asset: a.symbol, available: BigInt(r?.available ?? 0), locked: BigInt(r?.locked ?? 0) };
    });
  }

  /** Invariants 1–2 of docs/architecture.md#invariants over the whole ledger. */
  async checkConservation(): Promise<ConservationReport> {
    const problems: string[] = [];
    const totals = await this.pool.query<{
      asset: string;
      held: string;
      external: string;
      user_locked: string;
      negative: string;
    }>(
      `SELECT asset,
              coalesce(sum(available + locked) FILTER (WHERE owner LIKE 'user:%' OR owner = $1), 0) AS held,
              coalesce(sum(available + locked) FILTER (WHERE owner = $2), 0) AS external,
              coalesce(sum(locked) FILTER (WHERE owner LIKE 'user:%'), 0) AS user_locked,
              count(*) FILTER (WHERE owner <> $2 AND (available < 0 OR locked < 0)) AS negative
         FROM accounts GROUP BY asset`,
      [FEES, EXTERNAL],
    );
    // What users' locked funds must add up to: open orders' locks and withdrawals not yet final (amount + fee
    // are locked from the request until the chain confirms it or it fails).
    const locks = await this.pool.query<{ asset: string; remaining: string }>(
      `SELECT asset, coalesce(sum(remaining), 0) AS remaining FROM (
         SELECT asset, remaining FROM order_locks WHERE status = 'open'
         UNION ALL
         SELECT coin, amount + fee FROM withdrawals WHERE status IN ('pending', 'broadcast')
       ) l GROUP BY asset`,
    );
    const lockedByOrders = new Map(locks.rows.map((r) => [r.asset, BigInt(r.remaining)]));
    const assets = totals.rows.map((r) => {
      const held = BigInt(r.held);
      const netDeposits = -BigInt(r.external);
      const lockedByUsers = BigInt(r.user_locked);
      const byOrders = lockedByOrders.get(r.asset) ?? 0n;
      if (held !== netDeposits)
        problems.push(`${r.asset}: balances ${held} ≠ deposits − withdrawals ${netDeposits}`);
      if (Number(r.negative) > 0) problems.push(`${r.asset}: ${r.negative} negative balances`);
      if (lockedByUsers !== byOrders)
        problems.push(
          `${r.asset}: locked ${lockedByUsers} ≠ open order locks and withdrawals in flight ${byOrders}`,
        );
      return { asset: r.asset, held, netDeposits, lockedByUsers, lockedByOrders: byOrders };
    });
    const entries = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM (SELECT tx_id, asset FROM ledger_entries GROUP BY tx_id, asset HAVING sum(amount) <> 0) t',
    );
    if (Number(entries.rows[0].n) > 0)
      problems.push(`${entries.rows[0].n} ledger transactions do not sum to zero`);
    return { ok: problems.length === 0, assets, problems };
  }
}
