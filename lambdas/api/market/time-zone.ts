// Binance's `timeZone` parameter of /klines and /uiKlines.
import { BinanceError } from '@lambdas/shared/http';
import { CANDLE_INTERVALS, type Candle } from '@lambdas/shared/stores/market-data';

/** Binance's timeZone parameter ("0", "8", "-1:00", "05:45"; [-12:00, +14:00]) → minutes east of UTC. */
export function parseTimeZone(s: string | undefined): number {
  if (s === undefined) return 0;
  const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/.exec(s);
  const minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : NaN;
  if (!m || Number(m[3] ?? 0) > 59 || minutes < -720 || minutes > 840)
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'timeZone'; invalid timeZone.");
  return minutes;
}

/**
 * Klines in a time zone whose offset moves the interval's UTC boundaries (e.g. 1d at +08:00): built from the
 * largest stored candle interval that divides both the interval and the offset, merged into buckets that open
 * at local multiples of the interval. Same range rules as stored klines: bucket open times within
 * [startTime, endTime]; from startTime on (oldest first) if given, else the most recent `limit`.
 */
export async function shiftedCandles(
  source: {
    candlePages(
      symbol: string,
      interval: string,
      opts: { from: number; to: number; ascending: boolean },
    ): AsyncIterable<Candle[]>;
  },
  symbol: string,
  intervalMs: number,
  offsetMs: number,
  opts: { startTime?: number; endTime?: number; limit: number },
): Promise<Candle[]> {
  const [base] = Object.entries(CANDLE_INTERVALS)
    .filter(([, b]) => intervalMs % b === 0 && offsetMs % b === 0)
    .sort((a, b) => b[1] - a[1]);
  const bucketOf = (t: number) => Math.floor((t + offsetMs) / intervalMs) * intervalMs - offsetMs;
  const ascending = opts.startTime !== undefined;
  const first = ascending ? bucketOf(opts.startTime! - 1) + intervalMs : 0; // first bucket open ≥ startTime
  const lastOpen = bucketOf(opts.endTime ?? Number.MAX_SAFE_INTEGER - intervalMs);
  const buckets = new Map<number, Candle[]>();
  pages: for await (const page of source.candlePages(symbol, base[0], {
    from: first,
    to: lastOpen + intervalMs - base[1],
    ascending,
  })) {
    for (const c of page) {
      const open = bucketOf(c.openTime);
      if (!buckets.has(open)) {
        // one bucket beyond `limit` proves the others complete
        if (buckets.size === opts.limit) break pages;
        buckets.set(open, []);
      }
      buckets.get(open)!.push(c);
    }
  }
  return [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([openTime, parts]) =>
      mergeCandles(
        openTime,
        parts.sort((a, b) => a.openTime - b.openTime),
      ),
    );
}

function mergeCandles(openTime: number, parts: Candle[]): Candle {
  const last = parts[parts.length - 1];
  return {
    openTime,
    o: parts[0].o,
    h: Math.max(...parts.map((c) => c.h)),
    l: Math.min(...parts.map((c) => c.l)),
    c: last.c,
    v: parts.reduce((s, c) => s + c.v, 0),
    q: parts.reduce((s, c) => s + c.q, 0),
    n: parts.reduce((s, c) => s + c.n, 0),
    tbv: parts.reduce((s, c) => s + c.tbv, 0),
    tbq: parts.reduce((s, c) => s + c.tbq, 0),
    firstTradeId: parts[0].firstTradeId,
    lastTradeId: last.lastTradeId,
  };
}
