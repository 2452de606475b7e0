// Least privilege in the database (migration 9, docs/architecture.md#database-roles), on a real PostgreSQL:
// each function family's login user runs its own code's repository calls (the API's accept and cancel, the
// data processor's settlement of a trade and an amend, the relay, the wallet, the chain listener, the
// reconciliation), and is refused what its code never does — the API cannot UPDATE settled trades, the data
// processor cannot INSERT users or API keys, and so on.
import { Pool } from 'pg';
import type { EngineEvent } from '@engine/core/types';
import { orderProgressFromEvents } from '@lambdas/data-processor/order-view';
import { ensureLogin } from '@lambdas/db-migrate/logins';
import { ApiKeyStore, apiKeyActive } from '@lambdas/shared/auth/api-keys';
import { DepositRepository } from '@lambdas/shared/ledger/deposits';
import { DATABASE_ROLES, loginUserOf, type DatabaseRole } from '@contracts/migrations';
import { OrderRepository, orderCounts } from '@lambdas/shared/ledger/order-repository';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { TotpRepository } from '@lambdas/shared/ledger/totp';
import { WithdrawAddressRepository } from '@lambdas/shared/ledger/withdraw-addresses';
import { WithdrawalRepository } from '@lambdas/shared/ledger/withdrawals';
import { OutboxRelay, oldestUnappliedSeconds } from '@lambdas/shared/outbox/relay';
import { commandApplied } from '@lambdas/api/orders/answer-waiter';
import { reconcile } from '@lambdas/reconciliation/reconcile';
import { MARKETS } from '@contracts/markets';
import { orderRecord } from '../support/order-record';
import { refused, startRolePools, type RolePools } from '@test/support/role-pools';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const USDT = (n: number) => BigInt(n) * 100_000_000n;
const BTC = (sats: number) => BigInt(sats);

let db: RolePools;
let owner: Pool;
let as: Record<DatabaseRole, Pool>;

beforeAll(async () => {
  db = await startRolePools();
  ({ owner, as } = db);
  // Logins are created idempotently: a second run changes nothing and breaks no login.
  for (const role of DATABASE_ROLES) await ensureLogin(owner, { role, username: loginUserOf(role) });
});

afterAll(async () => {
  await db?.stop();
});

let users = 0;
async function fundedUser(funds: Record<string, bigint>): Promise<number> {
  const ledger = new LedgerRepository(owner);
  const id = await ledger.createUser(`roles-${++users}-${Date.now()}@test`);
  for (const [asset, amount] of Object.entries(funds))
    await ledger.creditDeposit(id, asset, amount, `roles:${id}:${asset}`);
  return id;
}

const fakeKms = {
  send: async (cmd: { input: { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array } }) =>
    cmd.input.Plaintext ? { CiphertextBlob: cmd.input.Plaintext } : { Plaintext: cmd.input.CiphertextBlob },
} as unknown as ConstructorParameters<typeof ApiKeyStore>[1];

async function accept(
  pool: Pool,
  userId: number,
  clientOrderId: string,
  side: 'BUY' | 'SELL',
  signature?: string,
): Promise<number> {
  const res = await new OrderRepository(pool).accept({
    order: (({ orderId: _id, ...row }) => row)(
      orderRecord({
        userId,
        clientOrderId,
        side,
        qtyLots: 1_000, // 0.01 BTC: 300 USDT at 30,000, or 1,000,000 satoshis
        lockAsset: side === 'BUY' ? 'USDT' : 'BTC',
        lockAmount: side === 'BUY' ? USDT(300).toString() : BTC(1_000_000).toString(),
      }),
    ),
    command: { kind: 'place', market: 'BTCUSDT', side, type: 'LIMIT', userId, clientOrderId, ts: 1 },
    groupId: 'BTCUSDT-0',
    maxOpenOrders: 200,
    orderLimits: { per10s: 100, perDay: 200_000 },
    nowMs: Date.now(),
    replay: signature ? { signature, expiresAtMs: Date.now() + 60_000 } : undefined,
  });
  if (res.outcome !== 'accepted') throw new Error(res.outcome);
  return res.order.orderId;
}

