// Rolling-window statistics (GET /api/v3/ticker with windowSize) and the 5-minute average price
// (GET /api/v3/avgPrice), computed from the stored candles with integer arithmetic only.
//
// As on Binance, the window opens on a minute: openTime = the minute of (now − windowSize), closeTime = now, so
// the effective window is up to one minute wider than requested. The window is covered by the fewest stored
// candles (1d, 4h, 1h, 30m, 15m, 5m, 1m, each aligned on its own interval), so a 7-day window reads a few dozen
// items rather than 10,080 one-minute candles.
import type { MarketSpec } from '@engine/core/types';
import { BinanceError } from '@lambdas/shared/http';
import { priceText as price, qtyText as qty, quoteText as quote } from '@lambdas/shared/money';
import { CANDLE_INTERVALS, type Candle } from '@lambdas/shared/stores/market-data';

const MINUTE = 60_000;

/** "1m".."59m", "1h".."23h", "1d".."7d" → milliseconds; a -1100 error otherwise. */
export function parseWindowSize(s: string | undefined): number {
  if (s === undefined) return 86_400_000;
  const m = /^([1-9]\d?)([mhd])$/.exec(s);
  const n = m ? Number(m[1]) : 0;
  const max = { m: 59, h: 23, d: 7 }[(m?.[2] ?? 'm') as 'm' | 'h' | 'd'];
  if (!m || n > max)
    throw new BinanceError(
      400,
      -1100,
      "Illegal characters found in parameter 'windowSize'; invalid windowSize.",
    );
  return n * { m: MINUTE, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** The runs of same-interval candles that exactly tile [from, to) (both on minute boundaries). */
export function tileWindow(
  from: number,
  to: number,
): Array<{ interval: string; start: number; count: number }> {
  const sizes = Object.entries(CANDLE_INTERVALS).sort((a, b) => b[1] - a[1]);
  const runs: Array<{ interval: string; start: number; count: number }> = [];
  let cursor = from;
  while (cursor < to) {
    const [interval, ms] = sizes.find(([, ms]) => cursor % ms === 0 && cursor + ms <= to)!;
    const last = runs[runs.length - 1];
    if (last && last.interval === interval) last.count++;
    else runs.push({ interval, start: cursor, count: 1 });
    cursor += ms;
  }
  return runs;
}

export interface CandleSource {
  candles(
    symbol: string,
    interval: string,
    opts: { startTime?: number; endTime?: number; limit: number },
  ): Promise<Candle[]>;
}

/** The candles of [openTime, now], oldest first, from the tiling of the window. */
export async function windowCandles(
  store: CandleSource,
  symbol: string,
  openTime: number,
  now: number,
): Promise<Candle[]> {
  const end = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  const runs = tileWindow(openTime, end);
  const parts = await Promise.all(
    runs.map((r) =>
      store.candles(symbol, r.interval, {
        startTime: r.start,
        endTime: r.start + (r.count - 1) * CANDLE_INTERVALS[r.interval],
        limit: r.count,
      }),
    ),
  );
  return parts.flat().sort((a, b) => a.openTime - b.openTime);
}

export interface WindowStats {
  open: number;
  high: number;
  low: number;
  close: number;
  /** lots and tick·lots */
  volume: bigint;
  quoteVolume: bigint;
  count: number;
  firstId: number;
  lastId: number;
}

export function windowStats(candles: Candle[]): WindowStats {
  if (candles.length === 0)
    return {
      open: 0,
      high: 0,
      low: 0,
      close: 0,
      volume: 0n,
      quoteVolume: 0n,
      count: 0,
      firstId: -1,
      lastId: -1,
    };
  return {
    open: candles[0].o,
    high: Math.max(...candles.map((c) => c.h)),
    low: Math.min(...candles.map((c) => c.l)),
    close: candles[candles.length - 1].c,
    volume: candles.reduce((s, c) => s + BigInt(c.v), 0n),
    quoteVolume: candles.reduce((s, c) => s + BigInt(c.q), 0n),
    count: candles.reduce((n, c) => n + c.n, 0),
    firstId: candles[0].firstTradeId,
    lastId: candles[candles.length - 1].lastTradeId,
  };
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * quote / base as a price with 8 decimals, rounded down: `tickLots` (tick·lots) over `lots`, i.e.
 * (tickLots / lots) ticks × tickSize. "0.00000000" when lots is 0.
 */
export function ratioPrice(spec: MarketSpec, tickLots: bigint, lots: bigint): string {
  if (lots === 0n) return '0.00000000';
  const m = DECIMAL.exec(spec.tickSize)!;
  const frac = m[2] ?? '';
  const tick = BigInt(m[1] + frac); // tickSize × 10^frac.length
  const scaled = (tickLots * tick * 10n ** 8n) / (lots * 10n ** BigInt(frac.length));
  const digits = scaled.toString().padStart(9, '0');
  return `${digits.slice(0, -8)}.${digits.slice(-8)}`;
}

/** (close − open) / open × 100 with 3 decimals, truncated toward zero, as a string ("0.000" if open is 0). */
export function changePercent(open: number, close: number): string {
  const pct = open === 0 ? 0n : (BigInt(close - open) * 100_000n) / BigInt(open);
  const abs = pct < 0n ? -pct : pct;
  return `${pct < 0n ? '-' : ''}${abs / 1000n}.${String(abs % 1000n).padStart(3, '0')}`;
}

/** A window's figures as both /api/v3/ticker* and the `@ticker` streams print them, so the two cannot differ. */
export function tickerFigures(spec: MarketSpec, s: WindowStats) {
  const change = s.close - s.open;
  return {
    open: price(spec, s.open),
    high: price(spec, s.high),
    low: price(spec, s.low),
    last: price(spec, s.close),
    volume: qty(spec, Number(s.volume)),
    quoteVolume: quote(spec, Number(s.quoteVolume)),
    priceChange: change < 0 ? `-${price(spec, -change)}` : price(spec, change),
    priceChangePercent: changePercent(s.open, s.close),
    weightedAvgPrice: ratioPrice(spec, s.quoteVolume, s.volume),
  };
}
