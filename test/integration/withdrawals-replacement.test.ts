// A stuck withdrawal replaced for real (docs/wallets.md#withdrawals): the local exchange with its hardhat node,
// the KMS stand-in and the withdrawal sender on its interval, over a real PostgreSQL. With automine off, the
// next block's base fee is raised above the transaction's maxFeePerGas, so it is not mined; after
// WITHDRAW_REPLACE_AFTER_SECONDS the wallet re-signs it with the same nonce and higher fees, the replacement
// mines, and the withdrawal is paid once, debited once, and shows the mined hash as its txId.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Transaction, Wallet, parseEther, toQuantity } from 'ethers';
import { Pool } from 'pg';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { apiContext } from '@lambdas/api/context';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually, registerFundedUser } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

jest.setTimeout(180_000);

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let provider: JsonRpcProvider;
let pool: Pool;
const lines: string[] = [];

interface Withdrawal {
  id: string;
  status: number;
  txId: string;
  transactionFee: string;
}

async function withdrawKey(name: string, funds: Record<string, string>) {
  const u = await registerFundedUser(api, pg.url, name, funds);
  const withdraw = await apiContext().keys.create(u.userId, ['read', 'trade', 'withdraw'], 'replace-test', [
    '127.0.0.1',
  ]);
  return { userId: u.userId, plain: u as ApiKey, withdraw };
}

async function history(key: ApiKey): Promise<Withdrawal[]> {
  const r = await api.signed<Withdrawal[]>('GET', '/sapi/v1/capital/withdraw/history', key);
  expect(r.status).toBe(200);
  return r.body;
}

/** The withdrawal's stored attempts, in signing order. */
async function attempts(id: string) {
  const r = await pool.query<{ tx_hash: string; raw_tx: string; max_fee_per_gas: string }>(
    'SELECT tx_hash, raw_tx, max_fee_per_gas FROM withdrawal_attempts WHERE withdrawal_id = $1 ORDER BY attempt',
    [id],
  );
  return r.rows.map((a) => ({
    hash: a.tx_hash,
    tx: Transaction.from(a.raw_tx),
    maxFee: BigInt(a.max_fee_per_gas),
  }));
}

/** The ledger transactions of a withdrawal's finalisation (withdraw or withdraw-release), with their entries. */
async function finalisations(id: string) {
  const r = await pool.query<{ kind: string; owner: string; bucket: string; amount: string }>(
    `SELECT t.kind, a.owner, e.bucket, e.amount::text AS amount FROM ledger_transactions t
       JOIN ledger_entries e ON e.tx_id = t.id JOIN accounts a ON a.id = e.account_id
      WHERE t.kind IN ('withdraw', 'withdraw-release') AND t.reference = $1`,
    [`withdrawal:${id}`],
  );
  return r.rows
    .map((e) => `${e.kind} ${e.owner.startsWith('user:') ? 'user' : e.owner}/${e.bucket} ${e.amount}`)
    .sort();
}

const rpc = (method: string, params: unknown[] = []) => provider.send(method, params);

beforeAll(async () => {
  process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '0';
  process.env.WITHDRAW_REPLACE_AFTER_SECONDS = '2';
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-withdrawals-replace-')),
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
  delete process.env.WITHDRAW_ADDRESS_HOLD_SECONDS;
  delete process.env.WITHDRAW_REPLACE_AFTER_SECONDS;
});