let seq = 1_000;
let tradeId = 1;
const settle = (pool: Pool, key: string, events: EngineEvent[], cmdIds: string[] = []) =>
  new LedgerRepository(pool).settleRecords([
    {
      key,
      market: btc,
      events,
      progress: orderProgressFromEvents(events),
      rejectedOrderIds: [],
      cmdIds,
      raw: '{}',
    },
  ]);

describe('the API role (cirrus_api)', () => {
  it('registers users and keys, accepts and cancels orders, reads balances and fills, requests withdrawals', async () => {
    const api = as.cirrus_api;
    const ledger = new LedgerRepository(api);
    const userId = await ledger.createUser(`api-${Date.now()}@test`);
    expect(await ledger.findUserByEmail(`api-${Date.now()}-none@test`)).toBeUndefined();
    const keys = new ApiKeyStore(api, fakeKms, 'key');
    const key = await keys.create(userId, ['read', 'trade'], 'first');
    expect((await keys.resolve(key.apiKey))?.userId).toBe(userId);
    expect(await keys.list(userId)).toHaveLength(1);
    expect(await keys.revoke(userId, key.apiKey)).toBe(true);

    const buyer = await fundedUser({ USDT: USDT(1_000) });
    const orderId = await accept(api, buyer, 'api-1', 'BUY', `sig-${Date.now()}`);
    const orders = new OrderRepository(api);
    expect((await orders.listOpen(buyer)).map((o) => o.orderId)).toEqual([orderId]);
    expect(await orders.getByClientOrderId(buyer, 'BTCUSDT', 'api-1')).toBeDefined();
    expect(await orders.answered([orderId])).toEqual([]);
    expect(await orders.takerFills(orderId)).toEqual([]);
    expect((await orderCounts(api, buyer, Date.now())).per10s).toBe(1);
    expect(await commandApplied(api, `p-${orderId}`)).toBe(false);
    expect(await oldestUnappliedSeconds(api)).toBeGreaterThanOrEqual(0);
    const cancel = await orders.requestCancel(
      buyer,
      orderId,
      (o) => ({
        v: 1,
        cmdId: `c-${o.orderId}`,
        command: { kind: 'cancel', market: o.symbol, orderId: o.orderId, userId: o.userId, ts: 2 },
      }),
      'BTCUSDT-0',
      { signature: `sig-c-${Date.now()}`, expiresAtMs: Date.now() + 60_000 },
    );
    expect(cancel).toMatchObject({ order: { orderId } });
    expect((await ledger.getBalances(buyer)).find((b) => b.asset === 'USDT')?.locked).toBe(USDT(300));

    const deposits = new DepositRepository(api);
    const address = await deposits.addressFor(buyer, 'eth', (i) => `0xaddr${i}`);
    expect(address.address).toMatch(/^0xaddr/);
    expect(await deposits.list(buyer, { offset: 0, limit: 10 })).toEqual([]);
    // Withdrawal protections (migration 10): 2FA enrolment, confirmation, a wrong code counted, the
    // allowlist, and a withdrawal that consumes a code, passes the allowlist and both limits.
    const totp = new TotpRepository(api);
    const now = Date.now();
    expect(await totp.enrol(buyer, 'sealed-1', now)).toBe(true);
    expect(await totp.confirm(buyer, { step: 100, ciphertext: 'sealed-1' }, now)).toBe(true);
    await totp.recordFailure(buyer, now);
    expect(await totp.get(buyer)).toMatchObject({ enabled: true, lastStep: 100, failures: 1 });
    const allowlist = new WithdrawAddressRepository(api);
    const to = '0x0000000000000000000000000000000000000001';
    const added = await allowlist.add({
      userId: buyer,
      coin: 'USDT',
      network: 'eth',
      address: to,
      label: 'cold',
      nowMs: now,
      holdMs: 0,
      totp: { step: 101, ciphertext: 'sealed-1' },
    });
    expect(added).toMatchObject({ address: to, label: 'cold' });
    expect(await allowlist.list(buyer)).toHaveLength(1);
    const withdrawals = new WithdrawalRepository(api);
    const w = await withdrawals.apply({
      userId: buyer,
      coin: 'USDT',
      network: 'eth',
      address: to,
      amount: USDT(10),
      fee: USDT(1),
      chainAmount: 10_000_000n,
      dailyLimit: USDT(1_000),
      globalDailyLimit: USDT(1_000_000),
      totp: { step: 102, ciphertext: 'sealed-1' },
      nowMs: now,
    });
    expect(w).toHaveProperty('id');
    expect(await withdrawals.list(buyer, { offset: 0, limit: 10 })).toHaveLength(1);
    expect(await allowlist.remove(buyer, (added as { id: number }).id, now)).toBe(true);
    expect(await totp.disable(buyer, { step: 103, ciphertext: 'sealed-1' })).toBe(true);
  });

  it('cannot change settled trades, order progress, the ledger history, or another family’s tables', async () => {
    const api = as.cirrus_api;
    await refused(api, 'UPDATE settled_trades SET qty_lots = 0');
    await refused(api, 'DELETE FROM settled_trades');
    await refused(
      api,
      "INSERT INTO settled_trades (market, trade_id, maker_order_id, taker_order_id) VALUES ('X', 1, 1, 1)",
    );
    await refused(api, "UPDATE orders SET status = 'FILLED'");
    await refused(api, 'UPDATE order_locks SET remaining = 0');
    await refused(api, 'UPDATE ledger_entries SET amount = 0');
    await refused(api, 'DELETE FROM ledger_transactions');
    await refused(api, "UPDATE deposits SET status = 'credited'");
    await refused(api, "UPDATE withdrawals SET status = 'confirmed'");
    await refused(api, 'DELETE FROM user_totp');
    await refused(api, 'UPDATE user_totp SET user_id = 0');
    await refused(api, 'DELETE FROM withdraw_addresses');
    await refused(api, "UPDATE withdraw_addresses SET address = '0xevil', usable_ms = 0");
    await refused(api, 'DELETE FROM outbox');
    await refused(api, 'SELECT * FROM quarantined_records');
    await refused(api, 'SELECT * FROM audit_log');
    await refused(api, 'CREATE TABLE sneaky (id int)');
    await refused(api, "SELECT settle_batch('[]', '[]', '{}', '{}')");
  });
});

