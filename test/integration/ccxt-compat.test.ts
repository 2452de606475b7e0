// Unmodified ccxt (binance) against the local exchange: only its URLs point at Cirrus (the snippet of
// docs/api.md). Two users trade BTCUSDT through ccxt's unified methods; values are checked exactly (decimal
// strings from `info` where ccxt keeps them, balances moved by exactly the trades), and the responses of the
// issue-13 endpoints are checked against Binance's published OpenAPI schemas (test/fixtures/binance-openapi).
import type * as CcxtModule from 'ccxt';
import { formatUnits, parseUnits } from '@lambdas/shared/money';
import { checkResponse } from '../fixtures/binance-openapi/validate';
import type { ApiKey, BinanceTestClient } from '../support/binance-client';
import { CcxtWorker } from '@test/support/ccxt-worker';
import { eventually, startTestExchange, type TestExchange } from '../support/exchange-helpers';

type Binance = InstanceType<typeof CcxtModule.binance>;
type Remote = Pick<
  Binance,
  | 'loadMarkets'
  | 'fetchStatus'
  | 'fetchTime'
  | 'fetchTradingFees'
  | 'fetchTradingFee'
  | 'createOrder'
  | 'fetchOrder'
  | 'fetchOpenOrders'
  | 'cancelOrder'
  | 'fetchOrderBook'
  | 'fetchMyTrades'
  | 'fetchBalance'
  | 'fetchTrades'
  | 'fetchOHLCV'
  | 'fetchTicker'
  | 'fetchTickers'
> & { get(property: string): Promise<unknown> };

let ccxt: CcxtWorker;

/** A ccxt binance instance in the worker, with only its URLs pointed at `base`. */
async function cirrus(name: string, base: string, key?: ApiKey): Promise<Remote> {
  await ccxt.add(name, key ? { apiKey: key.apiKey, secret: key.secretKey } : {}, base);
  return new Proxy({} as Remote, {
    // Not a thenable: `await` must not take the proxy for a promise.
    get: (_t, method: string) =>
      method === 'then'
        ? undefined
        : method === 'get'
          ? (property: string) => ccxt.call(name, 'get', [property])
          : (...args: unknown[]) => ccxt.call(name, method, args),
  });
}

jest.setTimeout(120_000);

let harness: TestExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;
let exA: Remote;
let exB: Remote;
let pub: Remote;

type RawBalance = { asset: string; free: string; locked: string };
async function rawBalances(ex: Remote): Promise<Record<string, RawBalance>> {
  const b = await ex.fetchBalance();
  const list = (b.info as { balances: RawBalance[] }).balances;
  return Object.fromEntries(list.map((x) => [x.asset, x]));
}
const units = (s: string) => parseUnits(s, 8);
const total = (b: RawBalance) => units(b.free) + units(b.locked);
const moved = (before: RawBalance, after: RawBalance) => formatUnits(total(after) - total(before), 8);

beforeAll(async () => {
  harness = await startTestExchange(1000);
  ({ api, alice, bob } = harness);
  ccxt = new CcxtWorker();
  const base = harness.ex.restUrl.replace(/\/$/, '');
  [exA, exB, pub] = await Promise.all([
    cirrus('alice', base, alice),
    cirrus('bob', base, bob),
    cirrus('public', base),
  ]);
});

afterAll(async () => {
  await ccxt?.terminate();
  await harness?.stop();
});

