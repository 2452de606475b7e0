// Local start-up data: ledger migrations, the database roles' login users (as db-migrate makes them in AWS),
// and in dev mode two funded demo users whose API keys are written to .cirrus/demo-keys.json. Markets come
// from contracts/markets.ts (books start empty).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { Pool } from 'pg';
import { ensureLogin } from '@lambdas/db-migrate/logins';
import { ApiKeyStore } from '@lambdas/shared/auth/api-keys';
import { DATABASE_ROLES, loginUserOf, migrate, type DatabaseRole } from '@contracts/migrations';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { parseUnits, assetScale } from '@lambdas/shared/money';
import { MARKETS } from '@contracts/markets';

export interface DemoKey {
  name: string;
  apiKey: string;
  secretKey: string;
}

export interface SeedResult {
  migrations: number;
  markets: string[];
  demoKeys: DemoKey[];
  /** Each role's login URL, when the database let this process create the logins and they can connect. */
  databaseUrls?: Record<DatabaseRole, string>;
}

const DEMO_FUNDS: Record<string, string> = { BTC: '10', ETH: '100', USDT: '1000000' };

/** The same server and database as `url`, as `user` with no password (the local server trusts loopback). */
export function databaseUrlAs(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}

/**
 * The login user of every role (lambdas/db-migrate/logins.ts), if the connecting user may create roles; their
 * URLs, if a login then connects without a password. Otherwise (a database of your own with password
 * authentication, or without CREATEROLE) the exchange keeps the one DATABASE_URL.
 */
async function roleLogins(pool: Pool, url: string): Promise<Record<DatabaseRole, string> | undefined> {
  const me = await pool.query<{ ok: boolean }>(
    'SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user',
  );
  if (!me.rows[0]?.ok) return undefined;
  const urls = {} as Record<DatabaseRole, string>;
  for (const role of DATABASE_ROLES) {
    await ensureLogin(pool, { role, username: loginUserOf(role) });
    urls[role] = databaseUrlAs(url, loginUserOf(role));
  }
  const probe = new Pool({ connectionString: urls.cirrus_api, max: 1 });
  try {
    await probe.query('SELECT 1');
    return urls;
  } catch {
    return undefined;
  } finally {
    await probe.end();
  }
}

export async function seed(opts: {
  demoUsers: boolean;
  dataDir: string;
  /** Create the roles' login users and answer their URLs (not on pglite: it has one session for all). */
  databaseRoles?: boolean;
}): Promise<SeedResult> {
  const url = process.env.DATABASE_URL as string;
  const pool = new Pool({ connectionString: url, max: 2 });
  const kms = new KMSClient({});
  try {
    const migrations = await migrate(pool);
    const databaseUrls = opts.databaseRoles ? await roleLogins(pool, url) : undefined;
    const demoKeys: DemoKey[] = [];
    if (opts.demoUsers) {
      const file = join(opts.dataDir, 'demo-keys.json');
      const ledger = new LedgerRepository(pool);
      const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoKey[]) : [];
      for (const name of ['alice', 'bob']) {
        const email = `${name}@demo.cirrus.local`;
        const known = existing.find((k) => k.name === name);
        if (known && (await ledger.findUserByEmail(email)) !== undefined) {
          demoKeys.push(known);
          continue;
        }
        const userId = (await ledger.findUserByEmail(email)) ?? (await ledger.createUser(email));
        for (const [asset, amount] of Object.entries(DEMO_FUNDS)) {
          await ledger.creditDeposit(
            userId,
            asset,
            parseUnits(amount, assetScale(asset)),
            `demo-funding:${name}:${asset}`,
          );
        }
        const key = await new ApiKeyStore(pool, kms, process.env.DATA_KEY_ID as string).create(
          userId,
          ['read', 'trade'],
          'demo',
        );
        demoKeys.push({ name, ...key });
      }
      writeFileSync(file, JSON.stringify(demoKeys, null, 2), { mode: 0o600 });
    }
    return { migrations, markets: MARKETS.map((m) => m.symbol), demoKeys, databaseUrls };
  } finally {
    kms.destroy();
    await pool.end();
  }
}
