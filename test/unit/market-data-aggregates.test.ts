// aggTrades grouping and its stable ids (lambdas/api/market/agg-trades.ts), rolling windows and average price
// arithmetic (lambdas/api/market/rolling.ts), timeZone parsing — against an in-memory trade store.
import fc from 'fast-check';
import {
  aggregatesBackward,
  aggregatesForward,
  continuesAggregate,
  groupAggregates,
  type TradeSource,
} from '@lambdas/api/market/agg-trades';
import {
  changePercent,
  parseWindowSize,
  ratioPrice,
  tileWindow,
  windowCandles,
  windowStats,
} from '@lambdas/api/market/rolling';
import { parseTimeZone, shiftedCandles } from '@lambdas/api/market/time-zone';
import { CANDLE_INTERVALS, type Candle, type PublicTrade } from '@lambdas/shared/stores/market-data';
import { MARKETS } from '@contracts/markets';

/** The store's tradeRange over an array (ids 1..n), with the page-size behaviour of the real one. */
function memoryStore(trades: PublicTrade[]): TradeSource & { reads: number } {
  const store = {
    reads: 0,
    async tradeRange(
      _symbol: string,
      opts: { fromId?: number; toId?: number; limit: number; newest?: boolean },
    ): Promise<PublicTrade[]> {
      store.reads++;
      const inRange = trades.filter(
        (t) => t.id >= (opts.fromId ?? 0) && t.id <= (opts.toId ?? Number.MAX_SAFE_INTEGER),
      );
      return opts.newest ? inRange.slice(-opts.limit) : inRange.slice(0, opts.limit);
    },
  };
  return store;
}

const trade = (
  id: number,
  taker: number,
  price = 100,
  time = 1000 + taker,
  isBuyerMaker = false,
): PublicTrade => ({
  id,
  price,
  qty: 1,
  time,
  isBuyerMaker,
  takerOrderId: taker,
});

