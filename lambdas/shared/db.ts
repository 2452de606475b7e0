// One pg pool per container. DATABASE_URL points at RDS Proxy in AWS and at pglite or a local server locally.
// In AWS the URL carries no password: it is read from Secrets Manager (DB_SECRET_ARN) when a connection
// opens, so a rotated password is picked up without a redeploy and never sits in the environment. The URL's
// user is the function family's own login (docs/architecture.md#database-roles), the secret that login's.
//
// The local exchange runs several function families in one process (the API beside the outbox relay, the
// reconciliation, the chain listener and the wallet; the three stream consumers in another): it runs each
// family's work inside withDatabaseUrl(<that family's login URL>, …), and dbPool() then answers that URL's
// pool, so every family uses its own database role locally too. In AWS there is one family per container
// and nothing is scoped.
import { AsyncLocalStorage } from 'node:async_hooks';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Pool } from 'pg';
import { z } from 'zod';
import { requiredEnv, secretsClient } from './clients';
import { parseConfig } from './config';
import { logger } from './powertools';

const SECRET_CACHE_MS = 5 * 60_000;

/** The pool's settings, read when a pool is made (once per container and database URL). */
const poolConfigSchema = z.object({
  DB_SECRET_ARN: z.string().min(1).optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
});

const pools = new Map<string, Pool>();
const scopedUrl = new AsyncLocalStorage<string>();
const cached = new Map<string, { password: string; at: number }>();

async function passwordFromSecret(secretArn: string): Promise<string> {
  const hit = cached.get(secretArn);
  if (hit && Date.now() - hit.at < SECRET_CACHE_MS) return hit.password;
  const out = await secretsClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
  const password = (JSON.parse(out.SecretString ?? '{}') as { password?: string }).password;
  if (!password) throw new Error('database secret has no password field');
  cached.set(secretArn, { password, at: Date.now() });
  return password;
}

/** Runs fn (and everything it schedules) with dbPool() answering the pool of `url`; no url: unchanged. */
export function withDatabaseUrl<T>(url: string | undefined, fn: () => T): T {
  return url ? scopedUrl.run(url, fn) : fn();
}

export function dbPool(): Pool {
  const url = scopedUrl.getStore() ?? requiredEnv('DATABASE_URL');
  let pool = pools.get(url);
  if (!pool) {
    const { DB_SECRET_ARN: secretArn, DB_POOL_MAX: max } = parseConfig('database pool', poolConfigSchema);
    pool = new Pool({
      connectionString: url,
      ...(secretArn ? { password: () => passwordFromSecret(secretArn) } : {}),
      max,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server (failover, restart) must not crash the container.
    pool.on('error', (err) => {
      cached.clear(); // a rotation may be why: read the secret again for the next connection
      logger.warn('idle database connection lost', { err: err.message });
    });
    pools.set(url, pool);
  }
  return pool;
}

/** Ends the container's pools (the local exchange at shutdown, before its database stops). */
export async function closeDbPool(): Promise<void> {
  const open = [...pools.values()];
  pools.clear();
  await Promise.all(open.map((p) => p.end()));
}
