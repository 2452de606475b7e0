// The fan-out's rules with in-memory doubles of its dependencies: payloads from engine integers, one merged
// diff per batch numbered as the engine's depth ids, gone connections removed, slow and failing posts bounded
// and never failing the batch, book tickers and klines from seeded state.
import type { DepthEvent, TradeEvent } from '../../engine/core/types';
import type { EventRecord } from '../../engine/service/messages';
import { MARKETS } from '../../lib/markets';
import { fanOut, newFanOutState, type FanOutDeps, type Subscriber } from '../../lambdas/ws-fanout/fanout';
import { fanOutKinesisBatch } from '../../lambdas/ws-fanout/handler';
import type { BookView, Candle } from '../../lambdas/shared/stores/market-data';

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
        Object.entries(opts.subscribers).filter(([stream]) => stream.startsWith(`${symbol.toLowerCase()}@`)),
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
    expect(reads).toEqual(['BTCUSDT']);
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
    expect(warnings).toEqual(['book view behind the stream; bookTicker skipped for this batch']);
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
