// One pg pool per container. DATABASE_URL points at RDS Proxy in AWS and at pglite or a local server locally.
import { Pool } from 'pg';
import { requiredEnv } from './clients';

let pool: Pool | undefined;

export function dbPool(): Pool {
  pool ??= new Pool({ connectionString: requiredEnv('DATABASE_URL'), max: Number(process.env.DB_POOL_MAX ?? 10), idleTimeoutMillis: 30_000 });
  return pool;
}
