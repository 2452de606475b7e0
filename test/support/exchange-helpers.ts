// Helpers for tests that drive a running local exchange.
import { Pool } from 'pg';
import { ASSETS } from '@contracts/markets';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { parseUnits } from '@lambdas/shared/money';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from './binance-client';
import { startPostgres, type TestPostgres } from './postgres';

/** One asset's free and locked balance from GET /api/v3/account (zeros when the account has none). */
export async function accountBalance(
  api: BinanceTestClient,
  key: ApiKey,
  asset: string,
): Promise<{ free: string; locked: string }> {
  const res = await api.signed<{ balances: Array<{ asset: string; free: string; locked: string }> }>(
    'GET',
    '/api/v3/account',
    key,
  );
  const b = res.body.balances.find((x) => x.asset === asset);
  return { free: b?.free ?? '0.00000000', locked: b?.locked ?? '0.00000000' };
}

/** A GTC LIMIT order on BTCUSDT answered with RESULT; it must be accepted (200). `extra` adds parameters. */
export async function placeLimit<T = Record<string, unknown>>(
  api: BinanceTestClient,
  key: ApiKey,
  side: 'BUY' | 'SELL',
  quantity: string,
  price: string,
  extra: Record<string, string | undefined> = {},
): Promise<T> {
  const res = await api.signed<T>('POST', '/api/v3/order', key, {
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity,
    price,
    newOrderRespType: 'RESULT',
    ...extra,
  });
  expect(res.status).toBe(200);
  return res.body;
}

/** Retries `check` until it stops throwing (asynchronous settlement), or rethrows its last error. */
export async function eventually(
  check: () => Promise<void>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

async function withLedger<T>(databaseUrl: string, fn: (ledger: LedgerRepository) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    return await fn(new LedgerRepository(pool));
  } finally {
    await pool.end();
  }
}

/** Waits until none of `orderIds` is open any more (NEW or PARTIALLY_FILLED in its PostgreSQL row). */
export async function everyOrderFinal(pool: Pool, orderIds: number[], timeoutMs: number): Promise<void> {
  await eventually(async () => {
    const r = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM orders
        WHERE order_id = ANY($1::bigint[]) AND status IN ('NEW', 'PARTIALLY_FILLED')`,
      [orderIds],
    );
    expect(Number(r.rows[0].n)).toBe(0);
  }, timeoutMs);
}

/** Invariants 1–2 (docs/architecture.md#invariants) on the real ledger: fails the test with the ledger's own report. */
export async function checkConservation(databaseUrl: string): Promise<void> {
  const report = await withLedger(databaseUrl, (ledger) => ledger.checkConservation());
  if (!report.ok)
    throw new Error(
      `ledger invariants broken: ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
}

/** Registers a user through the API and credits deposits straight into the ledger. */
export async function registerFundedUser(
  api: BinanceTestClient,
  databaseUrl: string,
  name: string,
  funds: Record<string, string>,
): Promise<ApiKey & { userId: number }> {
  const res = await api.public<{ userId: number; apiKey: string; secretKey: string }>(
    'POST',
    '/cirrus/v1/users',
    {},
    {
      email: `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`,
    },
  );
  if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  await withLedger(databaseUrl, async (ledger) => {
    for (const [asset, amount] of Object.entries(funds)) {
      const scale = ASSETS.find((a) => a.symbol === asset)?.ledgerScale ?? 8;
      await ledger.creditDeposit(
        res.body.userId,
        asset,
        parseUnits(amount, scale),
        `test:${name}:${asset}:${res.body.userId}`,
      );
    }
  });
  return res.body;
}

export interface TestExchange {
  pg: TestPostgres;
  ex: LocalExchange;
  api: BinanceTestClient;
  alice: ApiKey;
  bob: ApiKey;
  dlqUrl: string;
  stop(): Promise<void>;
}

/** The local exchange in memory over a real PostgreSQL, with the two funded demo users. */
export async function startTestExchange(snapshotEveryCommands: number): Promise<TestExchange> {
  const pg = await startPostgres();
  const ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-test-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    snapshotEveryCommands,
    log: () => undefined,
  });
  const [alice, bob] = ex.seeded.demoKeys;
  return {
    pg,
    ex,
    api: new BinanceTestClient(ex.restUrl),
    alice,
    bob,
    dlqUrl: ex.dlqUrl,
    async stop() {
      await ex.stop();
      await pg.stop();
    },
  };
}
