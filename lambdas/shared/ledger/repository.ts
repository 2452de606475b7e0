// The ledger in PostgreSQL: the only source of truth for money (DESIGN §1, §5). Every movement runs in one
// transaction on one connection (pglite serialises transactions, so nothing here awaits a second
// connection inside one), touches account rows in account-id order (no deadlocks), and is idempotent by a
// unique (kind, reference).
import type { Pool, PoolClient } from 'pg';
import type { MarketSpec, TradeEvent } from '../../../engine/core/types';
import { ASSETS } from '../../../lib/markets';
import {
  EXTERNAL,
  FEES,
  depositPostings,
  lockPostings,
  tradeSettlement,
  unlockPostings,
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

class AlreadyApplied extends Error {}

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
    return this.transaction(async (c) => {
      await this.record(c, 'deposit', reference, depositPostings(userId, asset, amount));
    });
  }

  /**
   * Locks funds for an order before it is queued (`available >= amount` in the same statement).
   * Returns false when the balance is too small; nothing changes then.
   */
  /**
   * Locks `amount` of `asset` for a new order, in one transaction with the open-order cap: the user's row is
   * locked first, so concurrent orders of one user are counted one after another and the cap is exact.
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
      const moved = await c.query(
        `UPDATE accounts SET available = available - $3, locked = locked + $3
          WHERE owner = $1 AND asset = $2 AND available >= $3`,
        [userAccount(userId), asset, amount.toString()],
      );
      if (moved.rowCount !== 1) {
        await c.query('ROLLBACK');
        return 'insufficient_balance';
      }
      const tx = await c.query<{ id: string }>(
        "INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', $1) RETURNING id",
        [`order:${orderId}`],
      );
      // The balances moved in the conditional UPDATE above; record the matching entries.
      await this.insertEntries(c, tx.rows[0].id, lockPostings(userId, asset, amount), false);
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
  async releaseOrderLock(orderId: number): Promise<void> {
    await this.transaction(async (c) => {
      const lock = await c.query<{ user_id: string; asset: string; remaining: string; status: string }>(
        'SELECT user_id, asset, remaining, status FROM order_locks WHERE order_id = $1 FOR UPDATE',
        [orderId],
      );
      const row = lock.rows[0];
      if (!row || row.status !== 'open') throw new AlreadyApplied();
      const remaining = BigInt(row.remaining);
      if (remaining > 0n) {
        await this.record(
          c,
          'unlock',
          `order:${orderId}`,
          unlockPostings(Number(row.user_id), row.asset, remaining),
        );
      }
      await c.query(
        "UPDATE order_locks SET remaining = 0, status = 'closed', closed_at = clock_timestamp() WHERE order_id = $1",
        [orderId],
      );
    });
  }

  /** Settles one trade once per (market, trade id): funds move, fees go to the fee account, locks shrink. */
  async settleTrade(market: MarketSpec, trade: TradeEvent): Promise<boolean> {
    const s = tradeSettlement(market, trade);
    return this.transaction(async (c) => {
      const fresh = await c.query(
        `INSERT INTO settled_trades (market, trade_id, maker_order_id, taker_order_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [market.symbol, trade.tradeId, trade.makerOrderId, trade.takerOrderId],
      );
      if (fresh.rowCount !== 1) throw new AlreadyApplied();
      await this.record(c, 'trade', `${market.symbol}:${trade.tradeId}`, s.postings);
      for (const [orderId, amount] of [
        [s.buyerOrderId, s.quote],
        [s.sellerOrderId, s.base],
      ] as const) {
        const shrunk = await c.query(
          'UPDATE order_locks SET remaining = remaining - $2 WHERE order_id = $1 AND remaining >= $2',
          [orderId, amount.toString()],
        );
        if (shrunk.rowCount !== 1)
          throw new Error(
            `order ${orderId} has less locked than trade ${market.symbol}:${trade.tradeId} needs`,
          );
      }
    });
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

  /** DESIGN §7.1–7.2 over the whole ledger. */
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
    const locks = await this.pool.query<{ asset: string; remaining: string }>(
      "SELECT asset, coalesce(sum(remaining), 0) AS remaining FROM order_locks WHERE status = 'open' GROUP BY asset",
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
        problems.push(`${r.asset}: locked ${lockedByUsers} ≠ open order locks ${byOrders}`);
      return { asset: r.asset, held, netDeposits, lockedByUsers, lockedByOrders: byOrders };
    });
    const entries = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM (SELECT tx_id, asset FROM ledger_entries GROUP BY tx_id, asset HAVING sum(amount) <> 0) t',
    );
    if (Number(entries.rows[0].n) > 0)
      problems.push(`${entries.rows[0].n} ledger transactions do not sum to zero`);
    return { ok: problems.length === 0, assets, problems };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Runs `fn` in a transaction; returns false if it found the movement already applied. */
  private async transaction(fn: (c: PoolClient) => Promise<void>): Promise<boolean> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query('COMMIT');
      return true;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      if (err instanceof AlreadyApplied) return false;
      if ((err as { code?: string }).code === '23505') return false; // unique (kind, reference): applied before
      throw err;
    } finally {
      c.release();
    }
  }

  /** Records a transaction and applies its postings to the account rows (created on first use). */
  private async record(c: PoolClient, kind: string, reference: string, postings: Posting[]): Promise<void> {
    const tx = await c.query<{ id: string }>(
      'INSERT INTO ledger_transactions (kind, reference) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id',
      [kind, reference],
    );
    if (tx.rowCount !== 1) throw new AlreadyApplied();
    await this.insertEntries(c, tx.rows[0].id, postings);
  }

  private async insertEntries(
    c: PoolClient,
    txId: string,
    postings: Posting[],
    applyToAccounts = true,
  ): Promise<void> {
    const ids = await this.accountIds(c, postings);
    // Fold per account, then update in id order so concurrent settlements never deadlock.
    const deltas = new Map<number, { available: bigint; locked: bigint }>();
    for (const p of postings) {
      const id = ids.get(`${p.owner}|${p.asset}`) as number;
      const d = deltas.get(id) ?? { available: 0n, locked: 0n };
      d[p.bucket] += p.amount;
      deltas.set(id, d);
    }
    for (const id of applyToAccounts ? [...deltas.keys()].sort((a, b) => a - b) : []) {
      const d = deltas.get(id) as { available: bigint; locked: bigint };
      await c.query('UPDATE accounts SET available = available + $2, locked = locked + $3 WHERE id = $1', [
        id,
        d.available.toString(),
        d.locked.toString(),
      ]);
    }
    const values: string[] = [];
    const params: unknown[] = [txId];
    for (const p of postings) {
      params.push(ids.get(`${p.owner}|${p.asset}`), p.asset, p.bucket, p.amount.toString());
      const n = params.length;
      values.push(`($1, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`);
    }
    await c.query(
      `INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount) VALUES ${values.join(', ')}`,
      params,
    );
  }

  private async accountIds(c: PoolClient, postings: Posting[]): Promise<Map<string, number>> {
    const keys = [...new Set(postings.map((p) => `${p.owner}|${p.asset}`))];
    const owners = keys.map((k) => k.split('|')[0]);
    const assets = keys.map((k) => k.split('|')[1]);
    await c.query(
      'INSERT INTO accounts (owner, asset) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (owner, asset) DO NOTHING',
      [owners, assets],
    );
    const res = await c.query<{ id: string; owner: string; asset: string }>(
      'SELECT id, owner, asset FROM accounts WHERE (owner, asset) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [owners, assets],
    );
    return new Map(res.rows.map((r) => [`${r.owner}|${r.asset}`, Number(r.id)]));
  }
}
