// Unmodified ccxt pro (binance) on the market streams: only its URLs point at Cirrus (REST and WebSocket, the
// snippet of docs/api.md). After a flow of orders, watchTrades has seen exactly /api/v3/trades and
// watchOrderBook (diff depth + REST snapshot, Binance's resync procedure as ccxt implements it) holds exactly
// /api/v3/depth, at the same update id; watchTrades with ccxt's `aggTrade` option (`<symbol>@aggTrade`) has
// seen exactly /api/v3/aggTrades; watchTickers() without symbols (`!miniTicker@arr`, and `!ticker@arr` with
// name 'ticker') holds the 24 h ticker /api/v3/ticker/24hr answers. Then a seeded random flow from three users
// with the engine killed (-9) in the middle and restarted by its supervisor: watchOrderBook still ends equal to
// /api/v3/depth, watchTicker to /ticker/24hr and watchOHLCV('1m') to /klines. (ccxt 4.5.84's watchOrderBook
// never uses the partial depth streams: it takes diff depth whatever the limit.)
import { Worker } from 'node:worker_threads';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '@lambdas/shared/clients';
import { ConnectionStore } from '@lambdas/ws/connection-store';
import type { ApiKey } from '../support/binance-client';
import { prng } from '../support/engine-flow';
import {
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

// ccxt's CommonJS build requires ES modules jest cannot load (see ccxt-compat.test.ts): it runs in a worker
// thread loaded by Node's own require; the watch loops run there and the test reads what they saw.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const ccxt = require('ccxt');
let exchange;
// A second instance with watchTrades on aggTrade (ccxt's option), and the all-market tickers.
let more;
const seen = { trades: [], book: null, aggTrades: [], tickers: {}, miniTickers: {}, ticker: null, miniTicker: null, ohlcv: {}, errors: [] };
const loop = async (watch, onResult) => {
  while (exchange) {
    try { onResult(await watch()); }
    catch (err) { seen.errors.push(String(err && err.message)); await new Promise((r) => setTimeout(r, 200)); }
  }
};
parentPort.on('message', async ({ id, op, args }) => {
  try {
    let result = null;
    if (op === 'new' && !exchange) {
      const [rest, ws] = args;
      // docs/api.md: the only change is the URLs (https://… -> REST, wss://… -> WebSocket).
      const move = (urls) => Object.fromEntries(Object.entries(urls).map(([k, v]) => [k,
        typeof v === 'string' ? v.replace(/^https:\\/\\/[^/]+/, rest).replace(/^wss:\\/\\/[^/]+/, ws) : move(v)]));
      const make = async (options) => {
        const ex = new ccxt.pro.binance({ options });
        ex.urls.api = move(ex.urls.api);
        // ccxt asks for this once before it opens a plain ws:// (non-TLS) URL, as the local one is.
        await ex.loadHttpProxyAgent();
        await ex.loadMarkets();
        return ex;
      };
      exchange = await make({});
      more = await make({ watchTrades: { name: 'aggTrade' } });
    } else if (op === 'watch') {
      const [symbol] = args;
      void loop(() => exchange.watchTrades(symbol), (trades) => {
        for (const t of trades) if (!seen.trades.some((s) => s.id === t.id)) seen.trades.push({ id: t.id, price: t.info.p, amount: t.info.q, side: t.side });
      });
      void loop(() => exchange.watchOrderBook(symbol), (ob) => {
        seen.book = { nonce: ob.nonce, bids: ob.bids.map((l) => [l[0], l[1]]), asks: ob.asks.map((l) => [l[0], l[1]]) };
      });
    } else if (op === 'watchMore') {
      const [symbol] = args;
      // watchTrades on <symbol>@aggTrade: ccxt's trade id is the aggregate id a.
      void loop(() => more.watchTrades(symbol), (trades) => {
        for (const t of trades) if (!seen.aggTrades.some((s) => s.id === t.id)) seen.aggTrades.push({ id: t.id, price: t.info.p, amount: t.info.q, first: t.info.f, last: t.info.l });
      });
      // watchTickers() without symbols: !miniTicker@arr (ccxt's default channel), !ticker@arr with name 'ticker'.
      const keep = (into) => (tickers) => {
        for (const [sym, tk] of Object.entries(tickers)) into[sym] = { e: tk.info.e, last: tk.info.c, open: tk.info.o, high: tk.info.h, low: tk.info.l, baseVolume: tk.info.v, quoteVolume: tk.info.q, count: tk.info.n };
      };
      void loop(() => more.watchTickers(), keep(seen.miniTickers));
      void loop(() => more.watchTickers(undefined, { name: 'ticker' }), keep(seen.tickers));
    } else if (op === 'watchSymbol') {
      const [symbol] = args;
      // watchTicker (ccxt's default <symbol>@miniTicker; <symbol>@ticker with name 'ticker') and watchOHLCV
      // (<symbol>@kline_1m): candles by open time.
      const ticker = (tk) => ({ e: tk.info.e, last: tk.info.c, open: tk.info.o, high: tk.info.h, low: tk.info.l, baseVolume: tk.info.v, quoteVolume: tk.info.q, count: tk.info.n });
      void loop(() => exchange.watchTicker(symbol), (tk) => { seen.miniTicker = ticker(tk); });
      void loop(() => exchange.watchTicker(symbol, { name: 'ticker' }), (tk) => { seen.ticker = ticker(tk); });
      void loop(() => exchange.watchOHLCV(symbol, '1m'), (candles) => {
        for (const c of candles) seen.ohlcv[c[0]] = c;
      });
    } else if (op === 'clearErrors') {
      result = seen.errors.splice(0);
    } else if (op === 'seen') {
      result = seen;
    } else if (op === 'close') {
      const ex = exchange; exchange = undefined; await ex.close(); await more.close();
    }
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(result) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err && err.message) });
  }
});
`;

jest.setTimeout(120_000);

let t: TestExchange;
let worker: Worker;
let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, op, args });
  });
}

beforeAll(async () => {
  t = await startTestExchange(1_000);
  worker = new Worker(WORKER, { eval: true });
  worker.on('message', (m: { id: number; ok: boolean; result?: string; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(JSON.parse(m.result!));
    else p?.reject(new Error(m.error));
  });
});

afterAll(async () => {
  await call('close').catch(() => undefined);
  await worker?.terminate();
  await t?.stop();
});

// RESULT: each order's answer comes once the engine has applied it, so the flow reaches the engine in the
// order written (alice's and bob's commands travel in different SQS message groups, which may interleave).
const order = (key: ApiKey, side: 'BUY' | 'SELL', quantity: string, price: string) =>
  t.api.signed<{ status: string; orderId: number }>('POST', '/api/v3/order', key, {
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity,
    price,
    newOrderRespType: 'RESULT',
  });

type Depth = { lastUpdateId: number; bids: string[][]; asks: string[][] };
const depth = async () =>
  (await t.api.public<Depth>('GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 1000 })).body;

type Ticker = Record<string, string | number>;

/** /api/v3/ticker/24hr as ccxt's ticker (`@ticker`) and mini ticker (`@miniTicker`) entries must read. */
async function restTickers(): Promise<{ ticker: Ticker; miniTicker: Ticker }> {
  const tk = (await t.api.public<Ticker>('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT' })).body;
  const window = {
    last: tk.lastPrice,
    open: tk.openPrice,
    high: tk.highPrice,
    low: tk.lowPrice,
    baseVolume: tk.volume,
    quoteVolume: tk.quoteVolume,
  };
  return {
    ticker: { e: '24hrTicker', ...window, count: tk.count },
    miniTicker: { e: '24hrMiniTicker', ...window },
  };
}
interface Seen {
  trades: Array<{ id: string; price: string; amount: string; side: string }>;
  book: { nonce: number; bids: number[][]; asks: number[][] } | null;
  aggTrades: Array<{ id: string; price: string; amount: string; first: number; last: number }>;
  tickers: Record<string, Ticker>;
  miniTickers: Record<string, Ticker>;
  ticker: Ticker | null;
  miniTicker: Ticker | null;
  ohlcv: Record<string, number[]>;
  errors: string[];
}

describe('ccxt pro binance, unmodified, against Cirrus', () => {
  it('watchTrades, watchOrderBook, watchTrades on aggTrade and watchTickers() agree with /api/v3/trades, /depth, /aggTrades and /ticker/24hr after a flow of orders', async () => {
    const { alice, bob } = t;
    // A book before anyone watches: the snapshot ccxt fetches must carry it.
    for (const [i, price] of ['30010.00', '30020.00', '30030.00'].entries())
      expect((await order(bob, 'SELL', `0.0${i + 1}000`, price)).status).toBe(200);
    expect((await order(alice, 'BUY', '0.01000', '29990.00')).status).toBe(200);
    await eventually(async () => {
      const d = await depth();
      expect([d.bids.length, d.asks.length]).toEqual([1, 3]);
    });

    await call('new', t.ex.restUrl.replace(/\/$/, ''), t.ex.wsUrl);
    await call('watch', 'BTC/USDT');
    await call('watchMore', 'BTC/USDT');
    // Every subscription recorded (ccxt SUBSCRIBEs after connecting to /ws/<n>) before the flow starts.
    const store = new ConnectionStore(dynamoClient(), process.env[TABLES.connections.envVar]!);
    await eventually(async () => {
      expect((await call<Seen>('seen')).errors).toEqual([]);
      for (const stream of [
        'btcusdt@trade',
        'btcusdt@depth@100ms',
        'btcusdt@aggTrade',
        '!ticker@arr',
        '!miniTicker@arr',
      ])
        expect([stream, (await store.subscribers(stream)).length]).toEqual([stream, 1]);
    });

    // The flow: takers across levels from both sides, more resting orders, a cancel.
    const flow: Array<[ApiKey, 'BUY' | 'SELL', string, string]> = [
      [alice, 'BUY', '0.01500', '30020.00'],
      [alice, 'BUY', '0.00500', '30000.00'],
      [bob, 'SELL', '0.02000', '29980.00'],
      [bob, 'SELL', '0.01000', '30040.00'],
      [alice, 'BUY', '0.04000', '30050.00'],
      // Two makers at one price, taken by one order: an aggregate of two trades.
      [bob, 'SELL', '0.00200', '30060.00'],
      [bob, 'SELL', '0.00300', '30060.00'],
      [alice, 'BUY', '0.02500', '30060.00'],
      [alice, 'BUY', '0.00300', '29950.00'],
      [bob, 'SELL', '0.00100', '29950.00'],
    ];
    for (const [key, side, qty, price] of flow) expect((await order(key, side, qty, price)).status).toBe(200);
    const resting = await order(alice, 'BUY', '0.00700', '29900.00');
    await t.api.signed('DELETE', '/api/v3/order', alice, {
      symbol: 'BTCUSDT',
      orderId: resting.body.orderId,
    });

    await eventually(async () => {
      const [d, seen] = await Promise.all([depth(), call<Seen>('seen')]);
      const rest = (
        await t.api.public<Array<{ id: number; price: string; qty: string; isBuyerMaker: boolean }>>(
          'GET',
          '/api/v3/trades',
          { symbol: 'BTCUSDT', limit: 1000 },
        )
      ).body;
      expect(rest.length).toBeGreaterThanOrEqual(6);
      expect(seen.trades).toEqual(
        rest.map((r) => ({
          id: String(r.id),
          price: r.price,
          amount: r.qty,
          side: r.isBuyerMaker ? 'sell' : 'buy',
        })),
      );
      expect(seen.book).not.toBeNull();
      const num = (levels: string[][]) => levels.map(([p, q]) => [Number(p), Number(q)]);
      expect(seen.book).toEqual({ nonce: d.lastUpdateId, bids: num(d.bids), asks: num(d.asks) });
    }, 30_000);

    await eventually(
      async () => {
        const seen = await call<Seen>('seen');
        // watchTrades on aggTrade: exactly /api/v3/aggTrades (some aggregates hold several trades).
        const aggs = (
          await t.api.public<Array<{ a: number; p: string; q: string; f: number; l: number }>>(
            'GET',
            '/api/v3/aggTrades',
            { symbol: 'BTCUSDT', limit: 1000 },
          )
        ).body;
        expect(aggs.some((g) => g.l > g.f)).toBe(true);
        expect(seen.aggTrades).toEqual(
          aggs.map((g) => ({ id: String(g.a), price: g.p, amount: g.q, first: g.f, last: g.l })),
        );

        // watchTickers(): the all-market arrays' BTC/USDT entry is the 24 h ticker /api/v3/ticker/24hr answers.
        const { ticker, miniTicker } = await restTickers();
        expect(seen.tickers['BTC/USDT']).toEqual(ticker);
        expect(seen.miniTickers['BTC/USDT']).toEqual(miniTicker);
      },
      20_000,
      500, // the REST answers' weight: well inside the per-minute limit
    );
    const { errors } = await call<Seen>('seen');
    expect(errors).toEqual([]);
  });

  it('a random flow from three users across an engine restart: watchOrderBook ends equal to /depth, watchTicker (ticker, miniTicker) to /ticker/24hr, watchOHLCV to /klines', async () => {
    const carol = await registerFundedUser(t.api, t.pg.url, 'carol', { BTC: '1', USDT: '100000' });
    await call('new', t.ex.restUrl.replace(/\/$/, ''), t.ex.wsUrl); // (made once: the first test's)
    await call('watchSymbol', 'BTC/USDT');
    const store = new ConnectionStore(dynamoClient(), process.env[TABLES.connections.envVar]!);
    await eventually(async () => {
      for (const stream of ['btcusdt@ticker', 'btcusdt@miniTicker', 'btcusdt@kline_1m'])
        expect([stream, (await store.subscribers(stream)).length]).toEqual([stream, 1]);
    });
    const random = prng(20261204);
    const users = [t.alice, t.bob, carol];
    const step = async () => {
      const key = users[Math.floor(random() * users.length)];
      const side = random() < 0.5 ? 'BUY' : 'SELL';
      const price = (29_950 + Math.floor(random() * 11) * 10).toFixed(2);
      const qty = (0.001 * (1 + Math.floor(random() * 9))).toFixed(5);
      // While the engine recovers the exchange sheds orders (503 -1008): a client tries again, as Binance asks.
      let res = await order(key, side, qty, price);
      for (let tries = 0; res.status === 503 && tries < 60; tries++) {
        await new Promise((r) => setTimeout(r, 500));
        res = await order(key, side, qty, price);
      }
      expect(res.status).toBe(200);
    };
    for (let i = 0; i < 20; i++) await step();
    // The engine dies; its supervisor restarts it, and it recovers from its snapshot and the queue.
    const before = t.ex.restarts().engine;
    t.ex.engine().kill('SIGKILL');
    await eventually(async () => expect(t.ex.restarts().engine).toBe(before + 1), 60_000);
    for (let i = 0; i < 20; i++) await step();

    await eventually(
      async () => {
        const [d, seen] = await Promise.all([depth(), call<Seen>('seen')]);
        const num = (levels: string[][]) => levels.map(([p, q]) => [Number(p), Number(q)]);
        expect(seen.book).toEqual({ nonce: d.lastUpdateId, bids: num(d.bids), asks: num(d.asks) });
        const { ticker, miniTicker } = await restTickers();
        expect(seen.ticker).toEqual(ticker);
        expect(seen.miniTicker).toEqual(miniTicker);
        // Every candle /klines has (this test's minutes), as ccxt parsed it from the kline stream.
        const klines = (
          await t.api.public<Array<Array<string | number>>>('GET', '/api/v3/klines', {
            symbol: 'BTCUSDT',
            interval: '1m',
          })
        ).body;
        expect(klines.length).toBeGreaterThan(0);
        const last = klines[klines.length - 1];
        expect(seen.ohlcv[String(last[0])]).toEqual([
          Number(last[0]),
          ...[1, 2, 3, 4, 5].map((i) => Number(last[i])),
        ]);
      },
      30_000,
      500,
    );
    // A restart may make ccxt resynchronise the book (its watch loop sees an error and starts over); what it
    // ends with is what counts. Reported, not required to be empty.
    const errors = await call<string[]>('clearErrors');
    console.log(`ccxt errors across the engine restart: ${JSON.stringify(errors)}`);
  });
});
