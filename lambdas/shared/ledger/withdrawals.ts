// Withdrawals in the ledger database (migration 8, docs/wallets.md#withdrawals): the request locks amount +
// network fee and records the withdrawal in one transaction; the wallet records its signed transaction, then
// finalises once: the lock pays the outside world and the fee account, or goes back to the user. The request's
// protections (migration 10) are checked in the same transaction: the 2FA code, the address allowlist and its
// hold, the user's and the exchange-wide 24 h limits. Every signed transaction of a withdrawal is kept as an
// attempt (migration 15): the first, and each replacement of a stuck one with the same nonce and higher fees.
import type { Pool } from 'pg';
import { EXTERNAL, FEES, assertBalanced, lockPostings, unlockPostings, userAccount } from './postings';
import { consumeTotp, type TotpProof } from './totp';
import { inTransaction } from './transaction';
import { checkWithdrawAddress } from './withdraw-addresses';

export type WithdrawalStatus = 'pending' | 'broadcast' | 'confirmed' | 'failed';

export interface WithdrawalRow {
  id: number;
  userId: number;
  coin: string;
  network: string;
  address: string;
  amount: bigint;
  fee: bigint;
  chainAmount: bigint;
  status: WithdrawalStatus;
  nonce: number | null;
  txHash: string | null;
  rawTx: string | null;
  applyMs: number;
  completeMs: number | null;
}

export interface WithdrawalRequest {
  userId: number;
  coin: string;
  network: string;
  /** EIP-55 address. */
  address: string;
  amount: bigint;
  fee: bigint;
  chainAmount: bigint;
  /** Most the user may withdraw of `coin` in 24 h (ledger units, the fee included). */
  dailyLimit: bigint;
  /** Most all users together may withdraw of `coin` in 24 h (ledger units, amounts sent: fees excluded). */
  globalDailyLimit: bigint;
  /** The verified 2FA code when the user's 2FA is on (consumed here; refused when its step was used). */
  totp?: TotpProof;
  nowMs: number;
}

/** One signed transaction of a withdrawal; attempt 0 is the first, each replacement the next number. */
export interface WithdrawalAttempt {
  withdrawalId: number;
  attempt: number;
  txHash: string;
  rawTx: string;
  /** Wei; null for attempts signed before migration 15 (their raw transaction holds the fees). */
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  signedMs: number;
}

/** A transaction signed for a withdrawal, to store before it is broadcast. */
export interface SignedTransaction {
  hash: string;
  raw: string;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  signedMs: number;
}

/**
 * Why a request was refused; nothing was locked. `totp`: 2FA is on and the code was missing, already used or
 * for a replaced secret; `address`: not on the user's allowlist; `held`: on it, usable from `usableMs`.
 */
export type WithdrawalRefusal =
  | { refused: 'totp' | 'address' | 'velocity' | 'global-velocity' | 'insufficient' }
  | { refused: 'held'; usableMs: number };

interface RawWithdrawal {
  id: string;
  user_id: string;
  coin: string;
  network: string;
  address: string;
  amount: string;
  fee: string;
  chain_amount: string;
  status: WithdrawalStatus;
  nonce: string | null;
  tx_hash: string | null;
  raw_tx: string | null;
  apply_ms: string;
  complete_ms: string | null;
}

const toRow = (r: RawWithdrawal): WithdrawalRow => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  coin: r.coin,
  network: r.network,
  address: r.address,
  amount: BigInt(r.amount),
  fee: BigInt(r.fee),
  chainAmount: BigInt(r.chain_amount),
  status: r.status,
  nonce: r.nonce === null ? null : Number(r.nonce),
  txHash: r.tx_hash,
  rawTx: r.raw_tx,
  applyMs: Number(r.apply_ms),
  completeMs: r.complete_ms === null ? null : Number(r.complete_ms),
});

interface RawAttempt {
  withdrawal_id: string;
  attempt: number;
  tx_hash: string;
  raw_tx: string;
  max_fee_per_gas: string | null;
  max_priority_fee_per_gas: string | null;
  signed_ms: string;
}

const toAttempt = (r: RawAttempt): WithdrawalAttempt => ({
  withdrawalId: Number(r.withdrawal_id),
  attempt: r.attempt,
  txHash: r.tx_hash,
  rawTx: r.raw_tx,
  maxFeePerGas: r.max_fee_per_gas === null ? null : BigInt(r.max_fee_per_gas),
  maxPriorityFeePerGas: r.max_priority_fee_per_gas === null ? null : BigInt(r.max_priority_fee_per_gas),
  signedMs: Number(r.signed_ms),
});

const DAY_MS = 86_400_000;
const reference = (id: number) => `withdrawal:${id}`;
const json = (postings: ReturnType<typeof lockPostings>) =>
  JSON.stringify(postings.map((p) => ({ ...p, amount: p.amount.toString() })));

