// Deposits end to end (docs/wallets.md): the local exchange with its hardhat node and the chain listener on
// its interval, over a real PostgreSQL. ETH and USDT sent to a user's deposit address are pending until
// 3 confirmations, then credited exactly once (ledger, /api/v3/account, hisrec, conservation); a reorg that
// drops the deposit's block means it is never credited; ccxt reads the address and the history unchanged.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { JsonRpcProvider, getAddress } from 'ethers';
import { Pool } from 'pg';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { chainSend } from '@local/chain-send';
import { formatUnits, parseUnits } from '@lambdas/shared/money';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

jest.setTimeout(180_000);

const CONFIRMATIONS = 3;

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;
let provider: JsonRpcProvider;
let pool: Pool;
/** The exchange's console lines (the listener reports reorgs and credits there). */
const lines: string[] = [];

interface Deposit {
  id: string;
  amount: string;
  coin: string;
  network: string;
  status: number;
  address: string;
  txId: string;
  confirmTimes: string;
  insertTime: number;
}

async function addressOf(key: ApiKey, coin: string): Promise<string> {
  const r = await api.signed<{ address: string; coin: string; tag: string }>(
    'GET',
    '/sapi/v1/capital/deposit/address',
    key,
    { coin, network: 'ETH' },
  );
  expect(r.status).toBe(200);
  return r.body.address;
}

async function history(key: ApiKey, params: Record<string, string> = {}): Promise<Deposit[]> {
  const r = await api.signed<Deposit[]>('GET', '/sapi/v1/capital/deposit/hisrec', key, params);
  expect(r.status).toBe(200);
  return r.body;
}

async function balance(key: ApiKey, asset: string): Promise<string> {
  const r = await api.signed<{ balances: Array<{ asset: string; free: string }> }>(
    'GET',
    '/api/v3/account',
    key,
  );
  return r.body.balances.find((b) => b.asset === asset)?.free ?? '0.00000000';
}

/** Ledger transactions that credited this on-chain deposit (by tx hash): exactly-once is exactly 1. */
async function creditsOf(txHash: string): Promise<number> {
  const r = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'deposit' AND reference LIKE $1",
    [`chain:ETH:${txHash}:%`],
  );
  return Number(r.rows[0].n);
}

const mine = (blocks: number) => provider.send('hardhat_mine', [`0x${blocks.toString(16)}`]);
/** Long enough for several listener runs (every 200 ms). */
const severalRuns = () => new Promise((r) => setTimeout(r, 1_500));

beforeAll(async () => {
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-deposits-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    log: (line) => lines.push(line),
    chain: { confirmations: CONFIRMATIONS, listenerEveryMs: 200 },
  });
  api = new BinanceTestClient(ex.restUrl);
  [alice, bob] = ex.seeded.demoKeys;
  provider = new JsonRpcProvider(ex.chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  pool = new Pool({ connectionString: pg.url, max: 2 });
});

afterAll(async () => {
  provider?.destroy();
  await pool?.end();
  await ex?.stop();
  await pg?.stop();
});

describe('deposit addresses', () => {
  it('one stable EIP-55 address per user, the same for ETH and USDT, different between users', async () => {
    const a = await addressOf(alice, 'ETH');
    expect(a).toBe(getAddress(a));
    expect(await addressOf(alice, 'ETH')).toBe(a);
    expect(await addressOf(alice, 'USDT')).toBe(a);
    expect(await addressOf(bob, 'ETH')).not.toBe(a);
  });

  it('refuses BTC, an unknown network and a missing coin with Binance errors; unsigned is refused', async () => {
    const btc = await api.signed('GET', '/sapi/v1/capital/deposit/address', alice, { coin: 'BTC' });
    expect(btc).toMatchObject({ status: 400, body: { code: -4018 } });
    const bsc = await api.signed('GET', '/sapi/v1/capital/deposit/address', alice, {
      coin: 'ETH',
      network: 'BSC',
    });
    expect(bsc).toMatchObject({ status: 400, body: { code: -4019 } });
    const none = await api.signed('GET', '/sapi/v1/capital/deposit/address', alice, {});
    expect(none).toMatchObject({ status: 400, body: { code: -1102 } });
    const bad = await api.signed('GET', '/sapi/v1/capital/deposit/hisrec', alice, { limit: 5000 });
    expect(bad).toMatchObject({ status: 400, body: { code: -1100 } });
    const unsigned = await api.public('GET', '/sapi/v1/capital/deposit/address', { coin: 'ETH' });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    expect(unsigned.status).toBeLessThan(500);
  });
});

