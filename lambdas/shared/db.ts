// One pg pool per container. DATABASE_URL points at RDS Proxy in AWS and at pglite or a local server locally.
import { Pool } from 'pg';
import { requiredEnv } from './clients';
import { logger } from './powertools';

let pool: Pool | undefined;

export function dbPool(): Pool {
  if (!pool) {
    pool = new Pool({
      connectionString: requiredEnv('DATABASE_URL'),
      max: Number(process.env.DB_POOL_MAX ?? 10),
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server (failover, restart) must not crash the container.
    pool.on('error', (err) => logger.warn('idle database connection lost', { err: err.message }));
  }
  return pool;
}
