// Binance market stream names Cirrus serves (web-socket-streams.md); symbols lowercase, listed markets only:
//   `<symbol>@trade`, `<symbol>@aggTrade`, `<symbol>@depth`, `<symbol>@depth@100ms`,
//   `<symbol>@depth<5|10|20>`, `<symbol>@depth<5|10|20>@100ms`, `<symbol>@bookTicker`,
//   `<symbol>@kline_<interval>`, `<symbol>@ticker`, `<symbol>@miniTicker`;
// and the all-market streams `!ticker@arr`, `!miniTicker@arr`. Anything else (another case, another level
// count or update speed, an unlisted market) is not a stream name.
import { MARKETS } from '@contracts/markets';
import { CANDLE_INTERVALS } from '../shared/stores/market-data';

const SYMBOLS = new Map(MARKETS.map((m) => [m.symbol.toLowerCase(), m.symbol]));

/** Partial book depth streams: the top N levels of each side (Binance's valid N). */
export const PARTIAL_DEPTH_LEVELS = [5, 10, 20] as const;

export const STREAM_KINDS: ReadonlySet<string> = new Set([
  'trade',
  'aggTrade',
  'depth',
  'depth@100ms',
  ...PARTIAL_DEPTH_LEVELS.flatMap((n) => [`depth${n}`, `depth${n}@100ms`]),
  'bookTicker',
  'ticker',
  'miniTicker',
  ...Object.keys(CANDLE_INTERVALS).map((i) => `kline_${i}`),
]);

/**
 * The all-market streams: stream name → the per-symbol kind whose payloads its arrays hold. Their subscriber
 * index partition is the part before `@` (`!ticker`, `!miniTicker`; lambdas/ws/connection-store.ts), which no
 * market's can be.
 */
export const ALL_MARKET_STREAMS: ReadonlyMap<string, { kind: 'ticker' | 'miniTicker'; partition: string }> =
  new Map([
    ['!ticker@arr', { kind: 'ticker', partition: '!ticker' }],
    ['!miniTicker@arr', { kind: 'miniTicker', partition: '!miniTicker' }],
  ]);

export type StreamName =
  | {
      /** The market (upper case, as in contracts/markets.ts). */
      symbol: string;
      kind: string;
    }
  | { allMarkets: true; kind: 'ticker' | 'miniTicker' };

export function parseStream(stream: string): StreamName | undefined {
  const all = ALL_MARKET_STREAMS.get(stream);
  if (all) return { allMarkets: true, kind: all.kind };
  const at = stream.indexOf('@');
  if (at <= 0) return undefined;
  const symbol = SYMBOLS.get(stream.slice(0, at));
  const kind = stream.slice(at + 1);
  return symbol && STREAM_KINDS.has(kind) ? { symbol, kind } : undefined;
}

/** A served stream: `<symbol>@<kind>` for a listed market and a served kind, or an all-market stream. */
export function isValidStream(stream: string): boolean {
  return parseStream(stream) !== undefined;
}

export const streamName = (symbol: string, kind: string): string => `${symbol.toLowerCase()}@${kind}`;

/** `depth5` → 5, `depth10@100ms` → 10; undefined for any other kind. */
export function partialDepthLevels(kind: string): number | undefined {
  const m = /^depth(5|10|20)(?:@100ms)?$/.exec(kind);
  return m ? Number(m[1]) : undefined;
}
