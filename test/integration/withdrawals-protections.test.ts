// The withdrawal protections end to end (docs/wallets.md#withdrawals): the local exchange over a real
// PostgreSQL, its API running as the cirrus_api login where the server allows it. TOTP 2FA (enrol, confirm,
// disable; required by withdraw/apply and by adding an address once on; a code accepted once, even by two
// concurrent requests; wrong codes counted and then refused), a withdraw key only with 2FA and an IP
// allowlist (and usable only from those addresses), the address allowlist with its hold, and the
// exchange-wide 24 h limit per coin (two users racing for the last room). Every refusal leaves balances,
// locks and withdrawals exactly as they were, and the ledger's conservation holds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, getAddress } from 'ethers';
import { Secret } from 'otpauth';
import { Pool } from 'pg';
import { apiContext } from '@lambdas/api/context';
import { totpCode, totpStep } from '@lambdas/shared/auth/totp';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually, registerFundedUser } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

jest.setTimeout(180_000);

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let pool: Pool;
const lines: string[] = [];

interface User {
  userId: number;
  plain: ApiKey;
  withdraw: ApiKey;
}

type Answer = {
  status: number;
  body: { code?: number; msg?: string; id?: string } & Record<string, unknown>;
};

async function user(name: string, funds: Record<string, string>): Promise<User> {
  const u = await registerFundedUser(api, pg.url, name, funds);
  const withdraw = await apiContext().keys.create(u.userId, ['read', 'trade', 'withdraw'], 'withdraw-test', [
    '127.0.0.1',
  ]);
  return { userId: u.userId, plain: u, withdraw };
}

const call = (method: string, path: string, key: ApiKey, params: Record<string, string> = {}) =>
  api.signed<Answer['body']>(method, path, key, params) as Promise<Answer>;

const apply = (u: User, params: Record<string, string>) =>
  call('POST', '/sapi/v1/capital/withdraw/apply', u.withdraw, { network: 'ETH', ...params });

const allow = (u: User, coin: string, address: string, extra: Record<string, string> = {}) =>
  call('POST', '/cirrus/v1/withdrawAddresses', u.withdraw, { coin, network: 'ETH', address, ...extra });

/** Balances (all assets), withdrawals and their ledger locks of one user, once nothing of theirs is in flight. */
async function snapshot(u: User) {
  await eventually(async () => {
    const open = await pool.query(
      "SELECT 1 FROM withdrawals WHERE user_id = $1 AND status IN ('pending', 'broadcast')",
      [u.userId],
    );
    expect(open.rowCount).toBe(0);
  });
  const account = await api.signed<{ balances: unknown[] }>('GET', '/api/v3/account', u.plain);
  const withdrawals = await pool.query(
    'SELECT id, status, amount::text, address FROM withdrawals WHERE user_id = $1 ORDER BY id',
    [u.userId],
  );
  const accounts = await pool.query(
    'SELECT asset, available::text, locked::text FROM accounts WHERE owner = $1 ORDER BY asset',
    [`user:${u.userId}`],
  );
  const locks = await pool.query(
    `SELECT count(*)::int AS n FROM ledger_transactions
      WHERE kind = 'withdraw-lock' AND reference = ANY($1::text[])`,
    [withdrawals.rows.map((w: { id: string }) => `withdrawal:${w.id}`)],
  );
  return {
    balances: account.body.balances,
    accounts: accounts.rows,
    withdrawals: withdrawals.rows,
    locks: locks.rows,
  };
}

/** Runs a request that must be refused with `status`/`code`, and checks it changed nothing of the user's. */
async function refusedUnchanged(u: User, status: number, code: number, request: () => Promise<Answer>) {
  const before = await snapshot(u);
  const r = await request();
  expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
  expect(typeof r.body.msg).toBe('string');
  expect(await snapshot(u)).toEqual(before);
  return r;
}

/** The authenticator's code `offset` steps from now. */
const code = (secret: string, offset = 0) =>
  totpCode(new Uint8Array(Secret.fromBase32(secret).buffer), Date.now() + offset * 30_000);

/** Waits until a step boundary is at least 8 s away, so a short sequence of codes stays in its steps. */
async function awayFromBoundary(): Promise<void> {
  const into = Date.now() % 30_000;
  if (into > 1_000 && into < 22_000) return;
  await new Promise((r) => setTimeout(r, (31_000 - into) % 30_000 || 1_000));
}