describe.each([
  { coin: 'ETH', amount: '1.5', credited: '1.50000000' },
  { coin: 'USDT', amount: '250.123456', credited: '250.12345600' },
])('a $coin deposit', ({ coin, amount, credited }) => {
  it('is pending until the confirmations, then credited exactly once and visible to its owner only', async () => {
    const to = await addressOf(alice, coin);
    const before = await balance(alice, coin);
    const sent = await chainSend(ex.chain.rpcUrl, ex.chain.usdt, to, coin as 'ETH' | 'USDT', amount);

    let seen: Deposit | undefined;
    await eventually(async () => {
      seen = (await history(alice, { coin })).find((d) => d.txId === sent.hash);
      expect(seen).toMatchObject({ status: 0, confirmTimes: `1/${CONFIRMATIONS}` });
    });
    expect(seen).toMatchObject({ amount: credited, coin, network: 'ETH', address: to });
    expect(await balance(alice, coin)).toBe(before);
    expect(await creditsOf(sent.hash)).toBe(0);

    await mine(CONFIRMATIONS - 1);
    await eventually(async () => {
      const d = (await history(alice, { coin })).find((x) => x.txId === sent.hash);
      expect(d).toMatchObject({ status: 1, confirmTimes: `${CONFIRMATIONS}/${CONFIRMATIONS}` });
    });
    const expected = formatUnits(parseUnits(before, 8) + parseUnits(credited, 8), 8);
    expect(await balance(alice, coin)).toBe(expected);

    // More blocks and listener runs change nothing.
    await mine(5);
    await severalRuns();
    expect(await creditsOf(sent.hash)).toBe(1);
    expect(await balance(alice, coin)).toBe(expected);
    expect((await history(bob)).find((d) => d.txId === sent.hash)).toBeUndefined();
    expect(await history(alice, { txId: sent.hash, status: '1' })).toHaveLength(1);
    await checkConservation(pg.url);
  });
});

describe('a reorg', () => {
  it('drops a pending deposit whose block left the chain: it is never credited', async () => {
    const to = await addressOf(bob, 'ETH');
    const before = await balance(bob, 'ETH');
    const snapshot = (await provider.send('evm_snapshot', [])) as string;
    const sent = await chainSend(ex.chain.rpcUrl, ex.chain.usdt, to, 'ETH', '2');
    await eventually(async () => {
      expect((await history(bob)).find((d) => d.txId === sent.hash)).toMatchObject({ status: 0 });
    });

    // The deposit's block is replaced by a longer chain without it.
    expect(await provider.send('evm_revert', [snapshot])).toBe(true);
    await mine(CONFIRMATIONS + 3);
    await eventually(async () => {
      expect((await history(bob)).find((d) => d.txId === sent.hash)).toBeUndefined();
    });
    // Rolled back to the block before the deposit's (reported once, or again by a run that died midway). The
    // line is printed after the rollback commits, so it may come a moment after the history changed.
    await eventually(async () => {
      expect(lines.filter((l) => l.startsWith('chain'))).toContainEqual(
        expect.stringMatching(new RegExp(`reorg: rolled back to block ${sent.block - 1}, `)),
      );
    });
    await severalRuns();
    expect(await creditsOf(sent.hash)).toBe(0);
    expect(await balance(bob, 'ETH')).toBe(before);
    expect(await provider.getTransactionReceipt(sent.hash)).toBeNull();
    await checkConservation(pg.url);
  });
});

// ccxt's CommonJS build needs Node's own require (see ccxt-compat.test.ts): it runs, unmodified, in a worker.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ccxt = require('ccxt');
const ex = new ccxt.binance({ apiKey: workerData.apiKey, secret: workerData.secret });
ex.urls.api = Object.fromEntries(
  Object.entries(ex.urls.api).map(([k, url]) => [k, url.replace(/^https:\\/\\/[^/]+/, workerData.base)]),
);
parentPort.on('message', async ({ id, op, args }) => {
  try {
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(await ex[op](...args)) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err && err.message) });
  }
});
`;

describe('ccxt binance, unmodified', () => {
  it('fetchDepositAddress and fetchDeposits', async () => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { apiKey: alice.apiKey, secret: alice.secretKey, base: ex.restUrl.replace(/\/$/, '') },
    });
    let next = 0;
    const call = (op: string, ...args: unknown[]) =>
      new Promise<unknown>((resolve, reject) => {
        const id = ++next;
        const onMessage = (m: { id: number; ok: boolean; result?: string; error?: string }) => {
          if (m.id !== id) return;
          worker.off('message', onMessage);
          if (m.ok) resolve(JSON.parse(m.result!));
          else reject(new Error(m.error));
        };
        worker.on('message', onMessage);
        worker.postMessage({ id, op, args });
      });
    try {
      const address = (await call('fetchDepositAddress', 'ETH')) as { address: string; currency: string };
      expect(address).toMatchObject({ currency: 'ETH', address: await addressOf(alice, 'ETH') });
      const deposits = (await call('fetchDeposits', 'USDT')) as Array<{
        txid: string;
        amount: number;
        status: string;
        currency: string;
        type: string;
        info: Deposit;
      }>;
      expect(deposits).toHaveLength(1);
      expect(deposits[0]).toMatchObject({ currency: 'USDT', status: 'ok', type: 'deposit' });
      expect(deposits[0].info.amount).toBe('250.12345600');
      const all = (await call('fetchDeposits')) as Array<{ currency: string }>;
      expect(all.map((d) => d.currency).sort()).toEqual(['ETH', 'USDT']);
    } finally {
      await worker.terminate();
    }
  });
});
