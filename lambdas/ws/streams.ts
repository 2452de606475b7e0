// Binance market stream names Cirrus serves: `<symbol>@trade`, `<symbol>@depth`, `<symbol>@depth@100ms`,
// `<symbol>@bookTicker`, `<symbol>@kline_<interval>`, `<symbol>@ticker`, `<symbol>@miniTicker`; symbols lowercase,
// listed markets only.
import { MARKETS } from '../../lib/markets';
import { CANDLE_INTERVALS } from '../shared/stores/market-data';

const SYMBOLS = new Map(MARKETS.map((m) => [m.symbol.toLowerCase(), m.symbol]));
export const STREAM_KINDS: ReadonlySet<string> = new Set([
  'trade',
  'depth',
  'depth@100ms',
  'bookTicker',
  'ticker',
  'miniTicker',
  ...Object.keys(CANDLE_INTERVALS).map((i) => `kline_${i}`),
]);

export interface StreamName {
  /** The market (upper case, as in lib/markets.ts). */
  symbol: string;
  kind: string;
}

export function parseStream(stream: string): StreamName | undefined {
  const at = stream.indexOf('@');
  if (at <= 0) return undefined;
  const symbol = SYMBOLS.get(stream.slice(0, at));
  const kind = stream.slice(at + 1);
  return symbol && STREAM_KINDS.has(kind) ? { symbol, kind } : undefined;
}

/** `<symbol>@<kind>` for a listed market and a served stream kind. */
export function isValidStream(stream: string): boolean {
  return parseStream(stream) !== undefined;
}

export const streamName = (symbol: string, kind: string): string => `${symbol.toLowerCase()}@${kind}`;
