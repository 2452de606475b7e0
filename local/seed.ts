// Local start-up data: ledger migrations, and in dev mode two funded demo users whose API keys are
// written to .cirrus/demo-keys.json. Markets come from lib/markets.ts (books start empty).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { Pool } from 'pg';
import { ApiKeyStore } from '../lambdas/shared/auth/api-keys';
import { migrate } from '../lambdas/shared/ledger/migrations';
import { LedgerRepository } from '../lambdas/shared/ledger/repository';
import { parseUnits, assetScale } from '../lambdas/shared/money';
import { MARKETS } from '../lib/markets';

export interface DemoKey {
  name: string;
  apiKey: string;
  secretKey: string;
}

export interface SeedResult {
  migrations: number;
  markets: string[];
  demoKeys: DemoKey[];
}

const DEMO_FUNDS: Record<string, string> = { BTC: '10', ETH: '100', USDT: '1000000' };

export async function seed(opts: { demoUsers: boolean; dataDir: string }): Promise<SeedResult> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  const kms = new KMSClient({});
  try {
    const migrations = await migrate(pool);
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
    return { migrations, markets: MARKETS.map((m) => m.symbol), demoKeys };
  } finally {
    kms.destroy();
    await pool.end();
  }
}