it('a transaction priced out by a base-fee spike is replaced (same nonce, higher fees) and paid once', async () => {
  const u = await withdrawKey('w-stuck', { ETH: '3' });
  const to = Wallet.createRandom().address;
  const allowed = await api.signed('POST', '/cirrus/v1/withdrawAddresses', u.withdraw, {
    coin: 'ETH',
    network: 'ETH',
    address: to,
  });
  expect(allowed.status).toBe(200);

  await rpc('evm_setAutomine', [false]);
  // Assigned inside the try below (automine is restored whatever happens there).
  let id!: string;
  let original!: Awaited<ReturnType<typeof attempts>>[number];
  try {
    const applied = await api.signed<{ id: string }>('POST', '/sapi/v1/capital/withdraw/apply', u.withdraw, {
      coin: 'ETH',
      network: 'ETH',
      address: to,
      amount: '1',
    });
    expect(applied.status).toBe(200);
    id = applied.body.id;
    // Signed, stored and in the node's pool, not mined (no block is made with automine off).
    await eventually(async () => {
      [original] = await attempts(id);
      expect(original).toBeDefined();
      expect(await provider.getTransaction(original.hash)).not.toBeNull();
    });

    // The fee spike: the next block's base fee is 4× what the transaction offers at most.
    await rpc('hardhat_setNextBlockBaseFeePerGas', [toQuantity(original.tx.maxFeePerGas! * 4n)]);
    await rpc('evm_mine');
    const spiked = await provider.getBlock('latest');
    expect(spiked!.baseFeePerGas! > original.tx.maxFeePerGas!).toBe(true);
    expect(spiked!.transactions).not.toContain(original.hash);
    expect(await provider.getTransactionReceipt(original.hash)).toBeNull();
    expect(await provider.getBalance(to)).toBe(0n);
    expect((await history(u.plain))[0]).toMatchObject({ id, status: 4 }); // processing

    // After WITHDRAW_REPLACE_AFTER_SECONDS (2 s) without a receipt the wallet re-signs it, at least once with
    // the fees the spiked block asks for (the node's fee data: twice its base fee plus the tip).
    await eventually(async () => {
      const all = await attempts(id);
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all[all.length - 1].maxFee > spiked!.baseFeePerGas!).toBe(true);
    }, 30_000);
    const all = await attempts(id);
    for (const a of all.slice(1)) {
      expect({
        nonce: a.tx.nonce,
        to: a.tx.to,
        value: a.tx.value,
        data: a.tx.data,
        gas: a.tx.gasLimit,
      }).toEqual({
        nonce: original.tx.nonce,
        to: original.tx.to,
        value: parseEther('1'),
        data: '0x',
        gas: 21_000n,
      });
      expect(a.tx.from).toBe(ex.chain.hotWallet);
    }
    for (let i = 1; i < all.length; i++)
      expect(all[i].tx.maxFeePerGas! * 100n >= all[i - 1].tx.maxFeePerGas! * 110n).toBe(true);
    await rpc('evm_mine');
  } finally {
    await rpc('evm_setAutomine', [true]);
  }

  // Mined: confirmed once, with the mined transaction's hash as txId.
  await eventually(async () => expect((await history(u.plain))[0]).toMatchObject({ id, status: 6 }));
  await new Promise((r) => setTimeout(r, 1_000)); // several more runs: nothing more happens
  const [w] = await history(u.plain);
  const receipt = await provider.getTransactionReceipt(w.txId);
  expect(receipt?.status).toBe(1);
  expect(w.txId).not.toBe(original.hash);
  const stored = await attempts(id);
  expect(stored.map((a) => a.hash)).toContain(w.txId);
  const mined = await Promise.all(stored.map((a) => provider.getTransactionReceipt(a.hash)));
  expect(mined.filter((r) => r !== null)).toHaveLength(1);
  expect(lines.some((l) => l.includes(`withdrawal ${id} stuck: replaced by tx`))).toBe(true);

  // Paid once on chain; one debit in the ledger, with the fee; the ledger's invariants hold.
  expect(await provider.getBalance(to)).toBe(parseEther('1'));
  expect(await finalisations(id)).toEqual([
    'withdraw system:external/available 100000000',
    'withdraw system:fee/available 50000',
    'withdraw user/locked -100050000',
  ]);
  await checkConservation(pg.url);

  // The nonce sequence goes on: the next withdrawal takes the nonce after the replaced one, and mines.
  const next = await api.signed<{ id: string }>('POST', '/sapi/v1/capital/withdraw/apply', u.withdraw, {
    coin: 'ETH',
    network: 'ETH',
    address: to,
    amount: '0.5',
  });
  expect(next.status).toBe(200);
  await eventually(async () =>
    expect((await history(u.plain))[0]).toMatchObject({ id: next.body.id, status: 6 }),
  );
  const [after] = await attempts(next.body.id);
  expect(after.tx.nonce).toBe(original.tx.nonce + 1);
  expect(await provider.getBalance(to)).toBe(parseEther('1.5'));
  await checkConservation(pg.url);
});
