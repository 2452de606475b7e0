// The withdrawal address allowlist (migration 10, docs/wallets.md#address-allowlist): a withdrawal may go only
// to an address the user added for that coin and network, once its hold has passed. Adding consumes the 2FA
// code in the same transaction; removing marks the row (the history of what was allowed stays).
import type { Pool } from 'pg';
import { consumeTotp, type TotpProof } from './totp';
import { inTransaction } from './transaction';

/** Active addresses a user may keep (bounds the table per user). */
export const MAX_WITHDRAW_ADDRESSES = 100;

export interface WithdrawAddressRow {
  id: number;
  userId: number;
  coin: string;
  network: string;
  /** Lower-case; the API answers it in EIP-55 form. */
  address: string;
  label: string;
  addedMs: number;
  usableMs: number;
}

export interface NewWithdrawAddress {
  userId: number;
  coin: string;
  network: string;
  address: string;
  label: string;
  nowMs: number;
  holdMs: number;
  /** The verified 2FA code when 2FA is on. */
  totp?: TotpProof;
}

export type AddRefusal = 'totp' | 'duplicate' | 'too-many';

/** Whether a withdrawal to an address may go now: not on the list, still on hold until `usableMs`, or usable. */
export type AddressCheck = { state: 'absent' } | { state: 'held'; usableMs: number } | { state: 'usable' };

interface Raw {
  id: string;
  user_id: string;
  coin: string;
  network: string;
  address: string;
  label: string;
  added_ms: string;
  usable_ms: string;
}

const toRow = (r: Raw): WithdrawAddressRow => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  coin: r.coin,
  network: r.network,
  address: r.address,
  label: r.label,
  addedMs: Number(r.added_ms),
  usableMs: Number(r.usable_ms),
});

type Queryable = Pick<Pool, 'query'>;

/** Inside the caller's transaction (the withdrawal's): the address's state for this user, coin and network. */
export async function checkWithdrawAddress(
  c: Queryable,
  q: { userId: number; coin: string; network: string; address: string; nowMs: number },
): Promise<AddressCheck> {
  const r = await c.query<{ usable_ms: string }>(
    `SELECT usable_ms FROM withdraw_addresses
      WHERE user_id = $1 AND coin = $2 AND network = $3 AND address = $4 AND removed_ms IS NULL`,
    [q.userId, q.coin, q.network, q.address.toLowerCase()],
  );
  const row = r.rows[0];
  if (!row) return { state: 'absent' };
  const usableMs = Number(row.usable_ms);
  return usableMs > q.nowMs ? { state: 'held', usableMs } : { state: 'usable' };
}

export class WithdrawAddressRepository {
  constructor(private readonly pool: Pool) {}

  /** Adds an address, usable after the hold, or refuses with nothing added (a verified 2FA code is spent either way). */
  async add(a: NewWithdrawAddress): Promise<WithdrawAddressRow | { refused: AddRefusal }> {
    return inTransaction(this.pool, async (c) => {
      // The user row serialises one user's changes to the list (the count and the duplicate check hold).
      await c.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [a.userId]);
      if (!(await consumeTotp(c, a.userId, a.totp))) return { refused: 'totp' as const };
      const n = await c.query<{ n: string }>(
        'SELECT count(*) AS n FROM withdraw_addresses WHERE user_id = $1 AND removed_ms IS NULL',
        [a.userId],
      );
      if (Number(n.rows[0].n) >= MAX_WITHDRAW_ADDRESSES) return { refused: 'too-many' as const };
      const r = await c.query<Raw>(
        `INSERT INTO withdraw_addresses (user_id, coin, network, address, label, added_ms, usable_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, coin, network, address) WHERE removed_ms IS NULL DO NOTHING
         RETURNING *`,
        [a.userId, a.coin, a.network, a.address.toLowerCase(), a.label, a.nowMs, a.nowMs + a.holdMs],
      );
      return r.rows[0] ? toRow(r.rows[0]) : { refused: 'duplicate' as const };
    });
  }

  /** The user's active addresses, oldest first (optionally of one coin). */
  async list(userId: number, coin?: string): Promise<WithdrawAddressRow[]> {
    const r = await this.pool.query<Raw>(
      `SELECT * FROM withdraw_addresses
        WHERE user_id = $1 AND removed_ms IS NULL AND ($2::text IS NULL OR coin = $2)
        ORDER BY id`,
      [userId, coin ?? null],
    );
    return r.rows.map(toRow);
  }

  /** Removes one of the user's own active addresses; false when there is none with that id. */
  async remove(userId: number, id: number, nowMs: number): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE withdraw_addresses SET removed_ms = $3 WHERE id = $1 AND user_id = $2 AND removed_ms IS NULL',
      [id, userId, nowMs],
    );
    return r.rowCount === 1;
  }
}