async function enrolAndConfirm(u: User): Promise<string> {
  const e = await call('POST', '/cirrus/v1/totp/enroll', u.plain);
  expect(e.status).toBe(200);
  const secret = e.body.secret as string;
  await awayFromBoundary();
  const c = await call('POST', '/cirrus/v1/totp/confirm', u.plain, { totpCode: code(secret, -1) });
  expect(c).toMatchObject({ status: 200, body: { enabled: true } });
  return secret;
}

beforeAll(async () => {
  process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '0';
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-withdraw-protections-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    log: (line) => lines.push(line),
    chain: { confirmations: 1, listenerEveryMs: 200 },
  });
  api = new BinanceTestClient(ex.restUrl);
  pool = new Pool({ connectionString: pg.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await ex?.stop();
  await pg?.stop();
  delete process.env.WITHDRAW_ADDRESS_HOLD_SECONDS;
  delete process.env.WITHDRAW_GLOBAL_DAILY_LIMITS;
});

describe('TOTP second factor', () => {
  const to = Wallet.createRandom().address;
  let u: User;
  let secret: string;

  beforeAll(async () => {
    u = await user('totp', { ETH: '10' });
  });

  it('enrols (secret and otpauth URI once), and is on only after a first valid code', async () => {
    expect((await call('GET', '/cirrus/v1/totp', u.plain)).body).toEqual({ enabled: false, pending: false });
    const e = await call('POST', '/cirrus/v1/totp/enroll', u.plain);
    expect(e.status).toBe(200);
    secret = e.body.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(e.body.uri as string);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect((await call('GET', '/cirrus/v1/totp', u.plain)).body).toEqual({ enabled: false, pending: true });

    // Stored sealed: neither the base32 secret nor its bytes are in the row.
    const row = await pool.query<{ secret_ciphertext: string }>(
      'SELECT secret_ciphertext FROM user_totp WHERE user_id = $1',
      [u.userId],
    );
    const raw = Buffer.from(Secret.fromBase32(secret).buffer);
    expect(row.rows[0].secret_ciphertext).not.toContain(secret);
    expect(Buffer.from(row.rows[0].secret_ciphertext, 'base64').includes(raw)).toBe(false);

    // Not on yet: a withdrawal needs no code (the address is allowlisted, hold 0 in this file).
    expect((await allow(u, 'ETH', to)).status).toBe(200);

    await awayFromBoundary();
    const wrong = await call('POST', '/cirrus/v1/totp/confirm', u.plain, { totpCode: code(secret, 3) });
    expect(wrong).toMatchObject({ status: 400, body: { code: -4004 } });
    expect((await call('GET', '/cirrus/v1/totp', u.plain)).body).toEqual({ enabled: false, pending: true });
    const ok = await call('POST', '/cirrus/v1/totp/confirm', u.plain, { totpCode: code(secret, -1) });
    expect(ok).toMatchObject({ status: 200, body: { enabled: true } });
    expect((await call('GET', '/cirrus/v1/totp', u.plain)).body).toEqual({ enabled: true, pending: false });
    expect(
      await call('POST', '/cirrus/v1/totp/confirm', u.plain, { totpCode: code(secret, 0) }),
    ).toMatchObject({
      status: 400,
      body: { code: -4000 },
    });
    expect(await call('POST', '/cirrus/v1/totp/enroll', u.plain)).toMatchObject({
      status: 400,
      body: { code: -4000 },
    });
  });

  it('withdraw/apply then needs totpCode: missing, wrong, reused or older codes are refused and lock nothing', async () => {
    await awayFromBoundary();
    const params = { coin: 'ETH', address: to, amount: '0.5' };
    const missing = await refusedUnchanged(u, 400, -1102, () => apply(u, params));
    expect(missing.body.msg).toContain('totpCode');
    await refusedUnchanged(u, 400, -4004, () => apply(u, { ...params, totpCode: code(secret, 5) }));
    await refusedUnchanged(u, 400, -4004, () => apply(u, { ...params, totpCode: 'abcdef' }));

    const now = code(secret, 0);
    const ok = await apply(u, { ...params, totpCode: now });
    expect(ok.status).toBe(200);
    const reused = await refusedUnchanged(u, 400, -4004, () => apply(u, { ...params, totpCode: now }));
    expect(reused.body.msg).toContain('already used');
    // The current step is the last accepted one: any code at or below it is refused, whatever it is.
    await refusedUnchanged(u, 400, -4004, () => apply(u, { ...params, totpCode: code(secret, -1) }));
  });

  it('a code is accepted once even by two concurrent requests', async () => {
    await awayFromBoundary();
    const before = (await snapshot(u)).withdrawals.length;
    const next = code(secret, 1);
    const both = await Promise.all([
      apply(u, { coin: 'ETH', address: to, amount: '0.25', totpCode: next }),
      // Another amount: two identical signed requests would be one (-1022, the signature is accepted once).
      apply(u, { coin: 'ETH', address: to, amount: '0.26', totpCode: next }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(both.find((r) => r.status === 400)?.body.code).toBe(-4004);
    expect((await snapshot(u)).withdrawals).toHaveLength(before + 1);
    const last = await pool.query<{ last_step: string }>(
      'SELECT last_step FROM user_totp WHERE user_id = $1',
      [u.userId],
    );
    expect(Number(last.rows[0].last_step)).toBe(totpStep(Date.now()) + 1);
  });

  it('adding an address needs the code too', async () => {
    const other = Wallet.createRandom().address;
    expect(await allow(u, 'ETH', other)).toMatchObject({ status: 400, body: { code: -1102 } });
    expect(await allow(u, 'ETH', other, { totpCode: code(secret, 5) })).toMatchObject({
      status: 400,
      body: { code: -4004 },
    });
    expect((await call('GET', '/cirrus/v1/withdrawAddresses', u.plain)).body).toHaveLength(1);
  });

  it('disables with a valid code only; withdrawals then need none', async () => {
    const d = await user('totp-disable', { ETH: '2' });
    const dest = Wallet.createRandom().address;
    const s = await enrolAndConfirm(d);
    expect(await call('POST', '/cirrus/v1/totp/disable', d.plain)).toMatchObject({
      status: 400,
      body: { code: -1102 },
    });
    expect(await call('POST', '/cirrus/v1/totp/disable', d.plain, { totpCode: code(s, -1) })).toMatchObject({
      status: 400,
      body: { code: -4004 },
    });
    expect((await allow(d, 'ETH', dest, { totpCode: code(s, 0) })).status).toBe(200);
    expect(await call('POST', '/cirrus/v1/totp/disable', d.plain, { totpCode: code(s, 1) })).toMatchObject({
      status: 200,
      body: { enabled: false },
    });
    expect((await call('GET', '/cirrus/v1/totp', d.plain)).body).toEqual({ enabled: false, pending: false });
    expect((await apply(d, { coin: 'ETH', address: dest, amount: '0.5' })).status).toBe(200);
  });

  it('stops a guesser: after 5 wrong codes even the right one is refused', async () => {
    const g = await user('totp-guess', { ETH: '2' });
    const dest = Wallet.createRandom().address;
    expect((await allow(g, 'ETH', dest)).status).toBe(200);
    const s = await enrolAndConfirm(g);
    const right = code(s, 0);
    const wrongs = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((c) => c !== right);
    for (const w of wrongs.slice(0, 5))
      await refusedUnchanged(g, 400, -4004, () =>
        apply(g, { coin: 'ETH', address: dest, amount: '0.5', totpCode: w }),
      );
    await refusedUnchanged(g, 400, -4005, () =>
      apply(g, { coin: 'ETH', address: dest, amount: '0.5', totpCode: code(s, 0) }),
    );
  });

  it('never logs the secret', () => {
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
  });
});

describe('a key with the withdraw permission, through the API', () => {
  const keysOf = async (u: User) =>
    (await pool.query('SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1', [u.userId])).rows[0]
      .n as number;
  const ask = (u: User, params: Record<string, string>) =>
    call('POST', '/cirrus/v1/apiKeys', u.plain, { permissions: 'read,trade,withdraw', ...params });

  it('needs an IP allowlist and the 2FA code; the key then works from its addresses only', async () => {
    const u = await user('wkey', { ETH: '1' });
    const keys = await keysOf(u);
    // Without 2FA on, and without ipRestrict: refused, nothing created.
    const no2fa = await ask(u, { ipRestrict: '127.0.0.1', totpCode: '123456' });
    expect([no2fa.status, no2fa.body.code]).toEqual([400, -1130]);
    expect(no2fa.body.msg).toContain('needs 2FA');
    const noIps = await ask(u, { totpCode: '123456' });
    expect([noIps.status, noIps.body.code]).toEqual([400, -1102]);
    expect(noIps.body.msg).toContain("'ipRestrict'");

    const secret = await enrolAndConfirm(u);
    await awayFromBoundary();
    const wrong = await ask(u, { ipRestrict: '127.0.0.1', totpCode: code(secret, 5) });
    expect([wrong.status, wrong.body.code]).toEqual([400, -4004]);
    expect(await keysOf(u)).toBe(keys);

    const now = code(secret, 0);
    const made = await ask(u, { ipRestrict: '127.0.0.1,::1', totpCode: now, label: 'withdrawals' });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({
      permissions: ['read', 'trade', 'withdraw'],
      ipRestrict: true,
      ipAllowlist: ['127.0.0.1', '::1'],
    });
    // The code is spent: the same one again creates nothing.
    const again = await ask(u, { ipRestrict: '127.0.0.1', totpCode: now });
    expect([again.status, again.body.code]).toEqual([400, -4004]);
    expect(await keysOf(u)).toBe(keys + 1);

    const key = { apiKey: made.body.apiKey as string, secretKey: made.body.secretKey as string };
    const history = await call('GET', '/sapi/v1/capital/withdraw/history', key);
    expect(history.status).toBe(200);

    // Restricted to another address: refused here, for any endpoint, with Binance's -2015.
    const elsewhere = await ask(u, { ipRestrict: '10.9.8.7', totpCode: code(secret, 1) });
    expect(elsewhere.status).toBe(200);
    const far = { apiKey: elsewhere.body.apiKey as string, secretKey: elsewhere.body.secretKey as string };
    for (const [method, path] of [
      ['GET', '/sapi/v1/capital/withdraw/history'],
      ['GET', '/api/v3/account'],
    ] as const) {
      const r = await call(method, path, far);
      expect([r.status, r.body.code]).toEqual([401, -2015]);
    }

    const listed = await api.signed<Array<Record<string, unknown>>>('GET', '/cirrus/v1/apiKeys', u.plain);
    expect(listed.body.map((k) => [k.label, k.ipRestrict, k.ipAllowlist])).toEqual(
      expect.arrayContaining([
        ['withdrawals', true, ['127.0.0.1', '::1']],
        ['', true, ['10.9.8.7']],
      ]),
    );
  });
});

describe('address allowlist and hold', () => {
  let u: User;
  beforeAll(async () => {
    u = await user('allowlist', { ETH: '10', USDT: '100' });
  });
  afterEach(() => {
    process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '0';
  });

  it('refuses an address not on the list (-4035), for another coin, or on another user’s list', async () => {
    const to = Wallet.createRandom().address;
    const r = await refusedUnchanged(u, 400, -4035, () =>
      apply(u, { coin: 'ETH', address: to, amount: '1' }),
    );
    expect(r.body.msg).toContain('allowlist');
    expect((await allow(u, 'USDT', to)).status).toBe(200);
    await refusedUnchanged(u, 400, -4035, () => apply(u, { coin: 'ETH', address: to, amount: '1' }));
    const other = await user('allowlist-other', { USDT: '50' });
    await refusedUnchanged(other, 400, -4035, () =>
      apply(other, { coin: 'USDT', address: to, amount: '10' }),
    );
    expect((await apply(u, { coin: 'USDT', address: to.toLowerCase(), amount: '10' })).status).toBe(200);
  });

  it('refuses an address still on hold (-4036), and takes it once the hold has passed', async () => {
    process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '3600';
    const held = Wallet.createRandom().address;
    const a = await allow(u, 'ETH', held, { label: 'cold storage' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      coin: 'ETH',
      network: 'ETH',
      address: getAddress(held),
      label: 'cold storage',
    });
    expect(Number(a.body.usableTime) - Number(a.body.addTime)).toBe(3_600_000);
    const r = await refusedUnchanged(u, 400, -4036, () =>
      apply(u, { coin: 'ETH', address: held, amount: '1' }),
    );
    expect(r.body.msg).toContain(new Date(Number(a.body.usableTime)).toISOString());

    process.env.WITHDRAW_ADDRESS_HOLD_SECONDS = '2';
    const soon = Wallet.createRandom().address;
    expect((await allow(u, 'ETH', soon)).status).toBe(200);
    await refusedUnchanged(u, 400, -4036, () => apply(u, { coin: 'ETH', address: soon, amount: '1' }));
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await apply(u, { coin: 'ETH', address: soon, amount: '1' })).status).toBe(200);
    // The first one is still held.
    await refusedUnchanged(u, 400, -4036, () => apply(u, { coin: 'ETH', address: held, amount: '1' }));
  });

  it('lists, refuses duplicates and bad addresses, removes (then refuses the address again)', async () => {
    const list = await call('GET', '/cirrus/v1/withdrawAddresses', u.plain);
    expect(list.status).toBe(200);
    const rows = list.body as unknown as Array<{ id: string; coin: string; address: string }>;
    expect(rows.map((r) => r.coin)).toEqual(['USDT', 'ETH', 'ETH']);
    expect(rows.every((r) => r.address === getAddress(r.address))).toBe(true);
    expect((await call('GET', '/cirrus/v1/withdrawAddresses', u.plain, { coin: 'USDT' })).body).toHaveLength(
      1,
    );

    const soon = rows[2];
    expect(await allow(u, 'ETH', soon.address)).toMatchObject({ status: 400, body: { code: -1130 } });
    expect(await allow(u, 'ETH', '0x1234')).toMatchObject({ status: 400, body: { code: -4007 } });
    expect(await allow(u, 'BTC', soon.address)).toMatchObject({ status: 400, body: { code: -4018 } });
    expect(
      await call('POST', '/cirrus/v1/withdrawAddresses', u.plain, { coin: 'ETH', address: soon.address }),
    ).toMatchObject({
      status: 401,
      body: { code: -2015 },
    });

    const other = await user('allowlist-remover', {});
    expect(
      await call('DELETE', '/cirrus/v1/withdrawAddresses', other.withdraw, { id: soon.id }),
    ).toMatchObject({
      status: 400,
      body: { code: -1130 },
    });
    expect((await call('DELETE', '/cirrus/v1/withdrawAddresses', u.withdraw, { id: soon.id })).status).toBe(
      200,
    );
    expect((await call('GET', '/cirrus/v1/withdrawAddresses', u.plain)).body).toHaveLength(2);
    await refusedUnchanged(u, 400, -4035, () =>
      apply(u, { coin: 'ETH', address: soon.address, amount: '1' }),
    );
    await checkConservation(pg.url);
  });
});

describe('the exchange-wide 24 h limit per coin', () => {
  /** USDT sent (amounts, fees excluded) by everyone in the last 24 h, in whole USDT. */
  const usedUsdt = async () =>
    Number(
      (
        await pool.query<{ s: string }>(
          `SELECT coalesce(sum(amount), 0)::text AS s FROM withdrawals
            WHERE coin = 'USDT' AND status <> 'failed' AND apply_ms > $1`,
          [Date.now() - 86_400_000],
        )
      ).rows[0].s,
    ) / 1e8;
  /** Leaves `room` USDT under the global limit. */
  const room = async (n: number) => {
    process.env.WITHDRAW_GLOBAL_DAILY_LIMITS = JSON.stringify({
      ETH: '1000',
      USDT: String((await usedUsdt()) + n),
    });
  };
  afterEach(() => {
    delete process.env.WITHDRAW_GLOBAL_DAILY_LIMITS;
  });

  async function pair(name: string): Promise<[User, User, string]> {
    const to = Wallet.createRandom().address;
    const a = await user(`${name}-a`, { USDT: '1000' });
    const b = await user(`${name}-b`, { USDT: '1000' });
    expect((await allow(a, 'USDT', to)).status).toBe(200);
    expect((await allow(b, 'USDT', to)).status).toBe(200);
    return [a, b, to];
  }

  it('refuses the user whose withdrawal would pass it (-4015), with nothing locked; the exact rest still goes', async () => {
    const [a, b, to] = await pair('global');
    await room(100);
    expect((await apply(a, { coin: 'USDT', address: to, amount: '60' })).status).toBe(200);
    const r = await refusedUnchanged(b, 400, -4015, () =>
      apply(b, { coin: 'USDT', address: to, amount: '60' }),
    );
    expect(r.body.msg).toContain('exchange-wide');
    // Fees do not count (they stay with Cirrus): 40 more fits exactly.
    expect((await apply(b, { coin: 'USDT', address: to, amount: '40' })).status).toBe(200);
    await refusedUnchanged(a, 400, -4015, () => apply(a, { coin: 'USDT', address: to, amount: '2' }));
  });

  it('two users racing for the last room: exactly one gets it, the other has nothing locked', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b, to] = await pair(`race-${round}`);
      await room(100);
      const beforeA = await snapshot(a);
      const beforeB = await snapshot(b);
      const both = await Promise.all([
        apply(a, { coin: 'USDT', address: to, amount: '60' }),
        apply(b, { coin: 'USDT', address: to, amount: '60' }),
      ]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 400]);
      const loser = both[0].status === 400 ? 0 : 1;
      expect(both[loser].body.code).toBe(-4015);
      expect(await snapshot([a, b][loser])).toEqual([beforeA, beforeB][loser]);
      expect((await snapshot([a, b][1 - loser])).withdrawals).toHaveLength(1);
    }
    await checkConservation(pg.url);
  });
});