describe('aggregate trades', () => {
  it('groups consecutive trades of one taker at one price; a new price or taker starts a new aggregate', () => {
    const trades = [
      trade(1, 10),
      trade(2, 10),
      trade(3, 10, 101), // same taker, next price level
      trade(4, 11, 101, 1010), // another taker
      trade(5, 11, 101, 1010),
    ];
    expect(groupAggregates(trades).map((g) => g.map((t) => t.id))).toEqual([[1, 2], [3], [4, 5]]);
  });

  it('without stored taker ids, groups by adjacency, price, time and side', () => {
    const legacy = (id: number, time: number, isBuyerMaker = false): PublicTrade => ({
      id,
      price: 5,
      qty: 2,
      time,
      isBuyerMaker,
    });
    expect(continuesAggregate(legacy(1, 7), legacy(2, 7))).toBe(true);
    expect(continuesAggregate(legacy(1, 7), legacy(2, 8))).toBe(false);
    expect(continuesAggregate(legacy(1, 7), legacy(2, 7, true))).toBe(false);
    expect(continuesAggregate(legacy(1, 7), legacy(3, 7))).toBe(false);
    // with ids on both sides, a different taker in the same millisecond is a different aggregate
    expect(continuesAggregate(trade(1, 1, 5, 7), trade(2, 2, 5, 7))).toBe(false);
  });

  it('fromId inside an aggregate starts at the next one; ids are the first trade ids', async () => {
    const store = memoryStore([trade(1, 1), trade(2, 1), trade(3, 1), trade(4, 2), trade(5, 3)]);
    const ids = (g: PublicTrade[][]) => g.map((x) => x[0].id);
    expect(ids(await aggregatesForward(store, 'X', { fromId: 1, limit: 10 }))).toEqual([1, 4, 5]);
    expect(ids(await aggregatesForward(store, 'X', { fromId: 2, limit: 10 }))).toEqual([4, 5]);
    expect(ids(await aggregatesForward(store, 'X', { fromId: 4, limit: 1 }))).toEqual([4]);
    expect(ids(await aggregatesBackward(store, 'X', { limit: 2 }))).toEqual([4, 5]);
    expect((await aggregatesBackward(store, 'X', { limit: 5 }))[0].map((t) => t.id)).toEqual([1, 2, 3]);
  });

  it('time bounds: startTime and endTime are inclusive; endTime alone gives the latest before it', async () => {
    const store = memoryStore([trade(1, 1), trade(2, 1), trade(3, 2), trade(4, 3)]); // times 1001, 1001, 1002, 1003
    const ids = (g: PublicTrade[][]) => g.map((x) => x[0].id);
    expect(ids(await aggregatesForward(store, 'X', { fromId: 1, startTime: 1002, limit: 10 }))).toEqual([
      3, 4,
    ]);
    expect(ids(await aggregatesForward(store, 'X', { fromId: 1, endTime: 1002, limit: 10 }))).toEqual([1, 3]);
    expect(ids(await aggregatesBackward(store, 'X', { endTime: 1002, limit: 10 }))).toEqual([1, 3]);
    expect(ids(await aggregatesBackward(store, 'X', { toId: 4, endTime: 1001, limit: 10 }))).toEqual([1]);
  });

  it('an aggregate spanning a 1000-trade page is read whole, in both directions', async () => {
    // 1,500 trades of one taker, then 10 single ones
    const trades = [
      ...Array.from({ length: 1500 }, (_, i) => trade(i + 1, 1)),
      ...Array.from({ length: 10 }, (_, i) => trade(1501 + i, 2 + i)),
    ];
    const store = memoryStore(trades);
    const back = await aggregatesBackward(store, 'X', { limit: 11 });
    expect(back.map((g) => [g[0].id, g.length])).toEqual([
      [1, 1500],
      ...trades.slice(1500).map((t) => [t.id, 1]),
    ]);
    const fwd = await aggregatesForward(store, 'X', { fromId: 1, limit: 1 });
    expect(fwd.map((g) => [g[0].id, g[g.length - 1].id])).toEqual([[1, 1500]]);
  });

  it('ids are stable: every query window cuts the same aggregates (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        // each trade: does it continue the previous taker (same price)? and query bounds
        fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
        fc.nat(70),
        fc.integer({ min: 1, max: 20 }),
        async (sameTaker, from, limit) => {
          let taker = 0;
          const trades = sameTaker.map((same, i) => {
            if (!same || i === 0) taker++;
            return trade(i + 1, taker, 100, 1000 + taker);
          });
          const store = memoryStore(trades);
          const all = await aggregatesForward(store, 'X', { fromId: 1, limit: 1000 });
          const key = (g: PublicTrade[]) => `${g[0].id}-${g[g.length - 1].id}`;
          const allKeys = all.map(key);
          // every aggregate has exactly one taker, and the union is every trade once
          expect(all.flat().map((t) => t.id)).toEqual(trades.map((t) => t.id));
          for (const g of all) expect(new Set(g.map((t) => t.takerOrderId)).size).toBe(1);
          const fwd = (await aggregatesForward(store, 'X', { fromId: from, limit })).map(key);
          expect(fwd).toEqual(allKeys.filter((k) => Number(k.split('-')[0]) >= from).slice(0, limit));
          const back = (await aggregatesBackward(store, 'X', { limit })).map(key);
          expect(back).toEqual(allKeys.slice(-limit));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('rolling windows and average price', () => {
  it('windowSize: 1m..59m, 1h..23h, 1d..7d; anything else is -1100', () => {
    expect(parseWindowSize(undefined)).toBe(86_400_000);
    expect(parseWindowSize('1m')).toBe(60_000);
    expect(parseWindowSize('59m')).toBe(3_540_000);
    expect(parseWindowSize('23h')).toBe(82_800_000);
    expect(parseWindowSize('7d')).toBe(604_800_000);
    for (const bad of ['0m', '60m', '24h', '8d', '1d2h', '1w', '01m', 'm', ''])
      expect(() => parseWindowSize(bad)).toThrow(expect.objectContaining({ code: -1100 }));
  });

  it('tiles a window with the fewest aligned candles', () => {
    const H = 3_600_000;
    const from = 86_400_000 * 10 + 7 * 60_000; // 00:07
    const to = from + 86_400_000 - 7 * 60_000 + 5 * H + 2 * 60_000; // next day 05:02
    const runs = tileWindow(from, to);
    const covered = runs.reduce((s, r) => s + r.count * CANDLE_INTERVALS[r.interval], 0);
    expect(covered).toBe(to - from);
    for (const r of runs) expect(r.start % CANDLE_INTERVALS[r.interval]).toBe(0);
    expect(runs.reduce((n, r) => n + r.count, 0)).toBeLessThan(20);
    // a 7-day window: at most a few dozen candles, not 10,080
    const week = tileWindow(from, from + 7 * 86_400_000);
    expect(week.reduce((n, r) => n + r.count, 0)).toBeLessThan(40);
  });

  it('window statistics from the tiled candles', async () => {
    const candle = (openTime: number, o: number, h: number, l: number, c: number, id: number): Candle => ({
      openTime,
      o,
      h,
      l,
      c,
      v: 10,
      q: 10 * c,
      n: 2,
      tbv: 0,
      tbq: 0,
      firstTradeId: id,
      lastTradeId: id + 1,
    });
    const stored: Record<string, Candle[]> = {
      '1m': [candle(60_000 * 61, 5, 9, 4, 6, 1)],
      '1h': [candle(3_600_000 * 2, 6, 12, 3, 8, 3)],
    };
    const store = {
      async candles(
        _s: string,
        interval: string,
        o: { startTime?: number; endTime?: number; limit: number },
      ) {
        return (stored[interval] ?? []).filter(
          (c) => c.openTime >= (o.startTime ?? 0) && c.openTime <= (o.endTime ?? Infinity),
        );
      },
    };
    const candles = await windowCandles(store, 'X', 60_000 * 61, 3_600_000 * 3 + 5_000);
    const s = windowStats(candles);
    expect(s).toEqual({
      open: 5,
      high: 12,
      low: 3,
      close: 8,
      volume: 20n,
      quoteVolume: 140n,
      count: 4,
      firstId: 1,
      lastId: 4,
    });
    expect(windowStats([])).toMatchObject({ firstId: -1, lastId: -1, count: 0, volume: 0n });
  });

  it('prices and percentages are exact decimals, rounded down', () => {
    const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!; // tick 0.01, step 0.00001
    // 10,450 USDT for 0.35 BTC (35,000 lots): tick·lots = Σ price ticks × lots
    const lots = 35_000n;
    const tickLots = 3_000_000n * 30_000n + 2_900_000n * 5_000n; // 0.3 @ 30000 + 0.05 @ 29000
    expect(ratioPrice(btc, tickLots, lots)).toBe('29857.14285714');
    expect(ratioPrice(btc, 0n, 0n)).toBe('0.00000000');
    expect(changePercent(3_000_000, 2_900_000)).toBe('-3.333');
    expect(changePercent(2_900_000, 3_000_000)).toBe('3.448');
    expect(changePercent(0, 5)).toBe('0.000');
  });

  it('timeZone: hours or hours:minutes within [-12:00, +14:00]', () => {
    expect(parseTimeZone(undefined)).toBe(0);
    expect(parseTimeZone('0')).toBe(0);
    expect(parseTimeZone('8')).toBe(480);
    expect(parseTimeZone('-1:00')).toBe(-60);
    expect(parseTimeZone('05:45')).toBe(345);
    expect(parseTimeZone('+14:00')).toBe(840);
    for (const bad of ['15', '-13', '1:60', 'UTC', '1.5'])
      expect(() => parseTimeZone(bad)).toThrow(expect.objectContaining({ code: -1100 }));
  });
});

describe('klines in a time zone that moves the interval boundaries', () => {
  const H = 3_600_000;
  const D = 24 * H;
  // one 1h candle per hour for 3 days from day 100, price = the hour's index, one trade each
  const hourly: Candle[] = Array.from({ length: 72 }, (_, i) => ({
    openTime: 100 * D + i * H,
    o: i,
    h: i + 1,
    l: i,
    c: i,
    v: 1,
    q: i,
    n: 1,
    tbv: 0,
    tbq: 0,
    firstTradeId: i + 1,
    lastTradeId: i + 1,
  }));
  const source = {
    intervals: [] as string[],
    async *candlePages(_s: string, interval: string, o: { from: number; to: number; ascending: boolean }) {
      source.intervals.push(interval);
      const inRange = (interval === '1h' ? hourly : []).filter(
        (c) => c.openTime >= o.from && c.openTime <= o.to,
      );
      const ordered = o.ascending ? inRange : [...inRange].reverse();
      for (let i = 0; i < ordered.length; i += 10) yield ordered.slice(i, i + 10);
    },
  };

  it('1d at +01:00: days open at 23:00 UTC and merge the hours of each', async () => {
    const days = await shiftedCandles(source, 'X', D, H, { limit: 10 });
    expect(source.intervals).toEqual(['1h']); // the largest stored interval dividing both 1d and 1h
    expect(
      days.map((d) => [d.openTime, d.o, d.h, d.l, d.c, d.v, d.n, d.firstTradeId, d.lastTradeId]),
    ).toEqual([
      [100 * D - H, 0, 23, 0, 22, 23, 23, 1, 23],
      [101 * D - H, 23, 47, 23, 46, 24, 24, 24, 47],
      [102 * D - H, 47, 71, 47, 70, 24, 24, 48, 71],
      [103 * D - H, 71, 72, 71, 71, 1, 1, 72, 72],
    ]);
  });

  it('limit, startTime and endTime select whole local days', async () => {
    const opens = async (o: { startTime?: number; endTime?: number; limit: number }) =>
      (await shiftedCandles(source, 'X', D, H, o)).map((d) => [d.openTime, d.v]);
    expect(await opens({ limit: 2 })).toEqual([
      [102 * D - H, 24],
      [103 * D - H, 1],
    ]);
    expect(await opens({ startTime: 100 * D, limit: 2 })).toEqual([
      [101 * D - H, 24],
      [102 * D - H, 24],
    ]);
    expect(await opens({ startTime: 101 * D - H, endTime: 101 * D - H, limit: 5 })).toEqual([
      [101 * D - H, 24],
    ]);
    expect(await opens({ endTime: 102 * D - H, limit: 10 })).toEqual([
      [100 * D - H, 23],
      [101 * D - H, 24],
      [102 * D - H, 24],
    ]);
  });

  it('4h at +05:30 reads 30m candles', async () => {
    source.intervals.length = 0;
    await shiftedCandles(source, 'X', 4 * H, 5.5 * H, { limit: 1 });
    expect(source.intervals).toEqual(['30m']);
  });
});
