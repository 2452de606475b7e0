// Withdrawals end to end (docs/wallets.md#withdrawals): the local exchange with its hardhat node, the KMS
// stand-in holding the hot-wallet key and the withdrawal sender on its interval, over a real PostgreSQL.
// A withdrawal locks amount + fee, is signed through KMS, mined, and debits the ledger once; refusals lock
// nothing; a user sees only their own withdrawals. Every destination is allowlisted first (the allowlist is
// always enforced) with no hold here; 2FA, holds and the global limit: withdrawals-protections.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, JsonRpcProvider, Wallet, getAddress } from 'ethers';
import { Worker } from 'node:worker_threads';
import { Pool } from 'pg';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { apiContext } from '@lambdas/api/context';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually, registerFundedUser } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { checkResponse } from '../fixtures/binance-openapi/validate';

jest.setTimeout(180_000);

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let provider: JsonRpcProvider;
let pool: Pool;
const lines: string[] = [];

interface User {
  userId: number;
  /** read + trade only (what registration gives). */
  plain: ApiKey;
  /** read + trade + withdraw. */
  withdraw: ApiKey;
}

interface Withdrawal {
  id: string;
  amount: string;
  transactionFee: string;
  coin: string;
  status: number;
  address: string;
  txId: string;
  applyTime: string;
  network: string;
}

async function user(name: string, funds: Record<string, string>): Promise<User> {
  const u = await registerFundedUser(api, pg.url, name, funds);
  // Registration never grants withdraw (it needs 2FA and an IP allowlist, api-keys.test.ts): created directly.
  const withdraw = await apiContext().keys.create(u.userId, ['read', 'trade', 'withdraw'], 'withdraw-test', [
    '127.0.0.1',
  ]);
  return { userId: u.userId, plain: u, withdraw };
}

/** Puts `address` on the user's allowlist for `coin` (the hold is 0 in this file). */
async function allow(u: User, coin: string, address: string): Promise<void> {
  const r = await api.signed('POST', '/cirrus/v1/withdrawAddresses', u.withdraw, {
    coin,
    network: 'ETH',
    address,
  });
  expect(r.status).toBe(200);
}

const apply = (key: ApiKey, params: Record<string, string>) =>
  api.signed<{ id: string } & { code?: number; msg?: string }>(
    'POST',
    '/sapi/v1/capital/withdraw/apply',
    key,
    { network: 'ETH', ...params },
  );

async function history(key: ApiKey): Promise<Withdrawal[]> {
  const r = await api.signed<Withdrawal[]>('GET', '/sapi/v1/capital/withdraw/history', key);
  expect(r.status).toBe(200);
  return r.body;
}

async function balances(key: ApiKey, asset: string): Promise<{ free: string; locked: string }> {
  const r = await api.signed<{ balances: Array<{ asset: string; free: string; locked: string }> }>(
    'GET',
    '/api/v3/account',
    key,
  );
  const b = r.body.balances.find((x) => x.asset === asset);
  return { free: b?.free ?? '0.00000000', locked: b?.locked ?? '0.00000000' };
}

/** The ledger entries of a withdrawal's final debit, by owner and bucket (ledger units). */
async function debitOf(id: string): Promise<{ count: number; entries: Record<string, string> }> {
  const r = await pool.query<{ owner: string; bucket: string; amount: string; reference: string }>(
    `SELECT a.owner, e.bucket, e.amount::text AS amount, t.reference FROM ledger_transactions t
       JOIN ledger_entries e ON e.tx_id = t.id JOIN accounts a ON a.id = e.account_id
      WHERE t.kind = 'withdraw' AND t.reference = $1`,
    [`withdrawal:${id}`],
  );
  const n = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM ledger_transactions WHERE kind IN ('withdraw', 'withdraw-release') AND reference = $1",
    [`withdrawal:${id}`],
  );
  const entries: Record<string, string> = {};
  for (const e of r.rows) entries[`${e.owner.startsWith('user:') ? 'user' : e.owner}/${e.bucket}`] = e.amount;
  return { count: Number(n.rows[0].n), entries };
}

const withdrawalRows = async (userId: number) =>
  Number(
    (await pool.query<{ n: string }>('SELECT count(*) AS n FROM withdrawals WHERE user_id = $1', [userId]))
      .rows[0].n,
  );

async function inFlightConservation(id: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const status = (
      await client.query<{ status: string }>('SELECT status FROM withdrawals WHERE id = $1', [id])
    ).rows[0].status;
    const report = await new LedgerRepository(client as unknown as Pool).checkConservation();
    await client.query('COMMIT');
    expect(['pending', 'broadcast']).toContain(status);
    expect(report.problems).toEqual([]);
  } finally {
    client.release();
  }
}

const severalRuns = () => new Promise((r) => setTimeout(r, 1_500));

