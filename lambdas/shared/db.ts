// One pg pool per container. DATABASE_URL points at RDS Proxy in AWS and at pglite or a local server locally.
// In AWS the URL carries no password: it is read from Secrets Manager (DB_SECRET_ARN) when a connection
// opens, so a rotated password is picked up without a redeploy and never sits in the environment.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Pool } from 'pg';
import { requiredEnv, secretsClient } from './clients';
import { logger } from './powertools';

const SECRET_CACHE_MS = 5 * 60_000;

let pool: Pool | undefined;
let cached: { password: string; at: number } | undefined;

async function passwordFromSecret(secretArn: string): Promise<string> {
  if (cached && Date.now() - cached.at < SECRET_CACHE_MS) return cached.password;
  const out = await secretsClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
  const password = (JSON.parse(out.SecretString ?? '{}') as { password?: string }).password;
  if (!password) throw new Error('database secret has no password field');
  cached = { password, at: Date.now() };
  return password;
}

export function dbPool(): Pool {
  if (!pool) {
    const secretArn = process.env.DB_SECRET_ARN;
    pool = new Pool({
      connectionString: requiredEnv('DATABASE_URL'),
      ...(secretArn ? { password: () => passwordFromSecret(secretArn) } : {}),
      max: Number(process.env.DB_POOL_MAX ?? 10),
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server (failover, restart) must not crash the container.
    pool.on('error', (err) => {
      cached = undefined; // a rotation may be why: read the secret again for the next connection
      logger.warn('idle database connection lost', { err: err.message });
    });
  }
  return pool;
}

/** Ends the container's pool (the local exchange at shutdown, before its database stops). */
export async function closeDbPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.end();
}
