// The fan-out's rules with in-memory doubles of its dependencies: payloads from engine integers, one merged
// diff per batch numbered as the engine's depth ids, gone connections removed, slow and failing posts bounded
// and never failing the batch, book tickers and klines from seeded state.
import type { DepthEvent, TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import { fanOut, newFanOutState, type FanOutDeps, type Subscriber } from '@lambdas/ws-fanout/fanout';
import { fanOutKinesisBatch } from '@lambdas/ws-fanout/handler';
import { CANDLE_INTERVALS, type BookView, type Candle } from '@lambdas/shared/stores/market-data';
import { aggregatesForward } from '@lambdas/api/market/agg-trades';

const BTC = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const T0 = 1_700_000_040_000; // a minute boundary + 40 s

const trade = (tradeId: number, price: number, quantity: number, ts = T0): TradeEvent => ({
  type: 'trade',
  market: 'BTCUSDT',
  seq: tradeId,
  ts,
  tradeId,
  price,
  quantity,
  makerOrderId: 1,
  makerUserId: 1,
  takerOrderId: 2,
  takerUserId: 2,
  takerSide: 'BUY',
  makerExecutedQty: quantity,
  takerExecutedQty: quantity,
  makerCumQuote: price * quantity,
  takerCumQuote: price * quantity,
});
const depth = (
  U: number,
  u: number,
  bids: Array<[number, number]>,
  asks: Array<[number, number]>,
): DepthEvent => ({
  type: 'depth',
  market: 'BTCUSDT',
  seq: 100 + u,
  ts: T0,
  U,
  u,
  bids,
  asks,
});
const record = (...events: EventRecord['events']): EventRecord => ({
  v: 1,
  market: 'BTCUSDT',
  commands: [],
  events,
});

function doubles(opts: {
  subscribers: Record<string, Subscriber[]>;
  post?: (id: string, data: string, signal: AbortSignal) => Promise<void>;
  book?: BookView;
  candles?: Record<string, Candle>;
}) {
  const posted: Array<[string, unknown]> = [];
  const removed: string[] = [];
  const warnings: string[] = [];
  const reads: string[] = [];
  const deps: FanOutDeps = {
    markets: new Map([['BTCUSDT', BTC]]),
    marketSubscribers: async (symbol) => {
      reads.push(symbol);
      return new Map(
        // The connections table's partition: the stream name's part before '@', lower case.
        Object.entries(opts.subscribers).filter(([stream]) =>
          stream.toLowerCase().startsWith(`${symbol.toLowerCase()}@`),
        ),
      );
    },
    post: async (id, data, signal) => {
      await opts.post?.(id, data, signal);
      posted.push([id, JSON.parse(data)]);
    },
    removeConnection: async (id) => void removed.push(id),
    bookView: async () => opts.book ?? { lastUpdateId: 0, bids: [], asks: [] },
    candle: async (_s, interval, openTime) => opts.candles?.[`${interval}@${openTime}`],
    candles: async () => [],
    trade: async () => undefined,
    now: () => T0 + 5,
    log: { warn: (msg) => void warnings.push(msg) },
    postTimeoutMs: 50,
    seedAttempts: 2,
  };
  return { deps, posted, removed, warnings, reads };
}

const raw = (connectionId: string): Subscriber => ({ connectionId, combined: false });

describe('ws fan-out', () => {
  it('sends one diff per batch: U of the first depth event, u of the last, levels at their final quantity', async () => {
    const { deps, posted } = doubles({
      subscribers: { 'btcusdt@depth': [raw('a')], 'btcusdt@trade': [raw('a')] },
    });
    const stats = await fanOut(
      [
        record(depth(1, 1, [], [[3_000_000, 1000]])),
        record(trade(1, 3_000_000, 400), depth(2, 2, [[2_999_000, 5]], [[3_000_000, 600]])),
      ],
      deps,
      newFanOutState(),
    );
    expect(stats).toEqual({ frames: 2, posted: 2, gone: 0, failed: 0 });
    expect(posted).toEqual([
      [
        'a',
        {
          e: 'trade',
          E: T0 + 5,
          s: 'BTCUSDT',
          t: 1,
          p: '30000.00000000',
          q: '0.00400000',
          T: T0,
          m: false,
          M: true,
        },
      ],
      [
        'a',
        {
          e: 'depthUpdate',
          E: T0 + 5,
          s: 'BTCUSDT',
          U: 1,
          u: 2,
          b: [['29990.00000000', '0.00005000']],
          a: [['30000.00000000', '0.00600000']],
        },
      ],
    ]);
  });

  it('removes a gone connection and stops posting to it; a slow post is abandoned; neither fails the batch', async () => {
    let aborted = false;
    const { deps, posted, removed, warnings } = doubles({
      subscribers: { 'btcusdt@trade': [raw('gone'), raw('slow'), { connectionId: 'ok', combined: true }] },
      post: async (id, _data, signal) => {
        if (id === 'gone') throw Object.assign(new Error('Gone'), { name: 'GoneException' });
        if (id === 'slow')
          await new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => ((aborted = true), resolve())),
          );
      },
    });
    const started = Date.now();
    const stats = await fanOut(
      [record(trade(1, 3_000_000, 1), trade(2, 3_000_000, 2))],
      deps,
      newFanOutState(),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(removed).toEqual(['gone']);
    expect(aborted).toBe(true);
    expect(stats).toMatchObject({ gone: 1, failed: 2, posted: 2 });
    expect(warnings.filter((w) => w === 'post failed')).toHaveLength(2);
    expect(posted.filter(([id]) => id === 'ok').map(([, f]) => (f as { stream: string }).stream)).toEqual([
      'btcusdt@trade',
      'btcusdt@trade',
    ]);
  });

  it('one subscriber read per market and batch; a failing read skips that market only; a record that is not Cirrus is skipped; no batch failure', async () => {
    const ETH = MARKETS.find((m) => m.symbol === 'ETHUSDT')!;
    const { deps, posted, reads, warnings } = doubles({
      subscribers: { 'btcusdt@trade': [raw('a')], 'btcusdt@depth': [raw('a')] },
    });
    deps.markets = new Map([
      ['BTCUSDT', BTC],
      ['ETHUSDT', ETH],
    ]);
    const btcRead = deps.marketSubscribers;
    deps.marketSubscribers = async (symbol) => {
      if (symbol === 'ETHUSDT') throw new Error('DynamoDB unreachable');
      return btcRead(symbol);
    };
    const eth = { ...trade(7, 200_000, 1), market: 'ETHUSDT' };
    const data = (r: unknown) =>
      Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)).toString('base64');
    const event = {
      Records: [
        data('not json'),
        data(record(trade(1, 3_000_000, 1), depth(1, 1, [], [[3_000_000, 1]]))),
        data(record(trade(2, 3_000_000, 1))),
        data({ ...record(eth), market: 'ETHUSDT' }),
      ].map((d, i) => ({ kinesis: { data: d, sequenceNumber: String(i) } })),
    } as unknown as Parameters<typeof fanOutKinesisBatch>[0];
    expect(await fanOutKinesisBatch(event, deps)).toEqual({ batchItemFailures: [] });
    // Trades in the batch: the all-market streams' own partitions are read too (nobody listens there).
    expect(reads.sort()).toEqual(['!miniTicker', '!ticker', 'BTCUSDT']);
    expect(warnings).toEqual(['subscribers not read; market skipped for this batch']);
    expect(posted.map(([, f]) => (f as { e: string }).e).sort()).toEqual(['depthUpdate', 'trade', 'trade']);
  });

  it('bookTicker: seeded from the book view, then one frame per change of the best bid or ask', async () => {
    const { deps, posted } = doubles({
      subscribers: { 'btcusdt@bookTicker': [raw('a')] },
      book: { lastUpdateId: 4, bids: [[2_990_000, 10]], asks: [[3_010_000, 20]] },
    });
    const state = newFanOutState();
    await fanOut([record(depth(5, 5, [[2_980_000, 7]], []), depth(6, 6, [], [[3_005_000, 3]]))], deps, state);
    // Seeded: the first event is sent whatever it changed (the top before is unknown); then only changes.
    expect(posted.map(([, f]) => f)).toEqual([
      { u: 5, s: 'BTCUSDT', b: '29900.00000000', B: '0.00010000', a: '30100.00000000', A: '0.00020000' },
      { u: 6, s: 'BTCUSDT', b: '29900.00000000', B: '0.00010000', a: '30050.00000000', A: '0.00003000' },
    ]);
    posted.length = 0;
    await fanOut([record(depth(7, 7, [[2_970_000, 1]], []))], deps, state); // below the best bid: no frame
    expect(posted).toEqual([]);
  });

  it('bookTicker waits for a book view behind the stream, then skips (never a wrong top); other frames still go', async () => {
    const { deps, posted, warnings } = doubles({
      subscribers: { 'btcusdt@bookTicker': [raw('a')], 'btcusdt@depth@100ms': [raw('a')] },
      book: { lastUpdateId: 3, bids: [], asks: [] },
    });
    await fanOut([record(depth(10, 10, [], [[3_000_000, 1]]))], deps, newFanOutState());
    expect(posted.map(([, f]) => (f as { e?: string }).e)).toEqual(['depthUpdate']);
    expect(warnings).toEqual([
      'book view behind the stream; bookTicker and partial depth skipped for this batch',
    ]);
  });

  it('kline: continues the stored candle after a cold start, then folds the next batches itself', async () => {
    const openTime = Math.floor(T0 / 60_000) * 60_000;
    const stored: Candle = {
      openTime,
      o: 2_990_000,
      h: 3_020_000,
      l: 2_990_000,
      c: 3_010_000,
      v: 100,
      q: 301_000_000,
      n: 4,
      tbv: 50,
      tbq: 150_000_000,
      firstTradeId: 1,
      lastTradeId: 4,
    };
    const { deps, posted } = doubles({
      subscribers: { 'btcusdt@kline_1m': [raw('a')] },
      candles: { [`1m@${openTime}`]: stored },
    });
    const state = newFanOutState();
    await fanOut([record(trade(5, 3_030_000, 10))], deps, state);
    await fanOut([record(trade(6, 2_980_000, 5, openTime + 59_999))], deps, state);
    await fanOut([record(trade(7, 3_000_000, 1, openTime + 60_000))], deps, state);
    const k = posted.map(([, f]) => (f as { k: Record<string, unknown> }).k);
    expect(k[0]).toMatchObject({
      t: openTime,
      T: openTime + 59_999,
      i: '1m',
      f: 1,
      L: 5,
      o: '29900.00000000',
      h: '30300.00000000',
      c: '30300.00000000',
      v: '0.00110000',
      n: 5,
      x: false,
    });
    expect(k[1]).toMatchObject({
      L: 6,
      l: '29800.00000000',
      c: '29800.00000000',
      n: 6,
      v: '0.00115000',
      V: '0.00065000',
    });
    // Trade 7 opens the next minute (its predecessor, trade 6, is known to this container).
    expect(k[2]).toMatchObject({
      t: openTime + 60_000,
      f: 7,
      L: 7,
      o: '30000.00000000',
      n: 1,
      v: '0.00001000',
    });
  });
});