beforeAll(async () => {
  // A velocity limit low enough to hit with a funded user (fees are the defaults: 0.0005 ETH, 1 USDT).
  process.env.WITHDRAW_DAILY_LIMITS = JSON.stringify({ ETH: '3', USDT: '500' });
  process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '0';
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-withdrawals-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    log: (line) => lines.push(line),
    chain: { confirmations: 1, listenerEveryMs: 200 },
  });
  api = new BinanceTestClient(ex.restUrl);
  provider = new JsonRpcProvider(ex.chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  pool = new Pool({ connectionString: pg.url, max: 2 });
});

afterAll(async () => {
  provider?.destroy();
  await pool?.end();
  await ex?.stop();
  await pg?.stop();
  delete process.env.WITHDRAW_DAILY_LIMITS;
  delete process.env.WITHDRAW_ADDRESS_HOLD_SECONDS;
});

describe('refused withdrawals lock nothing', () => {
  let u: User;
  const to = Wallet.createRandom().address;
  beforeAll(async () => {
    u = await user('w-refused', { ETH: '5', USDT: '100' });
    await allow(u, 'ETH', to);
    await allow(u, 'USDT', to);
  });

  it.each([
    ['a key without the withdraw permission', 'plain', { coin: 'ETH', address: to, amount: '1' }, 401, -2015],
    ['a malformed address', 'withdraw', { coin: 'ETH', address: '0x1234', amount: '1' }, 400, -4007],
    [
      'an address with a wrong EIP-55 checksum',
      'withdraw',
      {
        coin: 'ETH',
        address:
          to.slice(0, 2) +
          [...to.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
        amount: '1',
      },
      400,
      -4007,
    ],
    ['an amount above the balance', 'withdraw', { coin: 'USDT', address: to, amount: '150' }, 400, -4026],
    ['an amount above the daily limit', 'withdraw', { coin: 'ETH', address: to, amount: '3.5' }, 400, -4023],
    [
      'an amount not above the network fee',
      'withdraw',
      { coin: 'ETH', address: to, amount: '0.0005' },
      400,
      -4022,
    ],
    ['too many decimals', 'withdraw', { coin: 'ETH', address: to, amount: '0.123456789' }, 400, -1100],
    [
      'USDT with more decimals than the token has',
      'withdraw',
      { coin: 'USDT', address: to, amount: '10.1234567' },
      400,
      -1100,
    ],
    ['BTC (no chain adapter)', 'withdraw', { coin: 'BTC', address: to, amount: '1' }, 400, -4018],
  ] as const)('%s', async (_name, keyKind, params, status, code) => {
    const r = await apply(u[keyKind], { ...params });
    expect(r.status).toBe(status);
    expect(r.body.code).toBe(code);
    expect(typeof r.body.msg).toBe('string');
    expect(await balances(u.plain, 'ETH')).toEqual({ free: '5.00000000', locked: '0.00000000' });
    expect(await balances(u.plain, 'USDT')).toEqual({ free: '100.00000000', locked: '0.00000000' });
    expect(await withdrawalRows(u.userId)).toBe(0);
  });

  it('the daily limit counts earlier withdrawals (fee included)', async () => {
    const first = await apply(u.withdraw, { coin: 'ETH', address: to, amount: '2' });
    expect(first.status).toBe(200);
    // 2.0005 used of 3: 1 more (1.0005 with its fee) is over.
    const second = await apply(u.withdraw, { coin: 'ETH', address: to, amount: '1' });
    expect(second).toMatchObject({ status: 400, body: { code: -4023 } });
    expect(await withdrawalRows(u.userId)).toBe(1);
    await eventually(async () => expect((await history(u.plain))[0].status).toBe(6));
    expect(await balances(u.plain, 'ETH')).toEqual({ free: '2.99950000', locked: '0.00000000' });
  });
});

describe.each([
  { coin: 'ETH', amount: '1.25', fee: '0.00050000', chain: 1_250_000_000_000_000_000n, debit: '125050000' },
  { coin: 'USDT', amount: '100.5', fee: '1.00000000', chain: 100_500_000n, debit: '10150000000' },
])('a $coin withdrawal', ({ coin, amount, fee, chain, debit }) => {
  it('is signed through KMS, mined, pays the recipient and debits the ledger once', async () => {
    const u = await user(`w-${coin}`, { [coin]: '200' });
    const other = await user(`w-other-${coin}`, { [coin]: '1' });
    const to = Wallet.createRandom().address;
    await allow(u, coin, to);
    const onChain = async () =>
      coin === 'ETH'
        ? provider.getBalance(to)
        : ((await new Contract(
            ex.chain.usdt,
            ['function balanceOf(address) view returns (uint256)'],
            provider,
          ).balanceOf(to)) as bigint);
    expect(await onChain()).toBe(0n);

    const r = await apply(u.withdraw, { coin, address: to.toLowerCase(), amount });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.stringMatching(/^\d+$/) });
    const id = r.body.id;

    // While it is in flight its lock counts with the open orders' locks: the ledger's invariants hold in one
    // snapshot, as the reconciliation job reads them (lambdas/reconciliation/reconcile.ts).
    await inFlightConservation(id);

    await eventually(async () => {
      const [w] = await history(u.plain);
      expect(w).toMatchObject({ id, coin, amount: expect.any(String), status: 6, network: 'ETH' });
    });
    const [w] = await history(u.plain);
    expect(w).toMatchObject({
      amount: Number(amount).toFixed(8),
      transactionFee: fee,
      address: getAddress(to),
    });
    expect(w.txId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(w.applyTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // On chain: the recipient holds exactly the amount, sent from the KMS hot wallet.
    expect(await onChain()).toBe(chain);
    const tx = await provider.getTransaction(w.txId);
    expect(tx?.from).toBe(ex.chain.hotWallet);

    // The ledger: one debit of amount + fee from the lock, the amount out, the fee to the fee account.
    await severalRuns();
    const d = await debitOf(id);
    expect(d.count).toBe(1);
    const feeUnits = String(BigInt(debit) - BigInt(Number(amount) * 1e8));
    expect(d.entries).toEqual({
      'user/locked': `-${debit}`,
      'system:external/available': String(BigInt(debit) - BigInt(feeUnits)),
      'system:fee/available': feeUnits,
    });
    const left = (200n * 10n ** 8n - BigInt(debit)).toString();
    expect(await balances(u.plain, coin)).toEqual({
      free: `${left.slice(0, -8)}.${left.slice(-8)}`,
      locked: '0.00000000',
    });
    await checkConservation(pg.url);

    // Another user sees none of it.
    expect(await history(other.plain)).toEqual([]);
    expect(lines.some((l) => l.includes(`withdrawal ${id} confirmed`))).toBe(true);
  });
});

describe('a withdrawal that reverts on chain', () => {
  it('is marked failed (status 5) and its lock goes back to the user, once', async () => {
    const u = await user('w-revert', { ETH: '2' });
    await allow(u, 'ETH', ex.chain.usdt);
    // The test USDT contract takes no ETH: a plain transfer to it is mined and reverts.
    const r = await apply(u.withdraw, { coin: 'ETH', address: ex.chain.usdt, amount: '0.5' });
    expect(r.status).toBe(200);
    await eventually(async () =>
      expect((await history(u.plain))[0]).toMatchObject({ id: r.body.id, status: 5 }),
    );
    const receipt = await provider.getTransactionReceipt((await history(u.plain))[0].txId);
    expect(receipt?.status).toBe(0);
    await severalRuns();
    expect(await balances(u.plain, 'ETH')).toEqual({ free: '2.00000000', locked: '0.00000000' });
    const kinds = await pool.query<{ kind: string }>(
      'SELECT kind FROM ledger_transactions WHERE reference = $1 ORDER BY id',
      [`withdrawal:${r.body.id}`],
    );
    expect(kinds.rows.map((k) => k.kind)).toEqual(['withdraw-lock', 'withdraw-release']);
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

/** An unmodified ccxt binance in a worker, signed with `key`; `call` runs one of its methods. */
function ccxtWorker(key: ApiKey) {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { apiKey: key.apiKey, secret: key.secretKey, base: ex.restUrl.replace(/\/$/, '') },
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
  return { call, stop: () => worker.terminate() };
}

interface CcxtNetwork {
  id: string;
  deposit: boolean;
  withdraw: boolean;
  fee: number;
  precision: number;
  limits: { withdraw: { min: number; max: number }; deposit: { min: number } };
  info: Record<string, unknown>;
}
interface CcxtCurrency {
  id: string;
  deposit?: boolean;
  withdraw?: boolean;
  networks: Record<string, CcxtNetwork>;
}

describe('getall (GET /sapi/v1/capital/config/getall)', () => {
  it('fetchCurrencies: ETH and USDT open on network ETH with the configured fee and limits, BTC closed', async () => {
    const u = await user('w-currencies', { ETH: '1' });
    const ccxt = ccxtWorker(u.plain);
    try {
      const currencies = (await ccxt.call('fetchCurrencies')) as Record<string, CcxtCurrency>;
      // WITHDRAW_DAILY_LIMITS of this file (3 ETH, 500 USDT a day, fees included), the default fees, the
      // listener's 1 confirmation here.
      expect(currencies.ETH).toMatchObject({ deposit: true, withdraw: true });
      expect(Object.keys(currencies.ETH.networks)).toEqual(['ETH']);
      expect(currencies.ETH.networks.ETH).toMatchObject({
        id: 'ETH',
        deposit: true,
        withdraw: true,
        fee: 0.0005,
        precision: 0.00000001,
        limits: { withdraw: { min: 0.00050001, max: 2.9995 }, deposit: { min: 0.00000001 } },
        info: { minConfirm: 1, unLockConfirm: 1, isDefault: true, addressRegex: '^(0x)[0-9A-Fa-f]{40}$' },
      });
      expect(currencies.USDT).toMatchObject({ deposit: true, withdraw: true });
      // ccxt names a token's Ethereum network ERC20 (its unified code for Binance's network ETH).
      expect(Object.keys(currencies.USDT.networks)).toEqual(['ERC20']);
      expect(currencies.USDT.networks.ERC20).toMatchObject({
        id: 'ETH',
        deposit: true,
        withdraw: true,
        fee: 1,
        precision: 0.000001,
        limits: { withdraw: { min: 1.000001, max: 499 } },
        info: { contractAddress: ex.chain.usdt.toLowerCase() },
      });
      expect(currencies.BTC).toMatchObject({ deposit: false, withdraw: false });

      // The advertised minimum is accepted; one step less is not (-4022, 'refused withdrawals' above).
      const to = Wallet.createRandom().address;
      await allow(u, 'ETH', to);
      const min = currencies.ETH.networks.ETH.info.withdrawMin as string;
      const r = await apply(u.withdraw, { coin: 'ETH', address: to, amount: min });
      expect(r.status).toBe(200);
      await eventually(async () => expect((await history(u.plain))[0].status).toBe(6));
      expect(await provider.getBalance(to)).toBe(500_010_000_000_000n);
    } finally {
      await ccxt.stop();
    }
  });

  it('withdrawing: the caller’s withdrawals in flight (amount + fee), per coin; the answer fits Binance’s schema', async () => {
    const u = await user('w-withdrawing', { USDT: '10' });
    const other = await user('w-withdrawing-other', { USDT: '10' });
    const coins = async (key: ApiKey) => {
      const r = await api.signed<Array<{ coin: string; withdrawing: string }>>(
        'GET',
        '/sapi/v1/capital/config/getall',
        key,
      );
      expect(r.status).toBe(200);
      expect(checkResponse('/sapi/v1/capital/config/getall', r.body)).toEqual([]);
      return Object.fromEntries(r.body.map((c) => [c.coin, c.withdrawing]));
    };
    expect(await coins(u.plain)).toEqual({ BTC: '0.00000000', ETH: '0.00000000', USDT: '0.00000000' });
    // With the node's automine off the withdrawal's transaction waits in the mempool: the withdrawal stays in
    // flight (pending, then broadcast) until a block is mined.
    await provider.send('evm_setAutomine', [false]);
    try {
      const to = Wallet.createRandom().address;
      await allow(u, 'USDT', to);
      expect((await apply(u.withdraw, { coin: 'USDT', address: to, amount: '2.5' })).status).toBe(200);
      expect(await coins(u.plain)).toEqual({ BTC: '0.00000000', ETH: '0.00000000', USDT: '3.50000000' });
      await eventually(async () => expect((await history(u.plain))[0].txId).not.toBe(''));
      expect(await coins(u.plain)).toEqual({ BTC: '0.00000000', ETH: '0.00000000', USDT: '3.50000000' });
      expect((await coins(other.plain)).USDT).toBe('0.00000000');
    } finally {
      await provider.send('evm_setAutomine', [true]);
    }
    await provider.send('evm_mine', []);
    await eventually(async () => expect((await history(u.plain))[0].status).toBe(6));
    expect(await coins(u.plain)).toEqual({ BTC: '0.00000000', ETH: '0.00000000', USDT: '0.00000000' });
  });
});

describe('ccxt binance, unmodified', () => {
  it('withdraw and fetchWithdrawals', async () => {
    const u = await user('w-ccxt', { ETH: '2' });
    const { call, stop } = ccxtWorker(u.withdraw);
    try {
      const to = Wallet.createRandom().address;
      await allow(u, 'ETH', to);
      const sent = (await call('withdraw', 'ETH', 0.75, to, undefined, { network: 'ETH' })) as { id: string };
      expect(sent.id).toMatch(/^\d+$/);
      await eventually(async () => expect((await history(u.plain))[0].status).toBe(6));
      const list = (await call('fetchWithdrawals', 'ETH')) as Array<{
        id: string;
        amount: number;
        status: string;
        currency: string;
        type: string;
        address: string;
        fee: { cost: number; currency: string };
      }>;
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        id: sent.id,
        currency: 'ETH',
        status: 'ok',
        type: 'withdrawal',
        amount: 0.75,
      });
      expect(await provider.getBalance(to)).toBe(750_000_000_000_000_000n);
    } finally {
      await stop();
    }
  });
});
