// One transaction on one pooled connection: BEGIN, the caller's statements, COMMIT; ROLLBACK if anything
// throws (the error is rethrown). The connection goes back to the pool either way.
import type { Pool, PoolClient } from 'pg';

export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined); // a broken connection must not hide the first error
    throw err;
  } finally {
    c.release();
  }
}