describe('the data processor role (cirrus_processor)', () => {
  it('settles a trade, an amend and a close of accepted orders, marks their commands applied, quarantines', async () => {
    const buyer = await fundedUser({ USDT: USDT(1_000) });
    const seller = await fundedUser({ BTC: BTC(10_000_000) });
    const buy = await accept(owner, buyer, 'p-buy', 'BUY');
    const sell = await accept(owner, seller, 'p-sell', 'SELL');
    const t = tradeId++;
    const events: EngineEvent[] = [
      {
        type: 'amended',
        market: 'BTCUSDT',
        seq: ++seq,
        ts: 2,
        orderId: buy,
        userId: buyer,
        price: 3_000_000,
        quantity: 800,
        keptPriority: true,
        executedQty: 0,
        cumQuote: 0,
        onBook: true,
      },
      {
        type: 'trade',
        market: 'BTCUSDT',
        seq: ++seq,
        ts: 3,
        tradeId: t,
        price: 3_000_000,
        quantity: 500,
        makerOrderId: buy,
        makerUserId: buyer,
        takerOrderId: sell,
        takerUserId: seller,
        takerSide: 'SELL',
        makerExecutedQty: 500,
        takerExecutedQty: 500,
        makerCumQuote: 3_000_000 * 500,
        takerCumQuote: 3_000_000 * 500,
      },
    ];
    const processor = as.cirrus_processor;
    const result = await settle(processor, `rec-${t}`, events, [`p-${buy}`, `p-${sell}`]);
    expect(result.quarantined).toEqual([]);
    const rows = await new OrderRepository(owner).getMany([buy, sell]);
    expect(rows.find((o) => o.orderId === buy)).toMatchObject({ qtyLots: 800, executedLots: 500 });
    expect(await commandApplied(owner, `p-${buy}`)).toBe(true);
    const closed = await settle(processor, `rec-${t}-close`, [
      {
        type: 'closed',
        market: 'BTCUSDT',
        seq: ++seq,
        ts: 4,
        orderId: buy,
        userId: buyer,
        reason: 'CANCELED',
        executedQty: 500,
        cumQuote: 3_000_000 * 500,
      },
    ]);
    expect(closed.quarantined).toEqual([]);
    expect((await new LedgerRepository(owner).checkConservation()).problems).toEqual([]);

    const ledger = new LedgerRepository(processor);
    await ledger.quarantine(`q-${t}`, 'BTCUSDT', '{}', 'test');
    const q = (await ledger.quarantinedRecords()).find((r) => r.key === `q-${t}`)!;
    await ledger.markReplayed(q.id);
  });

  it('cannot create users or API keys, read API keys, or rewrite settled trades', async () => {
    const processor = as.cirrus_processor;
    await refused(processor, "INSERT INTO users (email) VALUES ('evil@test')");
    await refused(
      processor,
      "INSERT INTO api_keys (user_id, api_key, secret_ciphertext, permissions) VALUES (1, 'k', 'c', 'read,trade')",
    );
    await refused(processor, 'SELECT * FROM api_keys');
    await refused(processor, 'UPDATE settled_trades SET qty_lots = 0');
    await refused(processor, 'DELETE FROM settled_trades');
    await refused(processor, "UPDATE withdrawals SET status = 'confirmed'");
    await refused(processor, 'SELECT * FROM user_totp');
    await refused(processor, 'SELECT * FROM withdraw_addresses');
    await refused(processor, 'INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ($1, $2, $3, $4)', [
      'x',
      'BTCUSDT',
      'g',
      '{}',
    ]);
    await refused(processor, 'UPDATE orders SET lock_amount = 0');
  });
});

