// A user's TOTP second factor in the ledger database (migration 10, docs/wallets.md#second-factor-totp): the
// secret as a KMS ciphertext (lambdas/shared/auth/totp.ts), whether it is on, and the last accepted time step.
// A code is accepted only for a step above the last one, by one conditional UPDATE: of two requests with the
// same code, however concurrent, one wins.
import type { Pool, PoolClient } from 'pg';

export interface TotpRow {
  /** The sealed secret; null once 2FA was disabled. */
  ciphertext: string | null;
  enabled: boolean;
  /** The last accepted time step (-1 when none). */
  lastStep: number;
  /** Wrong codes counted since `failuresSinceMs` (a window of TOTP_FAILURE_WINDOW_MS). */
  failures: number;
  failuresSinceMs: number;
}

/** Wrong codes a user may send per window before codes are refused unchecked until the window ends. */
export const TOTP_MAX_FAILURES = 5;
export const TOTP_FAILURE_WINDOW_MS = 15 * 60_000;

/** Whether wrong codes have locked the user's second factor at `nowMs`. */
export const totpLocked = (row: TotpRow, nowMs: number): boolean =>
  row.failures >= TOTP_MAX_FAILURES && row.failuresSinceMs > nowMs - TOTP_FAILURE_WINDOW_MS;

/** A code checked against the secret it was verified with: the request may consume `step`. */
export interface TotpProof {
  step: number;
  ciphertext: string;
}

type Queryable = Pick<Pool, 'query'> | PoolClient;

/**
 * Inside the caller's transaction: consumes `proof` when 2FA is on (false when its step is not above the last
 * accepted one, or the secret changed meanwhile); without a proof, true only while 2FA is off.
 */
export async function consumeTotp(
  c: Queryable,
  userId: number,
  proof: TotpProof | undefined,
): Promise<boolean> {
  if (!proof) {
    const on = await c.query('SELECT 1 FROM user_totp WHERE user_id = $1 AND enabled_ms IS NOT NULL', [
      userId,
    ]);
    return on.rowCount === 0;
  }
  const r = await c.query(
    `UPDATE user_totp SET last_step = $2
      WHERE user_id = $1 AND enabled_ms IS NOT NULL AND secret_ciphertext = $3 AND last_step < $2`,
    [userId, proof.step, proof.ciphertext],
  );
  return r.rowCount === 1;
}

export class TotpRepository {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  async get(userId: number): Promise<TotpRow | undefined> {
    const r = await this.pool.query<{
      secret_ciphertext: string | null;
      enabled_ms: string | null;
      last_step: string;
      failures: number;
      failures_since_ms: string;
    }>(
      `SELECT secret_ciphertext, enabled_ms, last_step, failures, failures_since_ms
         FROM user_totp WHERE user_id = $1`,
      [userId],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      ciphertext: row.secret_ciphertext,
      enabled: row.enabled_ms !== null,
      lastStep: Number(row.last_step),
      failures: Number(row.failures),
      failuresSinceMs: Number(row.failures_since_ms),
    };
  }

  /** Counts a wrong code: in the current window, or as the first of a new one. */
  async recordFailure(userId: number, nowMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE user_totp
          SET failures = CASE WHEN failures_since_ms > $2 THEN failures + 1 ELSE 1 END,
              failures_since_ms = CASE WHEN failures_since_ms > $2 THEN failures_since_ms ELSE $3 END
        WHERE user_id = $1`,
      [userId, nowMs - TOTP_FAILURE_WINDOW_MS, nowMs],
    );
  }

  /** Stores a new (not yet confirmed) secret, replacing an unconfirmed one; false while 2FA is on. */
  async enrol(userId: number, ciphertext: string, nowMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO user_totp (user_id, secret_ciphertext, enrolled_ms) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = excluded.secret_ciphertext,
                                           enrolled_ms = excluded.enrolled_ms
        WHERE user_totp.enabled_ms IS NULL`,
      [userId, ciphertext, nowMs],
    );
    return r.rowCount === 1;
  }

  /** Turns 2FA on with the first code of the enrolled secret; false if that step was used or the secret changed. */
  async confirm(userId: number, proof: TotpProof, nowMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE user_totp SET enabled_ms = $4, last_step = $2
        WHERE user_id = $1 AND enabled_ms IS NULL AND secret_ciphertext = $3 AND last_step < $2`,
      [userId, proof.step, proof.ciphertext, nowMs],
    );
    return r.rowCount === 1;
  }

  /** Turns 2FA off and forgets the secret (the last step is kept); false if the code's step was used. */
  async disable(userId: number, proof: TotpProof): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE user_totp SET enabled_ms = NULL, secret_ciphertext = NULL, last_step = $2
        WHERE user_id = $1 AND enabled_ms IS NOT NULL AND secret_ciphertext = $3 AND last_step < $2`,
      [userId, proof.step, proof.ciphertext],
    );
    return r.rowCount === 1;
  }
}
