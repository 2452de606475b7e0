// Two users trade BTCUSDT through signed HTTP requests on the local exchange (stand-ins + real PostgreSQL):
// balances, fees, /account, /myTrades, /depth agree and the ledger conserves every asset (docs/architecture.md#invariants, 1).
import fc from 'fast-check';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import type { TestPostgres } from '../support/postgres';
import {
  checkConservation,
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

jest.setTimeout(180_000);

let pg: TestPostgres;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;

type Balance = { asset: string; free: string; locked: string };
type Account = { balances: Balance[] };

async function balances(key: ApiKey): Promise<Record<string, Balance>> {
  const res = await api.signed<Account>('GET', '/api/v3/account', key);
  expect(res.status).toBe(200);
  return Object.fromEntries(res.body.balances.map((b) => [b.asset, b]));
}

let harness: TestExchange;

beforeAll(async () => {
  harness = await startTestExchange(25);
  ({ pg, api, alice, bob } = harness);
});

afterAll(async () => {
  await harness?.stop();
});

describe('trading end to end', () => {
  it('settles a trade: balances, fees, /account, /myTrades, /order and /depth agree', async () => {
    const a0 = await balances(alice);
    const b0 = await balances(bob);

    const sell = await api.signed<{ orderId: number; status: string }>('POST', '/api/v3/order', alice, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.50000',
      price: '30000.00',
      newOrderRespType: 'RESULT',
    });
    expect(sell.status).toBe(200);
    expect(sell.body.status).toBe('NEW');

    const buy = await api.signed<{
      orderId: number;
      status: string;
      fills: Array<{ price: string; qty: string; commission: string; commissionAsset: string }>;
    }>('POST', '/api/v3/order', bob, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.2',
      price: '30100',
      newOrderRespType: 'FULL',
    });
    expect(buy.status).toBe(200);
    expect(buy.body.status).toBe('FILLED');
    expect(buy.body.fills).toEqual([
      {
        price: '30000.00000000',
        qty: '0.20000000',
        commission: '0.00020000',
        commissionAsset: 'BTC',
        tradeId: 1,
      },
    ]);

    // Settlement is asynchronous (Kinesis → data processor): wait for it, then check every number.
    await eventually(async () => expect((await balances(bob)).BTC.free).not.toBe(b0.BTC.free));
    const a1 = await balances(alice);
    const b1 = await balances(bob);
    // bob paid 6000 USDT (the buy locked 0.2 × 30100 and got the difference back when it filled)
    expect(dec(b1.USDT.free)).toBe(dec(b0.USDT.free) - 6000_0000_0000n);
    expect(b1.USDT.locked).toBe('0.00000000');
    // bob received 0.2 BTC less the 0.1 % taker fee
    expect(dec(b1.BTC.free)).toBe(dec(b0.BTC.free) + 1998_0000n);
    // alice sold 0.2 of 0.5 BTC: 0.3 still locked by her open order; got 6000 USDT less the 0.1 % maker fee
    expect(dec(a1.BTC.free)).toBe(dec(a0.BTC.free) - 5000_0000n);
    expect(a1.BTC.locked).toBe('0.30000000');
    expect(dec(a1.USDT.free)).toBe(dec(a0.USDT.free) + 5994_0000_0000n);

    const bobTrades = await api.signed<Array<Record<string, unknown>>>('GET', '/api/v3/myTrades', bob, {
      symbol: 'BTCUSDT',
    });
    expect(bobTrades.status).toBe(200);
    expect(bobTrades.body).toEqual([
      expect.objectContaining({
        symbol: 'BTCUSDT',
        id: 1,
        orderId: buy.body.orderId,
        price: '30000.00000000',
        qty: '0.20000000',
        quoteQty: '6000.00000000',
        commission: '0.00020000',
        commissionAsset: 'BTC',
        isBuyer: true,
        isMaker: false,
      }),
    ]);
    const aliceTrades = await api.signed<Array<Record<string, unknown>>>('GET', '/api/v3/myTrades', alice, {
      symbol: 'BTCUSDT',
    });
    expect(aliceTrades.body).toEqual([
      expect.objectContaining({
        id: 1,
        isBuyer: false,
        isMaker: true,
        commission: '6.00000000',
        commissionAsset: 'USDT',
      }),
    ]);

    await eventually(async () => {
      const order = await api.signed<{ status: string; executedQty: string }>('GET', '/api/v3/order', alice, {
        symbol: 'BTCUSDT',
        orderId: sell.body.orderId,
      });
      expect(order.body).toEqual(
        expect.objectContaining({ status: 'PARTIALLY_FILLED', executedQty: '0.20000000' }),
      );
    });
    await eventually(async () => {
      const depth = await api.public<{ lastUpdateId: number; asks: string[][]; bids: string[][] }>(
        'GET',
        '/api/v3/depth',
        { symbol: 'BTCUSDT' },
      );
      expect(depth.body.asks).toEqual(
        [['30000.00', '0.30000']].map(([p, q]) => [
          expect.stringMatching(new RegExp(`^${p}0*$`)),
          expect.stringMatching(new RegExp(`^${q}0*$`)),
        ]),
      );
      expect(depth.body.bids).toEqual([]);
      expect(depth.body.lastUpdateId).toBeGreaterThan(0);
    });
    await checkConservation(pg.url);
  });

  it('public trades, klines and the 24 h ticker reflect the trades (high/low, volume, counts)', async () => {
    // ETHUSDT is untouched by the other tests: three trades at 2000, then a new high, then a new low.
    const prices = ['2000.00', '2100.00', '1900.00'];
    for (const price of prices) {
      const sell = await api.signed<{ orderId: number }>('POST', '/api/v3/order', alice, {
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.5',
        price,
        newOrderRespType: 'RESULT',
      });
      expect(sell.status).toBe(200);
      const buy = await api.signed<{ status: string }>('POST', '/api/v3/order', bob, {
        symbol: 'ETHUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'IOC',
        quantity: '0.5',
        price,
        newOrderRespType: 'RESULT',
      });
      expect(buy.body.status).toBe('FILLED');
    }
    type Kline = [
      number,
      string,
      string,
      string,
      string,
      string,
      number,
      string,
      number,
      string,
      string,
      string,
    ];
    const sum = (xs: string[]) => xs.reduce((a, x) => a + Number(x), 0);
    await eventually(async () => {
      const trades = await api.public<Array<{ price: string; qty: string }>>('GET', '/api/v3/trades', {
        symbol: 'ETHUSDT',
      });
      expect(trades.body.map((t) => t.price)).toEqual(['2000.00000000', '2100.00000000', '1900.00000000']);
      for (const interval of ['1m', '1h', '1d']) {
        const res = await api.public<Kline[]>('GET', '/api/v3/klines', { symbol: 'ETHUSDT', interval });
        expect(res.status).toBe(200);
        const k = res.body;
        // The trades may straddle a bucket boundary: check the candles together.
        expect(k.reduce((n, c) => n + c[8], 0)).toBe(3);
        expect(Math.max(...k.map((c) => Number(c[2])))).toBe(2100);
        expect(Math.min(...k.map((c) => Number(c[3])))).toBe(1900);
        expect(Number(k[0][1])).toBe(2000);
        expect(Number(k[k.length - 1][4])).toBe(1900);
        expect(sum(k.map((c) => c[5]))).toBeCloseTo(1.5, 8);
        expect(sum(k.map((c) => c[7]))).toBeCloseTo(0.5 * (2000 + 2100 + 1900), 6);
      }
    });
    const ticker = await api.public<Record<string, string | number>>('GET', '/api/v3/ticker/24hr', {
      symbol: 'ETHUSDT',
    });
    expect(Number(ticker.body.highPrice)).toBe(2100);
    expect(Number(ticker.body.lowPrice)).toBe(1900);
    expect(Number(ticker.body.lastPrice)).toBe(1900);
    expect(Number(ticker.body.volume)).toBeCloseTo(1.5, 8);
    expect(ticker.body.count).toBe(3);
    const bad = await api.public<{ code: number }>('GET', '/api/v3/klines', {
      symbol: 'ETHUSDT',
      interval: '7m',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(-1120);
  });

  it('never overdraws: 50 concurrent orders against one balance', async () => {
    const carol = await registerFundedUser(api, pg.url, 'carol', { USDT: '1000' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.signed<{ code?: number }>('POST', '/api/v3/order', carol, {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01',
          price: String(10000 - i), // 100 − 0.01·i USDT each: the first ~10 fit into 1000 USDT
          newOrderRespType: 'ACK',
        }),
      ),
    );
    const accepted = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 400 && r.body.code === -2010).length;
    expect(accepted + refused).toBe(50);
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(10);
    const b = await balances(carol);
    expect(dec(b.USDT.free)).toBeGreaterThanOrEqual(0n);
    expect(dec(b.USDT.free) + dec(b.USDT.locked)).toBe(1000_0000_0000n);
    await checkConservation(pg.url);
  });

  it('rejects bad input with Binance errors and changes nothing', async () => {
    const before = await balances(alice);
    const order = {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01',
      price: '20000',
    };
    const cases: Array<[string, Promise<{ status: number; body: unknown }>, number, number]> = [
      ['unsigned', api.raw('POST', '/api/v3/order?' + new URLSearchParams(order).toString()), 401, -2014],
      [
        'wrong signature',
        api.signed('POST', '/api/v3/order', alice, order, { signatureOverride: 'ab'.repeat(32) }),
        400,
        -1022,
      ],
      [
        'stale timestamp',
        api.signed('POST', '/api/v3/order', alice, order, { timestamp: Date.now() - 120_000 }),
        400,
        -1021,
      ],
      [
        'unknown symbol',
        api.signed('POST', '/api/v3/order', alice, { ...order, symbol: 'DOGEUSDT' }),
        400,
        -1121,
      ],
      [
        'off-grid price',
        api.signed('POST', '/api/v3/order', alice, { ...order, price: '20000.001' }),
        400,
        -1013,
      ],
      [
        'quantity below minimum',
        api.signed('POST', '/api/v3/order', alice, { ...order, quantity: '0.000001' }),
        400,
        -1013,
      ],
      [
        'below min notional',
        api.signed('POST', '/api/v3/order', alice, { ...order, quantity: '0.00001', price: '100' }),
        400,
        -1013,
      ],
      ['missing side', api.signed('POST', '/api/v3/order', alice, { ...order, side: undefined }), 400, -1102],
      [
        'malformed quantity',
        api.signed('POST', '/api/v3/order', alice, { ...order, quantity: '1e3' }),
        400,
        -1100,
      ],
      [
        'insufficient balance',
        api.signed('POST', '/api/v3/order', alice, { ...order, quantity: '100', price: '900000' }),
        400,
        -2010,
      ],
      [
        'malformed form body',
        api.raw('POST', '/api/v3/order', '%%%=&&', {
          'X-MBX-APIKEY': alice.apiKey,
          'content-type': 'application/x-www-form-urlencoded',
        }),
        400,
        -1100,
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call;
      expect({ name, status: res.status, code: (res.body as { code?: number }).code }).toEqual({
        name,
        status,
        code,
      });
      expect(typeof (res.body as { msg?: unknown }).msg).toBe('string');
    }
    // Another user's order: not found for the caller, and not cancellable.
    const bobs = await api.signed<{ orderId: number }>('POST', '/api/v3/order', bob, {
      ...order,
      newOrderRespType: 'ACK',
    });
    expect(bobs.status).toBe(200);
    const peek = await api.signed<{ code: number }>('GET', '/api/v3/order', alice, {
      symbol: 'BTCUSDT',
      orderId: bobs.body.orderId,
    });
    expect([peek.status, peek.body.code]).toEqual([400, -2013]);
    const steal = await api.signed<{ code: number }>('DELETE', '/api/v3/order', alice, {
      symbol: 'BTCUSDT',
      orderId: bobs.body.orderId,
    });
    expect([steal.status, steal.body.code]).toEqual([400, -2011]);

    expect(await balances(alice)).toEqual(before);
  });

  it('fuzzed order requests never produce a 5xx', async () => {
    const value = fc.oneof(
      fc.constantFrom(
        'BTCUSDT',
        'ETHUSDT',
        'BUY',
        'SELL',
        'LIMIT',
        'MARKET',
        'GTC',
        'IOC',
        '0.01',
        '30000',
        '-1',
        '0',
        '1e9',
        '',
      ),
      fc.string({ maxLength: 12 }),
    );
    const params = fc.dictionary(
      fc.constantFrom(
        'symbol',
        'side',
        'type',
        'timeInForce',
        'quantity',
        'price',
        'quoteOrderQty',
        'stopPrice',
        'icebergQty',
        'newOrderRespType',
        'newClientOrderId',
        'selfTradePreventionMode',
        'recvWindow',
      ),
      value,
    );
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        const res = await api.signed('POST', '/api/v3/order', alice, { ...p, newOrderRespType: 'ACK' });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});

/** "123.45600000" → 12345600000n (8 decimals, the ledger scale of every listed asset). */
function dec(s: string): bigint {
  const [i, f = ''] = s.split('.');
  return BigInt(i + f.padEnd(8, '0').slice(0, 8));
}