describe('money moves only through the ledger functions (migration 14)', () => {
  const postings = (userId: number, amount: string) =>
    JSON.stringify([
      { owner: 'system:external', asset: 'USDT', bucket: 'available', amount: `-${amount}` },
      { owner: `user:${userId}`, asset: 'USDT', bucket: 'available', amount },
    ]);

  it('no family writes balances, ledger transactions, entries or balance events directly', async () => {
    const u = await fundedUser({ USDT: USDT(10) });
    for (const role of [
      'cirrus_api',
      'cirrus_processor',
      'cirrus_wallet',
      'cirrus_chain_listener',
    ] as const) {
      const as_ = as[role];
      await refused(as_, 'UPDATE accounts SET available = available + 1 WHERE owner = $1', [`user:${u}`]);
      await refused(as_, 'INSERT INTO accounts (owner, asset) VALUES ($1, $2)', [`user:${u}`, 'DOGE']);
      await refused(as_, 'INSERT INTO ledger_transactions (kind, reference) VALUES ($1, $2)', [
        'deposit',
        `x:${role}`,
      ]);
      await refused(
        as_,
        'INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount) VALUES (1, 1, $1, $2, 1)',
        ['USDT', 'available'],
      );
    }
    expect(
      (await new LedgerRepository(owner).getBalances(u)).find((b) => b.asset === 'USDT')?.available,
    ).toBe(USDT(10));
  });

  it('each family posts only its own kinds: no one but the chain listener credits a deposit', async () => {
    const u = await fundedUser({});
    const post = (role: DatabaseRole, kind: string, ref: string) =>
      as[role].query('SELECT ledger_post($1, $2, $3)', [kind, ref, postings(u, '100')]);
    for (const [role, kind] of [
      ['cirrus_api', 'deposit'],
      ['cirrus_processor', 'deposit'],
      ['cirrus_wallet', 'deposit'],
      ['cirrus_wallet', 'trade'],
      ['cirrus_chain_listener', 'trade'],
      ['cirrus_chain_listener', 'withdraw-release'],
      ['cirrus_api', 'unlock'],
      ['cirrus_processor', 'withdraw-release'],
      ['cirrus_api', 'made-up'],
    ] as const)
      await expect(post(role, kind, `k:${role}:${kind}`)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining(`ledger kind ${kind} may not be posted by ${loginUserOf(role)}`),
      });
    expect((await new LedgerRepository(owner).getBalances(u)).every((b) => b.available === 0n)).toBe(true);
    // Its own kind: the chain listener credits, once.
    await post('cirrus_chain_listener', 'deposit', `k:${u}:listener`);
    expect(
      (await new LedgerRepository(owner).getBalances(u)).find((b) => b.asset === 'USDT')?.available,
    ).toBe(100n);
  });
});

