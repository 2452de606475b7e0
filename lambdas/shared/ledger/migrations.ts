// Ledger schema (PostgreSQL; also runs on embedded pglite). Applied in order, once each, recorded in
// schema_migrations. Amounts are NUMERIC(38,0) minor units; code reads them as bigint.
import type { Pool } from 'pg';

export const MIGRATIONS: string[] = [
  `CREATE TABLE users (
     id bigserial PRIMARY KEY,
     email text NOT NULL UNIQUE,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE api_keys (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id),
     api_key text NOT NULL UNIQUE,
     secret_ciphertext text NOT NULL,
     permissions text NOT NULL,
     label text NOT NULL DEFAULT '',
     created_at timestamptz NOT NULL DEFAULT now(),
     revoked_at timestamptz
   );
   -- owner: 'user:<id>' or a system account ('system:fee', 'system:external' = the outside world).
   CREATE TABLE accounts (
     id bigserial PRIMARY KEY,
     owner text NOT NULL,
     asset text NOT NULL,
     available numeric(38,0) NOT NULL DEFAULT 0,
     locked numeric(38,0) NOT NULL DEFAULT 0,
     UNIQUE (owner, asset),
     CHECK (locked >= 0),
     CHECK (available >= 0 OR owner = 'system:external')
   );
   CREATE TABLE ledger_transactions (
     id bigserial PRIMARY KEY,
     kind text NOT NULL,
     reference text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     UNIQUE (kind, reference)
   );
   CREATE TABLE ledger_entries (
     id bigserial PRIMARY KEY,
     tx_id bigint NOT NULL REFERENCES ledger_transactions(id),
     account_id bigint NOT NULL REFERENCES accounts(id),
     asset text NOT NULL,
     bucket text NOT NULL CHECK (bucket IN ('available', 'locked')),
     amount numeric(38,0) NOT NULL
   );
   CREATE INDEX ledger_entries_tx ON ledger_entries (tx_id);
   CREATE TABLE order_locks (
     order_id bigint PRIMARY KEY,
     user_id bigint NOT NULL,
     asset text NOT NULL,
     locked_total numeric(38,0) NOT NULL,
     remaining numeric(38,0) NOT NULL CHECK (remaining >= 0),
     status text NOT NULL DEFAULT 'open',
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     closed_at timestamptz
   );
   CREATE TABLE settled_trades (
     market text NOT NULL,
     trade_id bigint NOT NULL,
     maker_order_id bigint NOT NULL,
     taker_order_id bigint NOT NULL,
     settled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (market, trade_id)
   );
   CREATE TABLE audit_log (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL DEFAULT now(),
     actor text NOT NULL,
     action text NOT NULL,
     detail text NOT NULL DEFAULT ''
   );`,
  // 2: open orders per user and market counted in the lock transaction (exact MAX_NUM_ORDERS).
  `ALTER TABLE order_locks ADD COLUMN market text NOT NULL DEFAULT '';
   CREATE INDEX order_locks_open_by_user_market ON order_locks (user_id, market) WHERE status = 'open';`,
];

export async function migrate(pool: Pool): Promise<number> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const done = new Set(
    (await pool.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
      (r) => r.version,
    ),
  );
  let applied = 0;
  for (let i = 0; i < MIGRATIONS.length; i++) {
    const version = i + 1;
    if (done.has(version)) continue;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(MIGRATIONS[i]);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      await client.query('COMMIT');
      applied++;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }
  return applied;
}
