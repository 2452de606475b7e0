// GET /cirrus/v1/search over real HTTP on the local exchange: orders and trades reach the index through the
// search indexer (a stream consumer, writing to the OpenSearch stand-in with the same client as in AWS);
// each user finds only their own documents, operators everything; unsigned, badly signed and malformed
// requests are refused with Binance's {code,msg}. Deposits and withdrawals arrive through the wallet-event
// stream and are found by their owner alone.
import { Pool } from 'pg';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import type { ApiKey } from '../support/binance-client';
import { failWithdrawal, requestWithdrawal } from '../support/withdrawal-fixtures';
import {
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

jest.setTimeout(180_000);

interface Result {
  type: 'ORDER' | 'TRADE' | 'DEPOSIT' | 'WITHDRAWAL' | 'LEDGER';
  id: string;
  userId: number;
  symbol: string;
  time: number;
  order?: { orderId: number; clientOrderId: string; status: string; executedQty: string };
  trade?: {
    id: number;
    orderId: number;
    qty: string;
    price: string;
    quoteQty: string;
    commission: string;
    isBuyer: boolean;
  };
  entry?: { reference: string; kind: string; asset: string; available: string; locked: string };
  deposit?: { id: string; amount: string; coin: string; status: number };
  withdrawal?: { id: string; amount: string; transactionFee: string; coin: string; status: number };
}
interface Page {
  total: number;
  page: number;
  limit: number;
  results: Result[];
}
type Err = { code: number; msg: string };

let harness: TestExchange;
let operator: ApiKey & { userId: number };
let aliceId: number;
let bobId: number;
let tradeId: number;
const tag = `s${Date.now().toString(36)}`;

const uid = async (key: ApiKey) =>
  (await harness.api.signed<{ uid: number }>('GET', '/api/v3/account', key)).body.uid;

const search = (key: ApiKey, params: Record<string, string | number | undefined>) =>
  harness.api.signed<Page & Err>('GET', '/cirrus/v1/search', key, params);

beforeAll(async () => {
  harness = await startTestExchange(1_000);
  operator = await registerFundedUser(harness.api, harness.pg.url, 'operator', {});
  // Read once per container, at the first search: this process is the local API's.
  process.env.SEARCH_OPERATOR_USER_IDS = String(operator.userId);
  aliceId = await uid(harness.alice);
  bobId = await uid(harness.bob);

  const { api, alice, bob } = harness;
  const sell = await api.signed('POST', '/api/v3/order', alice, {
    symbol: 'BTCUSDT',
    side: 'SELL',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.5',
    price: '30000',
    newClientOrderId: `${tag}-alice`,
  });
  expect(sell.status).toBe(200);
  const buy = await api.signed<{ fills: Array<{ tradeId: number }> }>('POST', '/api/v3/order', bob, {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.2',
    price: '30100',
    newClientOrderId: `${tag}-bob`,
    newOrderRespType: 'FULL',
  });
  expect(buy.status).toBe(200);
  tradeId = buy.body.fills[0].tradeId;
});

afterAll(async () => {
  delete process.env.SEARCH_OPERATOR_USER_IDS;
  await harness?.stop();
});

describe('GET /cirrus/v1/search', () => {
  it('finds deposits and withdrawals for their owner only, at their latest state', async () => {
    const carol = await registerFundedUser(harness.api, harness.pg.url, 'carol', {});
    const pool = new Pool({ connectionString: harness.pg.url, max: 2 });
    let withdrawalId: number;
    try {
      const units = (n: number) => BigInt(n) * 100_000_000n;
      await new LedgerRepository(pool).creditDeposit(carol.userId, 'USDT', units(50), `${tag}:carol:seed`);
      withdrawalId = await requestWithdrawal(pool, carol.userId, {
        coin: 'USDT',
        amount: units(5),
        fee: units(1),
      });
      await failWithdrawal(pool, withdrawalId);
    } finally {
      await pool.end();
    }
    await eventually(async () => {
      const deposits = await search(carol, { type: 'DEPOSIT' });
      expect(deposits.body.results).toEqual([
        expect.objectContaining({
          type: 'DEPOSIT',
          userId: carol.userId,
          deposit: expect.objectContaining({
            id: `${tag}:carol:seed`,
            amount: '50.00000000',
            coin: 'USDT',
            status: 1,
          }),
        }),
      ]);
      const found = await search(carol, { type: 'WITHDRAWAL', status: 'FAILED' });
      expect(found.body.results).toEqual([
        expect.objectContaining({
          type: 'WITHDRAWAL',
          id: `withdrawal-${withdrawalId}`,
          withdrawal: expect.objectContaining({
            amount: '5.00000000',
            transactionFee: '1.00000000',
            status: 5,
          }),
        }),
      ]);
    }, 30_000);
    // Its ledger entries: the credit, the lock of amount + fee and its release, each with both buckets.
    await eventually(async () => {
      const entries = await search(carol, { type: 'LEDGER', asset: 'USDT' });
      expect(
        entries.body.results.map((r) => [r.type, r.entry?.kind, r.entry?.available, r.entry?.locked]).sort(),
      ).toEqual([
        ['LEDGER', 'deposit', '+50.00000000', '0.00000000'],
        ['LEDGER', 'withdraw-lock', '-6.00000000', '+6.00000000'],
        ['LEDGER', 'withdraw-release', '+6.00000000', '-6.00000000'],
      ]);
    }, 30_000);
    expect((await search(carol, { type: 'LEDGER', status: 'WITHDRAW-RELEASE' })).body.total).toBe(1);
    // By free text (the coin and status words), and never by anyone else.
    expect((await search(carol, { q: 'USDT WITHDRAWAL', type: 'WITHDRAWAL' })).body.total).toBe(1);
    for (const other of [harness.alice, harness.bob])
      expect(
        (await search(other, { type: 'WITHDRAWAL' })).body.results.filter((r) => r.userId === carol.userId),
      ).toEqual([]);
    expect((await search(harness.alice, { q: `withdrawal-${withdrawalId!}` })).body.total).toBe(0);
  });

  it('finds an order by its client order id, and a trade by its id, for their owner', async () => {
    await eventually(async () => {
      const res = await search(harness.alice, { q: `${tag}-alice`, type: 'ORDER' });
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(1);
      expect(res.body.results[0]).toMatchObject({
        type: 'ORDER',
        userId: aliceId,
        symbol: 'BTCUSDT',
        order: { clientOrderId: `${tag}-alice`, status: 'PARTIALLY_FILLED', executedQty: '0.20000000' },
      });
    });
    await eventually(async () => {
      const res = await search(harness.alice, { q: String(tradeId), type: 'TRADE', symbol: 'BTCUSDT' });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r) => [r.type, r.userId, r.trade?.id, r.trade?.isBuyer])).toEqual([
        ['TRADE', aliceId, tradeId, false],
      ]);
      expect(res.body.results[0].trade).toMatchObject({ qty: '0.20000000', price: '30000.00000000' });
    });
    // The trade's ledger entries for alice (the seller): base out of her lock, quote in less her fee.
    await eventually(async () => {
      const fill = (await search(harness.alice, { q: String(tradeId), type: 'TRADE' })).body.results[0]
        .trade!;
      const res = await search(harness.alice, { q: `BTCUSDT:${tradeId}`, type: 'LEDGER' });
      const units = (s: string) => BigInt(s.replace(/[+.]/g, ''));
      const by = new Map(res.body.results.map((r) => [r.entry!.asset, r.entry!]));
      expect([...by.keys()].sort()).toEqual(['BTC', 'USDT']);
      expect(by.get('BTC')).toMatchObject({ kind: 'trade', available: '0.00000000', locked: '-0.20000000' });
      expect(units(by.get('USDT')!.available)).toBe(units(fill.quoteQty) - units(fill.commission));
      expect(res.body.results.every((r) => r.userId === aliceId)).toBe(true);
    });
  });

  it("never shows one user another's documents", async () => {
    await eventually(async () => {
      const mine = await search(harness.bob, { q: `${tag}-bob` });
      expect(mine.body.total).toBeGreaterThan(0);
    });
    const theirs = await search(harness.bob, { q: `${tag}-alice` });
    expect([theirs.status, theirs.body.total, theirs.body.results]).toEqual([200, 0, []]);
    for (const [key, id] of [
      [harness.alice, aliceId],
      [harness.bob, bobId],
    ] as const) {
      const all = await search(key, { limit: 100 });
      expect(all.status).toBe(200);
      expect(all.body.results.length).toBeGreaterThan(0);
      expect(all.body.results.every((r) => r.userId === id)).toBe(true);
    }
    // The same trade is two documents, one per leg, each seen only by its owner.
    const bobsLeg = await search(harness.bob, { q: String(tradeId), type: 'TRADE' });
    expect(bobsLeg.body.results.map((r) => [r.userId, r.trade?.isBuyer])).toEqual([[bobId, true]]);
  });

  it('lets an operator search everyone (scope=ALL), and no one else', async () => {
    const refused = await search(harness.alice, { q: `${tag}-bob`, scope: 'ALL' });
    expect([refused.status, refused.body.code]).toEqual([401, -2015]);
    await eventually(async () => {
      const all = await search(operator, { q: tag, scope: 'ALL', type: 'ORDER' });
      expect(all.body.results.map((r) => r.userId).sort()).toEqual([aliceId, bobId].sort());
    });
    const one = await search(operator, { q: tag, scope: 'ALL', userId: bobId });
    expect(one.body.results.length).toBeGreaterThan(0);
    expect(one.body.results.every((r) => r.userId === bobId)).toBe(true);
    // Without scope=ALL an operator is a user like any other.
    const own = await search(operator, { q: tag });
    expect(own.body.total).toBe(0);
  });

  it('refuses unsigned and badly signed requests with {code,msg}', async () => {
    const unsigned = await harness.api.raw<Err>('GET', `/cirrus/v1/search?q=${tag}`);
    expect([unsigned.status, unsigned.body.code, typeof unsigned.body.msg]).toEqual([401, -2014, 'string']);
    const noSignature = await harness.api.raw<Err>(
      'GET',
      `/cirrus/v1/search?q=${tag}&timestamp=${Date.now()}`,
      undefined,
      {
        'X-MBX-APIKEY': harness.alice.apiKey,
      },
    );
    expect([noSignature.status, noSignature.body.code]).toEqual([400, -1102]);
    const forged = await harness.api.signed<Err>(
      'GET',
      '/cirrus/v1/search',
      harness.alice,
      { q: tag },
      { signatureOverride: '0'.repeat(64) },
    );
    expect([forged.status, forged.body.code]).toEqual([400, -1022]);
    // Signed with bob's secret under alice's key: refused, not answered as either.
    const wrongSecret = await harness.api.signed<Err>(
      'GET',
      '/cirrus/v1/search',
      {
        apiKey: harness.alice.apiKey,
        secretKey: harness.bob.secretKey,
      },
      { q: tag },
    );
    expect([wrongSecret.status, wrongSecret.body.code]).toEqual([400, -1022]);
  });

  it.each([
    [{ limit: '0' }, -1100, 'limit'],
    [{ limit: '101' }, -1100, 'limit'],
    [{ page: 'x' }, -1100, 'page'],
    [{ q: 'a*' }, -1100, 'q'],
    [{ side: 'LONG' }, -1100, 'side'],
    [{ status: 'OPEN' }, -1100, 'status'],
    [{ symbol: 'NOPEUSDT' }, -1121, 'Invalid symbol'],
    [{ startTime: '2000', endTime: '1000' }, -1128, 'startTime'],
    [{ page: '101', limit: '100' }, -1128, 'page'],
    [{ userId: '1' }, -1106, 'userId'],
  ])('refuses %j with %i', async (params, code, mentions) => {
    const res = await search(harness.alice, params);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(res.body.msg).toContain(mentions);
  });
});