describe('the read-only stream consumers', () => {
  it('read models read order rows only; the WebSocket fan-out reads order rows, balances and key revocations', async () => {
    const u = await fundedUser({ USDT: USDT(1_000) });
    const id = await accept(owner, u, 'ro-1', 'BUY');
    expect(await new OrderRepository(as.cirrus_read_models).getMany([id])).toHaveLength(1);
    await refused(as.cirrus_read_models, 'SELECT * FROM accounts');
    await refused(as.cirrus_read_models, "UPDATE orders SET status = 'FILLED'");
    expect(await new OrderRepository(as.cirrus_ws_fanout).getMany([id])).toHaveLength(1);
    expect(
      (await new LedgerRepository(as.cirrus_ws_fanout).getBalances(u)).find((b) => b.asset === 'USDT'),
    ).toMatchObject({
      locked: USDT(300),
    });
    // Of the API keys, only whether one is revoked (a revoked key ends its subscriptions); never the secret.
    const keys = new ApiKeyStore(owner, fakeKms, 'key');
    const key = await keys.create(u, ['read'], 'ws');
    expect(await apiKeyActive(as.cirrus_ws_fanout, key.apiKey)).toBe(true);
    await keys.revoke(u, key.apiKey);
    expect(await apiKeyActive(as.cirrus_ws_fanout, key.apiKey)).toBe(false);
    expect(await apiKeyActive(as.cirrus_ws_fanout, 'A'.repeat(64))).toBe(false);
    await refused(as.cirrus_ws_fanout, 'SELECT * FROM api_keys');
    await refused(as.cirrus_ws_fanout, 'SELECT secret_ciphertext FROM api_keys');
    await refused(as.cirrus_ws_fanout, 'SELECT user_id FROM api_keys');
    await refused(as.cirrus_ws_fanout, 'UPDATE api_keys SET revoked_at = NULL');
    await refused(as.cirrus_ws_fanout, 'UPDATE accounts SET available = 0');
  });

  it('the search indexer reads order rows, deposits and withdrawals, and nothing else', async () => {
    const u = await fundedUser({ USDT: USDT(1_000) });
    const id = await accept(owner, u, 'si-1', 'BUY');
    expect(await new OrderRepository(as.cirrus_search_indexer).getMany([id])).toHaveLength(1);
    expect(await new WithdrawalRepository(as.cirrus_search_indexer).getMany([1])).toEqual(expect.any(Array));
    expect(
      await new DepositRepository(as.cirrus_search_indexer).byReferences([
        `chain:ETH:0x${'0'.repeat(64)}:-1`,
      ]),
    ).toEqual([]);
    await refused(as.cirrus_search_indexer, 'SELECT * FROM accounts');
    await refused(as.cirrus_search_indexer, 'SELECT * FROM api_keys');
    await refused(as.cirrus_search_indexer, 'SELECT * FROM balance_events');
    await refused(as.cirrus_search_indexer, "UPDATE orders SET status = 'FILLED'");
    await refused(as.cirrus_search_indexer, "UPDATE withdrawals SET status = 'failed'");
  });

  it('the relay publishes balance events and prunes them; the families that post them only insert', async () => {
    await refused(
      as.cirrus_relay,
      'INSERT INTO balance_events (tx_id, user_id, asset, delta, kind, reference, created_ms) VALUES (1, 1, $1, 1, $2, $3, 0)',
      ['USDT', 'deposit', 'x'],
    );
    expect((await as.cirrus_relay.query('SELECT count(*) FROM balance_events')).rows).toHaveLength(1);
    await as.cirrus_relay.query('UPDATE balance_events SET published_at = now() WHERE false');
    await refused(as.cirrus_relay, 'UPDATE balance_events SET delta = 0');
    for (const role of ['cirrus_api', 'cirrus_wallet', 'cirrus_chain_listener'] as const) {
      await refused(as[role], 'SELECT * FROM balance_events');
      await refused(as[role], 'DELETE FROM balance_events');
    }
    for (const role of ['cirrus_processor', 'cirrus_read_models', 'cirrus_ws_fanout'] as const)
      await refused(
        as[role],
        'INSERT INTO balance_events (tx_id, user_id, asset, delta, kind, reference, created_ms) VALUES (1, 1, $1, 1, $2, $3, 0)',
        ['USDT', 'deposit', 'x'],
      );
  });
});