/** The final postings of a mined withdrawal: the lock leaves, the amount to the chain, the fee to Cirrus. */
export function withdrawalPostings(userId: number, asset: string, amount: bigint, fee: bigint) {
  return assertBalanced([
    { owner: userAccount(userId), asset, bucket: 'locked', amount: -(amount + fee) },
    { owner: EXTERNAL, asset, bucket: 'available', amount },
    { owner: FEES, asset, bucket: 'available', amount: fee },
  ]);
}

const attemptParams = (id: number, tx: SignedTransaction) => [
  id,
  tx.hash,
  tx.raw,
  tx.maxFeePerGas.toString(),
  tx.maxPriorityFeePerGas.toString(),
  tx.signedMs,
];

export class WithdrawalRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Locks amount + fee and records the withdrawal (pending), or refuses with nothing locked or recorded (a
   * verified 2FA code is spent even when a later check refuses: a code is accepted once).
   */
  async apply(w: WithdrawalRequest): Promise<{ id: number } | WithdrawalRefusal> {
    return inTransaction<{ id: number } | WithdrawalRefusal>(this.pool, async (c) => {
      // The user row serialises one user's requests, so the velocity sum and the balance check hold.
      await c.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [w.userId]);
      if (!(await consumeTotp(c, w.userId, w.totp))) return { refused: 'totp' };
      const address = await checkWithdrawAddress(c, w);
      if (address.state === 'absent') return { refused: 'address' };
      if (address.state === 'held') return { refused: 'held', usableMs: address.usableMs };
      const used = await c.query<{ total: string }>(
        `SELECT coalesce(sum(amount + fee), 0) AS total FROM withdrawals
          WHERE user_id = $1 AND coin = $2 AND status <> 'failed' AND apply_ms > $3`,
        [w.userId, w.coin, w.nowMs - DAY_MS],
      );
      const total = w.amount + w.fee;
      if (BigInt(used.rows[0].total) + total > w.dailyLimit) return { refused: 'velocity' };
      const bal = await c.query<{ available: string }>(
        'SELECT available FROM accounts WHERE owner = $1 AND asset = $2',
        [userAccount(w.userId), w.coin],
      );
      if (BigInt(bal.rows[0]?.available ?? '0') < total) return { refused: 'insufficient' };
      // The exchange-wide limit: a per-coin lock held to the commit serialises every user's request for the coin
      // from here on, so two users cannot both pass on the same remaining room. Taken after the user row (every
      // request locks in that order: no deadlock) and as late as possible (it is shared).
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended('cirrus:withdraw:' || $1, 0))", [w.coin]);
      const global = await c.query<{ total: string }>(
        `SELECT coalesce(sum(amount), 0) AS total FROM withdrawals
          WHERE coin = $1 AND status <> 'failed' AND apply_ms > $2`,
        [w.coin, w.nowMs - DAY_MS],
      );
      if (BigInt(global.rows[0].total) + w.amount > w.globalDailyLimit) return { refused: 'global-velocity' };
      const ins = await c.query<{ id: string }>(
        `INSERT INTO withdrawals (user_id, coin, network, address, amount, fee, chain_amount, status, apply_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) RETURNING id`,
        [
          w.userId,
          w.coin,
          w.network,
          w.address,
          w.amount.toString(),
          w.fee.toString(),
          w.chainAmount.toString(),
          w.nowMs,
        ],
      );
      const id = Number(ins.rows[0].id);
      await c.query('SELECT ledger_post($1, $2, $3)', [
        'withdraw-lock',
        reference(id),
        json(lockPostings(w.userId, w.coin, total)),
      ]);
      return { id };
    });
  }

  /** Withdrawals waiting for their transaction (pending) or for its receipt (broadcast), oldest first. */
  async open(network: string): Promise<WithdrawalRow[]> {
    const r = await this.pool.query<RawWithdrawal>(
      "SELECT * FROM withdrawals WHERE network = $1 AND status IN ('pending', 'broadcast') ORDER BY id",
      [network],
    );
    return r.rows.map(toRow);
  }

  /** The next nonce after the ones this database has used on `network` (0 when none). */
  async nextNonce(network: string): Promise<number> {
    const r = await this.pool.query<{ n: string | null }>(
      'SELECT max(nonce) AS n FROM withdrawals WHERE network = $1',
      [network],
    );
    return r.rows[0].n === null ? 0 : Number(r.rows[0].n) + 1;
  }

  /**
   * Stores the first signed transaction (attempt 0) before it is broadcast; false when another run got there
   * first.
   */
  async markSigned(id: number, tx: SignedTransaction & { nonce: number }): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query(
        `UPDATE withdrawals SET status = 'broadcast', nonce = $2, tx_hash = $3, raw_tx = $4
          WHERE id = $1 AND status = 'pending'`,
        [id, tx.nonce, tx.hash, tx.raw],
      );
      if (r.rowCount !== 1) return false;
      await c.query(
        `INSERT INTO withdrawal_attempts
           (withdrawal_id, attempt, tx_hash, raw_tx, max_fee_per_gas, max_priority_fee_per_gas, signed_ms)
         VALUES ($1, 0, $2, $3, $4, $5, $6)`,
        attemptParams(id, tx),
      );
      return true;
    });
  }

  /**
   * Stores a replacement (same nonce, higher fees) of the withdrawal's latest transaction `previousHash` before
   * it is broadcast: the next attempt, and the withdrawal's current transaction. False when the withdrawal is
   * no longer broadcast or its latest transaction is another (the row lock orders two writers; the second sees
   * the first's hash).
   */
  async replace(id: number, previousHash: string, tx: SignedTransaction): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query(
        `UPDATE withdrawals SET tx_hash = $3, raw_tx = $4
          WHERE id = $1 AND status = 'broadcast' AND tx_hash = $2`,
        [id, previousHash, tx.hash, tx.raw],
      );
      if (r.rowCount !== 1) return false;
      await c.query(
        `INSERT INTO withdrawal_attempts
           (withdrawal_id, attempt, tx_hash, raw_tx, max_fee_per_gas, max_priority_fee_per_gas, signed_ms)
         SELECT $1, coalesce(max(attempt), -1) + 1, $2, $3, $4, $5, $6
           FROM withdrawal_attempts WHERE withdrawal_id = $1`,
        attemptParams(id, tx),
      );
      return true;
    });
  }

  /** The attempts of the given withdrawals, each list in the order they were signed. */
  async attempts(ids: number[]): Promise<Map<number, WithdrawalAttempt[]>> {
    const out = new Map<number, WithdrawalAttempt[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const r = await this.pool.query<RawAttempt>(
      `SELECT * FROM withdrawal_attempts WHERE withdrawal_id = ANY($1::bigint[]) ORDER BY withdrawal_id, attempt`,
      [ids],
    );
    for (const a of r.rows.map(toAttempt)) out.get(a.withdrawalId)!.push(a);
    return out;
  }

  /** `minedTxHash` (one of its attempts) mined: debits the lock to the chain and the fee account, once. */
  async confirm(id: number, minedTxHash: string, nowMs: number): Promise<boolean> {
    return this.finish(id, minedTxHash, 'confirmed', nowMs, (w) => ({
      kind: 'withdraw',
      postings: withdrawalPostings(w.userId, w.coin, w.amount, w.fee),
    }));
  }

  /** `minedTxHash` (one of its attempts) reverted on chain: the lock goes back to the user, once. */
  async fail(id: number, minedTxHash: string, nowMs: number): Promise<boolean> {
    return this.finish(id, minedTxHash, 'failed', nowMs, (w) => ({
      kind: 'withdraw-release',
      postings: unlockPostings(w.userId, w.coin, w.amount + w.fee),
    }));
  }

  private async finish(
    id: number,
    minedTxHash: string,
    status: 'confirmed' | 'failed',
    nowMs: number,
    post: (w: WithdrawalRow) => { kind: string; postings: ReturnType<typeof lockPostings> },
  ): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      // The withdrawal's transaction becomes the one that mined (what the history shows as txId); a hash that
      // is none of its attempts finalises nothing.
      const r = await c.query<RawWithdrawal>(
        `UPDATE withdrawals w SET status = $2, complete_ms = $3, tx_hash = a.tx_hash, raw_tx = a.raw_tx
           FROM withdrawal_attempts a
          WHERE w.id = $1 AND w.status = 'broadcast' AND a.withdrawal_id = w.id AND a.tx_hash = $4
          RETURNING w.*`,
        [id, status, nowMs, minedTxHash],
      );
      if (!r.rows[0]) return false;
      const { kind, postings } = post(toRow(r.rows[0]));
      await c.query('SELECT ledger_post($1, $2, $3)', [kind, reference(id), json(postings)]);
      return true;
    });
  }

  /** The user's withdrawals, newest first (Binance's withdraw history). */
  async list(
    userId: number,
    q: {
      coin?: string;
      statuses?: WithdrawalStatus[];
      startTime?: number;
      endTime?: number;
      offset: number;
      limit: number;
    },
  ): Promise<WithdrawalRow[]> {
    const r = await this.pool.query<RawWithdrawal>(
      `SELECT * FROM withdrawals
        WHERE user_id = $1
          AND ($2::text IS NULL OR coin = $2)
          AND ($3::text[] IS NULL OR status = ANY($3))
          AND ($4::bigint IS NULL OR apply_ms >= $4)
          AND ($5::bigint IS NULL OR apply_ms <= $5)
        ORDER BY apply_ms DESC, id DESC
        OFFSET $6 LIMIT $7`,
      [userId, q.coin ?? null, q.statuses ?? null, q.startTime ?? null, q.endTime ?? null, q.offset, q.limit],
    );
    return r.rows.map(toRow);
  }

  /** These withdrawals (any user's: the search indexer checks each owner against its event). */
  async getMany(ids: number[]): Promise<WithdrawalRow[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query<RawWithdrawal>('SELECT * FROM withdrawals WHERE id = ANY($1::bigint[])', [
      ids,
    ]);
    return r.rows.map(toRow);
  }
}