describe('ws fan-out: aggTrade, partial depth, all-market tickers', () => {
  /** A trade of `taker` (order id) on `side` at `price` (ticks). */
  const takerTrade = (
    tradeId: number,
    price: number,
    quantity: number,
    takerOrderId: number,
    takerSide: 'BUY' | 'SELL' = 'BUY',
  ): TradeEvent => ({ ...trade(tradeId, price, quantity), takerOrderId, takerSide });

  it('aggTrade: one frame per taker order and price, a = f = its first trade id, q the sum; the cut /api/v3/aggTrades makes', async () => {
    const { deps, posted } = doubles({ subscribers: { 'btcusdt@aggTrade': [raw('a')] } });
    const trades = [
      takerTrade(11, 3_000_000, 100, 7), // taker 7 sweeps 30000.00 (two makers) …
      takerTrade(12, 3_000_000, 250, 7),
      takerTrade(13, 3_001_000, 5, 7), // … then 30010.00: a new aggregate
      takerTrade(14, 3_001_000, 1, 8), // taker 8, same price and time: another one
      takerTrade(15, 2_999_000, 40, 9, 'SELL'),
    ];
    await fanOut([record(trades[0], trades[1]), record(...trades.slice(2))], deps, newFanOutState());
    const agg = (a: number, p: string, q: string, f: number, l: number, m: boolean) => ({
      e: 'aggTrade',
      E: T0 + 5,
      s: 'BTCUSDT',
      a,
      p,
      q,
      f,
      l,
      T: T0,
      m,
      M: true,
    });
    expect(posted).toEqual([
      ['a', agg(11, '30000.00000000', '0.00350000', 11, 12, false)],
      ['a', agg(13, '30010.00000000', '0.00005000', 13, 13, false)],
      ['a', agg(14, '30010.00000000', '0.00001000', 14, 14, false)],
      ['a', agg(15, '29990.00000000', '0.00040000', 15, 15, true)],
    ]);
    // The REST side's grouping of the same trades as the read models store them gives the same aggregates.
    const stored = trades.map((t) => ({
      id: t.tradeId,
      price: t.price,
      qty: t.quantity,
      time: t.ts,
      isBuyerMaker: t.takerSide === 'SELL',
      takerOrderId: t.takerOrderId,
    }));
    const rest = await aggregatesForward(
      { tradeRange: async (_s, o) => stored.filter((t) => t.id >= (o.fromId ?? 0)).slice(0, o.limit) },
      'BTCUSDT',
      { fromId: 11, limit: 10 },
    );
    expect(rest.map((g) => [g[0].id, g[g.length - 1].id])).toEqual(
      posted.map(([, f]) => [(f as { a: number }).a, (f as { l: number }).l]),
    );
  });

  it('depth5 / depth10@100ms: the top levels of the book after each batch, at the last update id', async () => {
    const { deps, posted } = doubles({
      subscribers: {
        'btcusdt@depth5': [raw('a')],
        'btcusdt@depth10@100ms': [{ connectionId: 'c', combined: true }],
      },
      book: {
        lastUpdateId: 4,
        bids: [2_999_000, 2_998_000, 2_997_000, 2_996_000, 2_995_000, 2_994_000].map(
          (p, i): [number, number] => [p, i + 1],
        ),
        asks: [[3_001_000, 9]],
      },
    });
    const state = newFanOutState();
    // Update 5 removes the best bid and adds an ask; 6 adds a bid between two levels.
    await fanOut(
      [record(depth(5, 5, [[2_999_000, 0]], [[3_000_000, 3]])), record(depth(6, 6, [[2_994_500, 20]], []))],
      deps,
      state,
    );
    const level = (p: string, q: string) => [p, q];
    expect(posted).toEqual([
      [
        'a',
        {
          lastUpdateId: 6,
          bids: [
            level('29980.00000000', '0.00002000'),
            level('29970.00000000', '0.00003000'),
            level('29960.00000000', '0.00004000'),
            level('29950.00000000', '0.00005000'),
            level('29945.00000000', '0.00020000'),
          ],
          asks: [level('30000.00000000', '0.00003000'), level('30010.00000000', '0.00009000')],
        },
      ],
      [
        'c',
        {
          stream: 'btcusdt@depth10@100ms',
          data: {
            lastUpdateId: 6,
            bids: [
              level('29980.00000000', '0.00002000'),
              level('29970.00000000', '0.00003000'),
              level('29960.00000000', '0.00004000'),
              level('29950.00000000', '0.00005000'),
              level('29945.00000000', '0.00020000'),
              level('29940.00000000', '0.00006000'),
            ],
            asks: [level('30000.00000000', '0.00003000'), level('30010.00000000', '0.00009000')],
          },
        },
      ],
    ]);
    // The next batch continues the container's book (no second read of the view, which is now stale).
    deps.bookView = async () => {
      throw new Error('not read again');
    };
    posted.length = 0;
    await fanOut([record(depth(7, 7, [], [[3_000_000, 0]]))], deps, state);
    expect(posted[0][1]).toEqual({
      lastUpdateId: 7,
      bids: expect.any(Array),
      asks: [level('30010.00000000', '0.00009000')],
    });
  });

  it('partial depth seeded from a book view already past the batch: that view, at its own lastUpdateId', async () => {
    const { deps, posted } = doubles({
      subscribers: { 'btcusdt@depth5@100ms': [raw('a')] },
      book: { lastUpdateId: 9, bids: [[2_990_000, 4]], asks: [] },
    });
    await fanOut([record(depth(5, 5, [[2_980_000, 1]], []))], deps, newFanOutState());
    expect(posted).toEqual([['a', { lastUpdateId: 9, bids: [['29900.00000000', '0.00004000']], asks: [] }]]);
  });

  it('partial depth waits for a book view behind the stream, then skips (never a wrong book)', async () => {
    const { deps, posted, warnings } = doubles({
      subscribers: { 'btcusdt@depth20': [raw('a')] },
      book: { lastUpdateId: 3, bids: [], asks: [] },
    });
    await fanOut([record(depth(10, 10, [], [[3_000_000, 1]]))], deps, newFanOutState());
    expect(posted).toEqual([]);
    expect(warnings).toEqual([
      'book view behind the stream; bookTicker and partial depth skipped for this batch',
    ]);
  });

  it('!ticker@arr / !miniTicker@arr: one array per batch of the markets that traded, the @ticker / @miniTicker payloads', async () => {
    const ETH = MARKETS.find((m) => m.symbol === 'ETHUSDT')!;
    const minute = Math.floor(T0 / 60_000) * 60_000;
    const candleOf = (symbol: string): Candle =>
      symbol === 'BTCUSDT'
        ? {
            openTime: minute,
            o: 2_990_000,
            h: 3_000_000,
            l: 2_990_000,
            c: 3_000_000,
            v: 300,
            q: 2_990_000 * 100 + 3_000_000 * 200,
            n: 2,
            tbv: 200,
            tbq: 3_000_000 * 200,
            firstTradeId: 1,
            lastTradeId: 2,
          }
        : {
            openTime: minute,
            o: 200_000,
            h: 200_000,
            l: 200_000,
            c: 200_000,
            v: 1_000,
            q: 200_000 * 1_000,
            n: 1,
            tbv: 1_000,
            tbq: 200_000 * 1_000,
            firstTradeId: 1,
            lastTradeId: 1,
          };
    const { deps, posted, reads } = doubles({
      subscribers: {
        '!ticker@arr': [raw('all')],
        '!miniTicker@arr': [{ connectionId: 'mini', combined: true }],
        'btcusdt@ticker': [raw('one')],
        'btcusdt@miniTicker': [raw('one')],
      },
      book: { lastUpdateId: 10, bids: [[2_990_000, 5]], asks: [[3_000_000, 7]] },
    });
    deps.markets = new Map([
      ['BTCUSDT', BTC],
      ['ETHUSDT', ETH],
    ]);
    deps.candle = async (symbol) => candleOf(symbol);
    // The window's tiling covers this minute with a candle of some interval: that one holds the trades.
    deps.candles = async (symbol, interval, o) =>
      (o.startTime ?? 0) <= minute && minute < (o.endTime ?? 0) + CANDLE_INTERVALS[interval]
        ? [candleOf(symbol)]
        : [];
    const eth = { ...trade(1, 200_000, 1_000), market: 'ETHUSDT' };
    await fanOut(
      [record(trade(1, 2_990_000, 100), trade(2, 3_000_000, 200)), { ...record(eth), market: 'ETHUSDT' }],
      deps,
      newFanOutState(),
    );
    const to = (id: string) => posted.filter(([c]) => c === id).map(([, f]) => f);
    const [full, mini] = to('one') as Array<Record<string, unknown>>;
    expect(full).toMatchObject({ e: '24hrTicker', s: 'BTCUSDT', c: '30000.00000000', n: 2, F: 1, L: 2 });
    expect(mini).toMatchObject({ e: '24hrMiniTicker', s: 'BTCUSDT', v: '0.00300000' });
    const [arr] = to('all') as Array<Array<Record<string, unknown>>>;
    expect(to('all')).toHaveLength(1);
    expect(arr).toHaveLength(2);
    expect(arr[0]).toEqual(full);
    expect(arr[1]).toMatchObject({
      e: '24hrTicker',
      E: T0 + 5,
      s: 'ETHUSDT',
      o: '2000.00000000',
      c: '2000.00000000',
      v: '0.10000000',
      n: 1,
    });
    expect(to('mini')).toEqual([
      {
        stream: '!miniTicker@arr',
        data: [
          mini,
          {
            e: '24hrMiniTicker',
            E: T0 + 5,
            s: 'ETHUSDT',
            c: '2000.00000000',
            o: '2000.00000000',
            h: '2000.00000000',
            l: '2000.00000000',
            v: '0.10000000',
            q: '200.00000000',
          },
        ],
      },
    ]);

    // A batch without trades changes no ticker: no array, and the all-market partitions are not read.
    posted.length = 0;
    reads.length = 0;
    await fanOut([record(depth(11, 11, [[2_980_000, 1]], []))], deps, newFanOutState());
    expect(posted).toEqual([]);
    expect(reads).toEqual(['BTCUSDT']);
  });
});