describe('the outbox relay role (cirrus_relay)', () => {
  it('sends due rows, counts the sends, prunes applied rows and expired markers; writes nothing else', async () => {
    const u = await fundedUser({ USDT: USDT(1_000) });
    await accept(owner, u, 'relay-1', 'BUY', `sig-r-${Date.now()}`);
    const sent: string[] = [];
    const relay = new OutboxRelay(
      as.cirrus_relay,
      { send: async (messages) => void sent.push(...messages.map((m) => m.cmdId)) },
      { graceMs: 0, resendAfterMs: 0, batchSize: 500 },
    );
    const pass = await relay.deliverDue();
    expect(pass.failed).toBe(0);
    expect(sent.length).toBeGreaterThan(0);
    await relay.cleanup(0);
    await refused(
      as.cirrus_relay,
      'INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ($1, $2, $3, $4)',
      ['forged', 'BTCUSDT', 'g', '{}'],
    );
    await refused(as.cirrus_relay, "UPDATE outbox SET body = '{}'");
    await refused(as.cirrus_relay, 'SELECT * FROM accounts');
  });
});

describe('the wallet role (cirrus_wallet)', () => {
  it('signs, confirms and fails withdrawals; cannot create one or touch deposits', async () => {
    const u = await fundedUser({ USDT: USDT(1_000) });
    const address = '0x0000000000000000000000000000000000000002';
    const network = 'eth-wallet-test';
    const at = { userId: u, coin: 'USDT', network, address, label: '', holdMs: 0 };
    await new WithdrawAddressRepository(owner).add({ ...at, nowMs: Date.now() });
    const request = (n: number) =>
      new WithdrawalRepository(owner).apply({
        userId: u,
        coin: 'USDT',
        network,
        address,
        amount: USDT(n),
        fee: USDT(1),
        chainAmount: 1n,
        dailyLimit: USDT(1_000),
        globalDailyLimit: USDT(1_000_000),
        nowMs: Date.now(),
      });
    const a = (await request(5)) as { id: number };
    const b = (await request(6)) as { id: number };
    const wallet = new WithdrawalRepository(as.cirrus_wallet);
    expect((await wallet.open('eth-wallet-test')).map((w) => w.id)).toEqual([a.id, b.id]);
    const nonce = await wallet.nextNonce('eth-wallet-test');
    const signed = (hash: string, raw: string) => ({
      hash,
      raw,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
      signedMs: Date.now(),
    });
    expect(await wallet.markSigned(a.id, { nonce, ...signed('0xa', '0x01') })).toBe(true);
    expect(await wallet.markSigned(b.id, { nonce: nonce + 1, ...signed('0xb', '0x02') })).toBe(true);
    // A stuck transaction replaced (same nonce, higher fees), every attempt kept; the original mines.
    expect(await wallet.replace(a.id, '0xa', signed('0xa2', '0x03'))).toBe(true);
    expect((await wallet.attempts([a.id])).get(a.id)?.map((t) => t.txHash)).toEqual(['0xa', '0xa2']);
    expect(await wallet.confirm(a.id, '0xother', Date.now())).toBe(false); // none of its attempts
    expect(await wallet.confirm(a.id, '0xa', Date.now())).toBe(true);
    const mined = await owner.query('SELECT tx_hash, raw_tx FROM withdrawals WHERE id = $1', [a.id]);
    expect(mined.rows[0]).toEqual({ tx_hash: '0xa', raw_tx: '0x01' }); // the one that mined, not the latest
    expect(await wallet.fail(b.id, '0xb', Date.now())).toBe(true);
    expect((await new LedgerRepository(owner).checkConservation()).problems).toEqual([]);
    await refused(
      as.cirrus_wallet,
      `INSERT INTO withdrawals (user_id, coin, network, address, amount, fee, chain_amount, status, apply_ms)
       VALUES (1, 'USDT', 'eth', '0x', 1, 0, 1, 'pending', 1)`,
    );
    await refused(as.cirrus_wallet, "UPDATE withdrawals SET address = '0xevil'");
    await refused(as.cirrus_wallet, "UPDATE withdrawal_attempts SET raw_tx = '0xevil'");
    await refused(as.cirrus_wallet, 'DELETE FROM withdrawal_attempts');
    await refused(as.cirrus_wallet, 'SELECT * FROM deposits');
    await refused(as.cirrus_wallet, 'SELECT * FROM api_keys');
    await refused(as.cirrus_wallet, 'SELECT * FROM user_totp');
    await refused(as.cirrus_wallet, 'SELECT * FROM withdraw_addresses');
  });
});

