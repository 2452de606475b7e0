// The chain listener dies mid-scan and a new one takes over (docs/wallets.md): after recording a block's
// deposits but before moving the checkpoint, and after moving it but before crediting. Each new listener
// resumes from the checkpoint; every deposit is credited exactly once. The exchange's own listener is held
// off (an hour's interval) so these scanners, over the real node, DynamoDB Local and PostgreSQL, are the
// only ones running.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { EthersChain } from '@lambdas/chain-listener/chain-reader';
import { CheckpointStore } from '@lambdas/chain-listener/checkpoint-store';
import { DepositScanner } from '@lambdas/chain-listener/scanner';
import { dynamoClient } from '@lambdas/shared/clients';
import { DepositRepository } from '@lambdas/shared/ledger/deposits';
import { assetScale, formatUnits, parseUnits } from '@lambdas/shared/money';
import { chainCoins, ETH_NETWORK } from '@lambdas/wallet/chain-assets';
import { TABLES } from '@contracts/resources';
import { chainSend } from '@local/chain-send';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

jest.setTimeout(180_000);

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let pool: Pool;
const chains: EthersChain[] = [];

/** A fresh listener (a new Lambda container): its own connections, optionally dying at one step. */
function listener(opts: { maxBlocksPerRun?: number; dieOnSave?: number; dieOnCredit?: boolean } = {}) {
  const chain = new EthersChain(ex.chain.rpcUrl);
  chains.push(chain);
  const checkpoints = new CheckpointStore(dynamoClient(), process.env[TABLES.checkpoints.envVar]!);
  const deposits = new DepositRepository(pool);
  let saves = 0;
  const crash = () => new Error('listener killed');
  return new DepositScanner(
    {
      network: ETH_NETWORK,
      confirmations: 1,
      coins: chainCoins(JSON.stringify({ USDT: ex.chain.usdt })),
      ledgerScale: assetScale,
      maxBlocksPerRun: opts.maxBlocksPerRun ?? 100,
      keepHashes: 128,
    },
    chain,
    {
      load: (n) => checkpoints.load(n),
      save: async (...args) => {
        if (++saves === opts.dieOnSave) throw crash();
        return checkpoints.save(...args);
      },
    },
    {
      owners: (n, a) => deposits.owners(n, a),
      record: (d, o, at) => deposits.record(d, o, at),
      dropPendingFrom: (n, b) => deposits.dropPendingFrom(n, b),
      updateConfirmations: (n, h) => deposits.updateConfirmations(n, h),
      creditConfirmed: async (n, b, now) => {
        if (opts.dieOnCredit) throw crash();
        return deposits.creditConfirmed(n, b, now);
      },
    },
  );
}

async function history(): Promise<Array<{ txId: string; status: number; coin: string; amount: string }>> {
  const r = await api.signed<Array<{ txId: string; status: number; coin: string; amount: string }>>(
    'GET',
    '/sapi/v1/capital/deposit/hisrec',
    alice,
  );
  expect(r.status).toBe(200);
  return r.body;
}

const statusOf = async (txHash: string) => (await history()).find((d) => d.txId === txHash)?.status;

async function creditsOf(txHash: string): Promise<number> {
  const r = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'deposit' AND reference LIKE $1",
    [`chain:ETH:${txHash}:%`],
  );
  return Number(r.rows[0].n);
}

async function balance(asset: string): Promise<string> {
  const r = await api.signed<{ balances: Array<{ asset: string; free: string }> }>(
    'GET',
    '/api/v3/account',
    alice,
  );
  return r.body.balances.find((b) => b.asset === asset)?.free ?? '0.00000000';
}

beforeAll(async () => {
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-deposits-restart-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    log: () => undefined,
    chain: { confirmations: 1, listenerEveryMs: 3_600_000 },
  });
  api = new BinanceTestClient(ex.restUrl);
  [alice] = ex.seeded.demoKeys;
  pool = new Pool({ connectionString: pg.url, max: 4 });
});

afterAll(async () => {
  for (const c of chains) c.destroy();
  await pool?.end();
  await ex?.stop();
  await pg?.stop();
});

it('a listener restarted mid-scan resumes from its checkpoint: every deposit credited exactly once', async () => {
  // The first run ever sets the checkpoint at the head.
  const first = await listener().runOnce();
  expect(first).toMatchObject({ advanced: true, recorded: 0 });

  const r = await api.signed<{ address: string }>('GET', '/sapi/v1/capital/deposit/address', alice, {
    coin: 'ETH',
  });
  const eth = await chainSend(ex.chain.rpcUrl, ex.chain.usdt, r.body.address, 'ETH', '0.25');
  const usdt = await chainSend(ex.chain.rpcUrl, ex.chain.usdt, r.body.address, 'USDT', '7');
  expect(usdt.block).toBe(eth.block + 1);
  const [ethBefore, usdtBefore] = [await balance('ETH'), await balance('USDT')];

  // Listener A, one block per run: credits the ETH block, records the USDT block, dies before its checkpoint.
  const a = listener({ maxBlocksPerRun: 1, dieOnSave: 2 });
  const runA = await a.runOnce();
  expect(runA).toMatchObject({ scanned: { from: eth.block, to: eth.block }, recorded: 1 });
  expect(runA.credited.map((d) => d.txHash)).toEqual([eth.hash]);
  await expect(a.runOnce()).rejects.toThrow('listener killed');
  expect(await statusOf(usdt.hash)).toBe(0);

  // Listener B rescans the USDT block from the checkpoint (nothing new to record), dies before crediting.
  const b = listener({ dieOnCredit: true });
  await expect(b.runOnce()).rejects.toThrow('listener killed');
  expect(await statusOf(usdt.hash)).toBe(0);
  expect(await creditsOf(usdt.hash)).toBe(0);

  // Listener C finds nothing to scan and credits what is due; further runs change nothing.
  const c = listener();
  const runC = await c.runOnce();
  expect(runC.scanned).toBeUndefined();
  expect(runC.credited.map((d) => d.txHash)).toEqual([usdt.hash]);
  for (let i = 0; i < 3; i++) expect((await listener().runOnce()).credited).toEqual([]);

  expect(await creditsOf(eth.hash)).toBe(1);
  expect(await creditsOf(usdt.hash)).toBe(1);
  expect(await statusOf(eth.hash)).toBe(1);
  expect(await statusOf(usdt.hash)).toBe(1);
  expect(await balance('ETH')).toBe(formatUnits(parseUnits(ethBefore, 8) + parseUnits('0.25', 8), 8));
  expect(await balance('USDT')).toBe(formatUnits(parseUnits(usdtBefore, 8) + parseUnits('7', 8), 8));
  await checkConservation(pg.url);
});