describe('ccxt binance, unmodified, against Cirrus', () => {
  it('loads only the spot markets, with the exchange filters as precision and limits', async () => {
    const markets = await exA.loadMarkets();
    // What ccxt's loadMarkets asks for, with keys: every one answered (none -1020).
    expect(((await exA.get('requests')) as string[]).sort()).toEqual([
      'GET /api/v3/exchangeInfo',
      'GET /dapi/v1/exchangeInfo',
      'GET /fapi/v1/exchangeInfo',
      'GET /sapi/v1/capital/config/getall',
      'GET /sapi/v1/margin/allPairs',
      'GET /sapi/v1/margin/allPairs',
      'GET /sapi/v1/margin/isolated/allPairs',
    ]);
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    const btc = markets['BTC/USDT'];
    expect(btc).toMatchObject({
      id: 'BTCUSDT',
      base: 'BTC',
      quote: 'USDT',
      type: 'spot',
      spot: true,
      margin: false,
      swap: false,
      future: false,
      option: false,
      active: true,
      precision: { price: 0.01, amount: 0.00001 },
      limits: { amount: { min: 0.00001, max: 9000 }, price: { min: 0.01, max: 1000000 }, cost: { min: 5 } },
    });
    // The coins of /sapi/v1/capital/config/getall, plus BNFCR, which ccxt's binance class always adds itself.
    const currencies = (await exA.get('currencies')) as Record<string, { name: string }>;
    expect(Object.keys(currencies).sort()).toEqual(['BNFCR', 'BTC', 'ETH', 'USDT']);
    expect(currencies.BTC.name).toBe('Bitcoin');
    // Without keys ccxt skips the signed calls and still loads the same markets.
    expect(Object.keys(await pub.loadMarkets()).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(((await pub.get('requests')) as string[]).sort()).toEqual([
      'GET /api/v3/exchangeInfo',
      'GET /dapi/v1/exchangeInfo',
      'GET /fapi/v1/exchangeInfo',
    ]);
    await exB.loadMarkets();
  });

  it('fetchStatus, fetchTime, fetchTradingFees', async () => {
    expect((await pub.fetchStatus()).status).toBe('ok');
    // The maintenance answer ({status:1,msg:'system_maintenance'}) comes from configuration read once per
    // container, so it is checked where the configuration can be set: test/unit/function-config.test.ts.
    const status = await api.public('GET', '/sapi/v1/system/status');
    expect(status.body).toEqual({ status: 0, msg: 'normal' });
    expect(checkResponse('/sapi/v1/system/status', status.body)).toEqual([]);

    const before = Date.now();
    const time = await pub.fetchTime();
    expect(time).toBeGreaterThanOrEqual(before - 1);
    expect(time).toBeLessThanOrEqual(Date.now() + 1);

    const one = await exA.fetchTradingFee('ETH/USDT');
    expect(one).toMatchObject({ symbol: 'ETH/USDT', maker: 0.001, taker: 0.001 });
    const fees = await exA.fetchTradingFees();
    expect(Object.keys(fees).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(fees['BTC/USDT']).toMatchObject({ symbol: 'BTC/USDT', maker: 0.001, taker: 0.001 });
    expect(fees['BTC/USDT'].info).toEqual({
      symbol: 'BTCUSDT',
      makerCommission: '0.001',
      takerCommission: '0.001',
    });
  });

  it('trades between two users: orders, book, trades, candles, tickers and balances agree exactly', async () => {
    const a0 = await rawBalances(exA);
    const b0 = await rawBalances(exB);

    // Two resting asks at one price, so one taker order trades twice at it (one aggregate trade).
    const a1 = await exA.createOrder('BTC/USDT', 'limit', 'sell', 0.1, 30000);
    const a2 = await exA.createOrder('BTC/USDT', 'limit', 'sell', 0.4, 30000);
    expect(a1.status).toBe('open');
    expect(a2.info).toMatchObject({ price: '30000.00000000', origQty: '0.40000000', status: 'NEW' });

    const fetched = await exA.fetchOrder(a2.id!, 'BTC/USDT');
    expect(fetched).toMatchObject({ id: a2.id, status: 'open', price: 30000, amount: 0.4, filled: 0 });
    const open = await exA.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => o.id).sort()).toEqual([a1.id, a2.id].sort());

    // The book: ccxt's view equals /api/v3/depth.
    await eventually(async () => {
      const book = await pub.fetchOrderBook('BTC/USDT');
      expect(book.asks).toEqual([[30000, 0.5]]);
      const depth = await api.public<{ lastUpdateId: number; bids: string[][]; asks: string[][] }>(
        'GET',
        '/api/v3/depth',
        { symbol: 'BTCUSDT' },
      );
      expect(depth.body.asks).toEqual([['30000.00000000', '0.50000000']]);
      expect(book.nonce).toBe(depth.body.lastUpdateId);
      expect(book.bids).toEqual(depth.body.bids.map(([p, q]) => [Number(p), Number(q)]));
    });

    // bob: a limit buy through both asks (trades 1 and 2), then a market buy (trade 3).
    const buy = await exB.createOrder('BTC/USDT', 'limit', 'buy', 0.2, 30100);
    expect(buy).toMatchObject({ status: 'closed', filled: 0.2, remaining: 0, average: 30000, cost: 6000 });
    expect((buy.info as { fills: unknown[] }).fills).toEqual([
      {
        price: '30000.00000000',
        qty: '0.10000000',
        commission: '0.00010000',
        commissionAsset: 'BTC',
        tradeId: 1,
      },
      {
        price: '30000.00000000',
        qty: '0.10000000',
        commission: '0.00010000',
        commissionAsset: 'BTC',
        tradeId: 2,
      },
    ]);
    const mbuy = await exB.createOrder('BTC/USDT', 'market', 'buy', 0.1);
    expect(mbuy).toMatchObject({ type: 'market', status: 'closed', filled: 0.1, average: 30000 });
    expect(mbuy.info).toMatchObject({
      type: 'MARKET',
      executedQty: '0.10000000',
      cummulativeQuoteQty: '3000.00000000',
    });

    // bob rests a bid, alice sells into it at market (trade 4, buyer is maker).
    const bid = await exB.createOrder('BTC/USDT', 'limit', 'buy', 0.05, 29000);
    expect(bid.status).toBe('open');
    const msell = await exA.createOrder('BTC/USDT', 'market', 'sell', 0.05);
    expect(msell).toMatchObject({ status: 'closed', filled: 0.05, average: 29000, cost: 1450 });

    // alice cancels what is left of her second ask (0.4 − 0.1 − 0.1).
    const canceled = await exA.cancelOrder(a2.id!, 'BTC/USDT');
    expect(canceled).toMatchObject({ id: a2.id, status: 'canceled', filled: 0.2, remaining: 0.2 });
    expect(canceled.info).toMatchObject({ executedQty: '0.20000000', origQty: '0.40000000' });
    expect((await exA.fetchOrder(a2.id!, 'BTC/USDT')).status).toBe('canceled');
    expect(await exA.fetchOpenOrders('BTC/USDT')).toEqual([]);

    // Fills, as each user sees them.
    await eventually(async () => {
      const mine = await exB.fetchMyTrades('BTC/USDT');
      expect(mine.map((t) => [t.id, t.side, t.takerOrMaker, t.price, t.amount, t.cost])).toEqual([
        ['1', 'buy', 'taker', 30000, 0.1, 3000],
        ['2', 'buy', 'taker', 30000, 0.1, 3000],
        ['3', 'buy', 'taker', 30000, 0.1, 3000],
        ['4', 'buy', 'maker', 29000, 0.05, 1450],
      ]);
      expect(mine.map((t) => (t.info as { commission: string }).commission)).toEqual([
        '0.00010000',
        '0.00010000',
        '0.00010000',
        '0.00005000',
      ]);
    });
    const aliceTrades = await exA.fetchMyTrades('BTC/USDT');
    expect(aliceTrades.map((t) => [t.id, t.side, (t.info as { commission: string }).commission])).toEqual([
      ['1', 'sell', '3.00000000'],
      ['2', 'sell', '3.00000000'],
      ['3', 'sell', '3.00000000'],
      ['4', 'sell', '1.45000000'],
    ]);

    // Balances moved by exactly the trades: 0.35 BTC for 10,450 USDT, fees 0.1 % of what each received.
    await eventually(async () => {
      const [a1b, b1b] = [await rawBalances(exA), await rawBalances(exB)];
      expect(moved(a0.BTC, a1b.BTC)).toBe('-0.35000000');
      expect(moved(a0.USDT, a1b.USDT)).toBe('10439.55000000');
      expect(moved(b0.BTC, b1b.BTC)).toBe('0.34965000');
      expect(moved(b0.USDT, b1b.USDT)).toBe('-10450.00000000');
      expect(a1b.BTC.locked).toBe('0.00000000');
      expect(b1b.USDT.locked).toBe('0.00000000');
    });
    const balance = await exB.fetchBalance();
    expect(balance.BTC.total).toBe(Number(formatUnits(total(b0.BTC) + units('0.34965'), 8)));

    // Public trades through ccxt's default (aggTrades): trades 1 and 2 are one aggregate.
    await eventually(async () => {
      const trades = await pub.fetchTrades('BTC/USDT');
      expect(trades.map((t) => [t.id, t.side, t.price, t.amount])).toEqual([
        ['1', 'buy', 30000, 0.2],
        ['3', 'buy', 30000, 0.1],
        ['4', 'sell', 29000, 0.05],
      ]);
    });
    const agg = await api.public<Array<Record<string, unknown>>>('GET', '/api/v3/aggTrades', {
      symbol: 'BTCUSDT',
    });
    expect(checkResponse('/api/v3/aggTrades', agg.body)).toEqual([]);
    expect(agg.body.map(({ T: _T, ...rest }) => rest)).toEqual([
      { a: 1, p: '30000.00000000', q: '0.20000000', f: 1, l: 2, m: false, M: true },
      { a: 3, p: '30000.00000000', q: '0.10000000', f: 3, l: 3, m: false, M: true },
      { a: 4, p: '29000.00000000', q: '0.05000000', f: 4, l: 4, m: true, M: true },
    ]);
    // fromId inside an aggregate starts at the next one; limit keeps the most recent; the ids never change.
    const ids = async (params: Record<string, string | number>) =>
      (
        await api.public<Array<{ a: number }>>('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', ...params })
      ).body.map((x) => x.a);
    expect(await ids({ fromId: 2 })).toEqual([3, 4]);
    expect(await ids({ fromId: 1, limit: 2 })).toEqual([1, 3]);
    expect(await ids({ limit: 1 })).toEqual([4]);
    const t0 = agg.body[0].T as number;
    expect(await ids({ startTime: t0, endTime: Date.now() })).toEqual([1, 3, 4]);
    expect(await ids({ endTime: Date.now(), limit: 2 })).toEqual([3, 4]);
    expect(await ids({ startTime: Date.now() + 60_000 })).toEqual([]);
    expect(await ids({ startTime: t0 + 1, endTime: t0 })).toEqual([]);
    const reversed = await api.public('GET', '/api/v3/klines', {
      symbol: 'BTCUSDT',
      interval: '1m',
      startTime: t0 + 60_000,
      endTime: t0 - 60_000,
    });
    expect(reversed).toMatchObject({ status: 200, body: [] });
    const since = await pub.fetchTrades('BTC/USDT', t0);
    expect(since.map((t) => t.id)).toEqual(['1', '3', '4']);
    // The other trade methods ccxt offers: /trades and /historicalTrades (one item per trade; ccxt sends its
    // key to the latter, which Binance once required, so a keyed instance asks).
    for (const fetchTradesMethod of ['publicGetTrades', 'publicGetHistoricalTrades']) {
      const each = await exA.fetchTrades('BTC/USDT', undefined, undefined, { fetchTradesMethod });
      expect(each.map((t) => [t.id, t.price, t.amount])).toEqual([
        ['1', 30000, 0.1],
        ['2', 30000, 0.1],
        ['3', 30000, 0.1],
        ['4', 29000, 0.05],
      ]);
    }

    // Candles and tickers from the same four trades.
    await eventually(async () => {
      const candles = await pub.fetchOHLCV('BTC/USDT', '1m');
      expect(candles.length).toBeGreaterThanOrEqual(1);
      expect(candles[0][1]).toBe(30000);
      expect(Math.max(...candles.map((c) => c[2] as number))).toBe(30000);
      expect(Math.min(...candles.map((c) => c[3] as number))).toBe(29000);
      expect(candles[candles.length - 1][4]).toBe(29000);
      const volume = candles.reduce((s, c) => s + parseUnits(String(c[5]), 8), 0n);
      expect(formatUnits(volume, 8)).toBe('0.35000000');
    });
    const ticker = await pub.fetchTicker('BTC/USDT');
    expect(ticker).toMatchObject({
      open: 30000,
      high: 30000,
      low: 29000,
      last: 29000,
      baseVolume: 0.35,
      quoteVolume: 10450,
    });
    expect(ticker.info).toMatchObject({ volume: '0.35000000', quoteVolume: '10450.00000000', count: 4 });
    const tickers = await pub.fetchTickers(['BTC/USDT', 'ETH/USDT']);
    expect(Object.keys(tickers).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(tickers['BTC/USDT'].last).toBe(29000);

    // The rolling-window ticker agrees with the 24 h one; the average price is 10450 / 0.35, rounded down.
    const rolling = await api.public<Record<string, unknown>>('GET', '/api/v3/ticker', {
      symbol: 'BTCUSDT',
      windowSize: '1h',
    });
    expect(checkResponse('/api/v3/ticker', rolling.body)).toEqual([]);
    expect(rolling.body).toMatchObject({
      symbol: 'BTCUSDT',
      priceChange: '-1000.00000000',
      priceChangePercent: '-3.333',
      weightedAvgPrice: '29857.14285714',
      openPrice: '30000.00000000',
      highPrice: '30000.00000000',
      lowPrice: '29000.00000000',
      lastPrice: '29000.00000000',
      volume: '0.35000000',
      quoteVolume: '10450.00000000',
      firstId: 1,
      lastId: 4,
      count: 4,
    });
    const minis = await api.public<Array<Record<string, unknown>>>('GET', '/api/v3/ticker', {
      symbols: '["BTCUSDT","ETHUSDT"]',
      windowSize: '30m',
      type: 'MINI',
    });
    expect(minis.body.map((t) => Object.keys(t))).toEqual(
      Array(2).fill([
        'symbol',
        'openPrice',
        'highPrice',
        'lowPrice',
        'lastPrice',
        'volume',
        'quoteVolume',
        'openTime',
        'closeTime',
        'firstId',
        'lastId',
        'count',
      ]),
    );
    expect(minis.body[1]).toMatchObject({
      symbol: 'ETHUSDT',
      lastPrice: '0.00000000',
      firstId: -1,
      count: 0,
    });
    // /ticker/24hr is the 1d rolling window with the book and last-trade fields added.
    const [day, h24] = await Promise.all([
      api.public<Record<string, unknown>>('GET', '/api/v3/ticker', { symbol: 'BTCUSDT' }),
      api.public<Record<string, unknown>>('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT' }),
    ]);
    const { closeTime: _c1, ...dayStats } = day.body;
    const { closeTime: _c2, ...h24Stats } = h24.body;
    expect(h24Stats).toMatchObject(dayStats);
    expect(h24.body).toMatchObject({
      weightedAvgPrice: '29857.14285714',
      lastQty: '0.05000000',
      bidPrice: '0.00000000',
    });
    const rollingCcxt = await pub.fetchTicker('BTC/USDT', { rolling: true, windowSize: '1h' });
    expect(rollingCcxt.last).toBe(29000);
    const avg = await api.public('GET', '/api/v3/avgPrice', { symbol: 'BTCUSDT' });
    expect(checkResponse('/api/v3/avgPrice', avg.body)).toEqual([]);
    expect(avg.body).toMatchObject({ mins: 5, price: '29857.14285714' });

    const historical = await api.public<Array<{ id: number }>>('GET', '/api/v3/historicalTrades', {
      symbol: 'BTCUSDT',
      fromId: 2,
      limit: 2,
    });
    expect(checkResponse('/api/v3/historicalTrades', historical.body)).toEqual([]);
    expect(historical.body.map((t) => t.id)).toEqual([2, 3]);
    const ui = await api.public<unknown[][]>('GET', '/api/v3/uiKlines', {
      symbol: 'BTCUSDT',
      interval: '1m',
    });
    const kl = await api.public<unknown[][]>('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m' });
    expect(checkResponse('/api/v3/uiKlines', ui.body)).toEqual([]);
    expect(ui.body).toEqual(kl.body);
    // A time zone that moves the hour boundaries: hours merged from 30-minute candles, same totals.
    const shifted = await api.public<unknown[][]>('GET', '/api/v3/uiKlines', {
      symbol: 'BTCUSDT',
      interval: '1h',
      timeZone: '-0:30',
    });
    expect(checkResponse('/api/v3/uiKlines', shifted.body)).toEqual([]);
    for (const k of shifted.body) expect(((k[0] as number) + 1_800_000) % 3_600_000).toBe(0);
    expect(
      formatUnits(
        shifted.body.reduce((s, k) => s + parseUnits(k[5] as string, 8), 0n),
        8,
      ),
    ).toBe('0.35000000');
    expect(shifted.body.reduce((n, k) => n + (k[8] as number), 0)).toBe(4);
  });

  it('account endpoints: commission, tradeFee, rateLimit/order, coins — and the empty product lists', async () => {
    const commission = await api.signed('GET', '/api/v3/account/commission', alice, { symbol: 'BTCUSDT' });
    expect(commission.status).toBe(200);
    expect(checkResponse('/api/v3/account/commission', commission.body)).toEqual([]);
    expect(commission.body).toMatchObject({
      symbol: 'BTCUSDT',
      standardCommission: {
        maker: '0.00100000',
        taker: '0.00100000',
        buyer: '0.00000000',
        seller: '0.00000000',
      },
    });
    const fee = await api.signed('GET', '/sapi/v1/asset/tradeFee', alice, { symbol: 'ETHUSDT' });
    expect(fee.body).toEqual([{ symbol: 'ETHUSDT', makerCommission: '0.001', takerCommission: '0.001' }]);
    expect(checkResponse('/sapi/v1/asset/tradeFee', fee.body)).toEqual([]);
    const limits = await api.signed('GET', '/api/v3/rateLimit/order', alice);
    expect(limits.body).toEqual([
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100, count: expect.any(Number) },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200_000, count: expect.any(Number) },
    ]);
    expect(checkResponse('/api/v3/rateLimit/order', limits.body)).toEqual([]);
    const coins = await api.signed<Array<{ coin: string }>>('GET', '/sapi/v1/capital/config/getall', alice);
    expect(coins.body.map((c) => c.coin)).toEqual(['BTC', 'ETH', 'USDT']);
    expect(checkResponse('/sapi/v1/capital/config/getall', coins.body)).toEqual([]);
    for (const path of ['/sapi/v1/margin/allPairs', '/sapi/v1/margin/isolated/allPairs'])
      expect((await api.public('GET', path)).body).toEqual([]);
    for (const path of ['/fapi/v1/exchangeInfo', '/dapi/v1/exchangeInfo'])
      expect((await api.public('GET', path)).body).toMatchObject({ symbols: [] });
    expect((await api.public('GET', '/eapi/v1/exchangeInfo')).body).toMatchObject({ optionSymbols: [] });

    // Bad input: 4xx with Binance's code.
    expect((await api.signed('GET', '/api/v3/account/commission', alice, {})).body).toMatchObject({
      code: -1102,
    });
    expect(
      (await api.signed('GET', '/sapi/v1/asset/tradeFee', alice, { symbol: 'NOPE' })).body,
    ).toMatchObject({
      code: -1121,
    });
    expect(
      (await api.public('GET', '/api/v3/ticker', { symbol: 'BTCUSDT', windowSize: '60m' })).body,
    ).toMatchObject({
      code: -1100,
    });
    expect((await api.public('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', limit: 1001 })).status).toBe(
      400,
    );
    const bad: Array<[string, Record<string, string>, number]> = [
      ['/api/v3/aggTrades', { symbol: 'BTCUSDT', fromId: '1e3' }, -1100],
      ['/api/v3/aggTrades', {}, -1102],
      ['/api/v3/historicalTrades', { symbol: 'XYZUSDT' }, -1121],
      ['/api/v3/avgPrice', {}, -1102],
      ['/api/v3/ticker', {}, -1102],
      ['/api/v3/ticker', { symbol: 'BTCUSDT', type: 'HALF' }, -1100],
      ['/api/v3/uiKlines', { symbol: 'BTCUSDT', interval: '7m' }, -1120],
      ['/api/v3/uiKlines', { symbol: 'BTCUSDT', interval: '1h', timeZone: 'UTC' }, -1100],
      ['/api/v3/klines', { symbol: 'BTCUSDT', interval: '1h', timeZone: '15' }, -1100],
    ];
    for (const [path, params, code] of bad) {
      const res = await api.public<{ code: number }>('GET', path, params);
      expect([path, params, res.status, res.body.code]).toEqual([path, params, 400, code]);
    }
    expect((await api.public('GET', '/api/v3/tradeFee')).body).toMatchObject({ code: -1020 });
  });

  it('trailing stops: createOrder with trailingPercent is accepted, trails the price and triggers (ETH/USDT)', async () => {
    // exchangeInfo says so, with Binance's TRAILING_DELTA filter.
    const markets = (await pub.loadMarkets()) as Record<string, { info: Record<string, unknown> }>;
    const info = markets['ETH/USDT'].info as {
      allowTrailingStop: boolean;
      filters: Array<{ filterType: string }>;
    };
    expect(info.allowTrailingStop).toBe(true);
    expect(info.filters.find((f) => f.filterType === 'TRAILING_DELTA')).toEqual({
      filterType: 'TRAILING_DELTA',
      minTrailingAboveDelta: 10,
      maxTrailingAboveDelta: 2000,
      minTrailingBelowDelta: 10,
      maxTrailingBelowDelta: 2000,
    });
    /** One trade of 0.01 ETH at `price`: alice's ask, bob's buy through it. */
    const tradeAt = async (price: number) => {
      await exA.createOrder('ETH/USDT', 'limit', 'sell', 0.01, price);
      const buy = await exB.createOrder('ETH/USDT', 'limit', 'buy', 0.01, price);
      expect(buy).toMatchObject({ status: 'closed', average: price });
    };
    await tradeAt(2000);

    // ccxt turns trailingPercent 1 into trailingDelta=100 (BIPS) on a STOP_LOSS SELL; no stopPrice: it
    // trails from entry, from the last trade (2,000), and triggers 1 % under the highest trade since.
    const stop = await exA.createOrder('ETH/USDT', 'market', 'sell', 0.05, undefined, {
      trailingPercent: 1,
      stopLossOrTakeProfit: 'stopLoss',
      newOrderRespType: 'RESULT',
    });
    expect(stop.status).toBe('open');
    expect(stop.info).toMatchObject({
      type: 'STOP_LOSS',
      status: 'NEW',
      trailingDelta: 100,
    });
    // Trailing from entry: active (and timed) from the engine's answer on, not -1.
    const since = (stop.info as { trailingTime: number }).trailingTime;
    expect(since).toBeGreaterThan(Date.now() - 60_000);
    const requests = (await exA.get('requests')) as string[];
    expect(requests[requests.length - 1]).toBe('POST /api/v3/order');
    // GET /api/v3/order reads the order row (migration 16 keeps the delta and the trailing time there).
    expect(await exA.fetchOrder(stop.id!, 'ETH/USDT')).toMatchObject({
      id: stop.id,
      status: 'open',
      filled: 0,
      info: { trailingDelta: 100, trailingTime: since },
    });

    // A bid for the stop's market sell, far under the trades.
    await exB.createOrder('ETH/USDT', 'limit', 'buy', 0.05, 1900);
    await tradeAt(2100); // highest: triggers at 2,100 × 0.99 = 2,079
    await tradeAt(2080);
    expect((await exA.fetchOrder(stop.id!, 'ETH/USDT')).status).toBe('open');
    await tradeAt(2079);
    await eventually(async () => {
      const done = await exA.fetchOrder(stop.id!, 'ETH/USDT');
      expect(done).toMatchObject({ status: 'closed', filled: 0.05, average: 1900 });
      expect((done.info as { trailingTime: number }).trailingTime).toBe(since);
    });

    // A delta outside the filter: Binance's -1013 (ccxt raises it as BadRequest); a malformed one -1100.
    await expect(
      exA.createOrder('ETH/USDT', 'market', 'sell', 0.05, undefined, {
        trailingPercent: 0.05,
        stopLossOrTakeProfit: 'stopLoss',
      }),
    ).rejects.toThrow(/BadRequest.*"code":-1013,"msg":"Filter failure: TRAILING_DELTA"/);
    const bad = await api.signed<{ code: number; msg: string }>('POST', '/api/v3/order', alice, {
      symbol: 'ETHUSDT',
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: '0.05',
      trailingDelta: '1.5',
    });
    expect([bad.status, bad.body.code]).toEqual([400, -1100]);
  });
});