describe('the chain listener role (cirrus_chain_listener)', () => {
  it('records, confirms, drops and credits deposits; cannot touch orders, users or withdrawals', async () => {
    const u = await fundedUser({});
    const network = `eth-listener-${Date.now()}`;
    await new DepositRepository(owner).addressFor(u, network, () => `0xdep${u}`);
    const listener = new DepositRepository(as.cirrus_chain_listener);
    const owners = await listener.owners(network, [`0xdep${u}`]);
    expect(owners.get(`0xdep${u}`)).toBe(u);
    const deposit = (txHash: string, blockNumber: number) => ({
      network,
      txHash,
      logIndex: 0,
      address: `0xdep${u}`,
      coin: 'USDT',
      chainAmount: 5_000_000n,
      amount: USDT(5),
      blockNumber,
      blockHash: `0xblock${blockNumber}`,
    });
    const at = { requiredConfirmations: 2, nowMs: Date.now() };
    expect(await listener.record([deposit('0x1', 10), deposit('0x2', 20)], owners, at)).toBe(2);
    await listener.updateConfirmations(network, 12);
    expect(await listener.dropPendingFrom(network, 20)).toBe(1);
    expect((await listener.creditConfirmed(network, 11, Date.now())).map((d) => d.txHash)).toEqual(['0x1']);
    expect(
      (await new LedgerRepository(owner).getBalances(u)).find((b) => b.asset === 'USDT')?.available,
    ).toBe(USDT(5));
    await refused(as.cirrus_chain_listener, "INSERT INTO users (email) VALUES ('x@test')");
    await refused(as.cirrus_chain_listener, 'SELECT * FROM orders');
    await refused(as.cirrus_chain_listener, 'INSERT INTO deposit_addresses VALUES (1, $1, 1, $2)', [
      'n',
      'a',
    ]);
    await refused(as.cirrus_chain_listener, 'UPDATE deposits SET amount = 1');
  });
});

describe('the reconciliation role (cirrus_reconciliation)', () => {
  it('reads the ledger in one read-only snapshot and writes its audit row; changes nothing else', async () => {
    const report = await reconcile({
      pool: as.cirrus_reconciliation,
      snapshots: { loadLatest: async () => undefined },
      shards: ['shard-0'],
    });
    expect(report.conservationProblems).toEqual([]);
    const audit = await owner.query("SELECT count(*) AS n FROM audit_log WHERE actor = 'reconciliation'");
    expect(Number(audit.rows[0].n)).toBeGreaterThan(0);
    await refused(as.cirrus_reconciliation, 'UPDATE accounts SET available = 0');
    await refused(as.cirrus_reconciliation, 'DELETE FROM audit_log');
    await refused(as.cirrus_reconciliation, 'SELECT * FROM api_keys');
    await refused(as.cirrus_reconciliation, 'SELECT * FROM user_totp');
  });
});

describe('the logins', () => {
  it('hold their role and nothing else: no superuser, no role or database creation', async () => {
    const r = await owner.query<{
      rolname: string;
      rolsuper: boolean;
      rolcreaterole: boolean;
      rolcreatedb: boolean;
      member_of: string[];
    }>(
      `SELECT u.rolname, u.rolsuper, u.rolcreaterole, u.rolcreatedb,
              array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = u.oid ORDER BY 1)::text[] AS member_of
         FROM pg_roles u WHERE u.rolname = ANY($1) ORDER BY 1`,
      [DATABASE_ROLES.map(loginUserOf)],
    );
    expect(r.rows).toHaveLength(DATABASE_ROLES.length);
    for (const row of r.rows) {
      expect(row).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      expect(row.member_of).toEqual([row.rolname.replace(/_login$/, '')]);
    }
  });
});
