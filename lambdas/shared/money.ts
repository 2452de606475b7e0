// Money in the ledger: bigint minor units per asset (ASSETS[].ledgerScale), decimal strings at the edge.
// Conversions from the engine's integers are exact because tickSize × stepSize is a whole number of quote
// minor units and stepSize a whole number of base minor units (checked when a market is loaded).
import { lotsToQty, notionalToQuote, ticksToPrice } from '@engine/core/market';
import type { MarketSpec } from '@engine/core/types';
import { ASSETS } from '@contracts/markets';

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export function assetScale(asset: string): number {
  const spec = ASSETS.find((a) => a.symbol === asset);
  if (!spec) throw new Error(`unknown asset ${asset}`);
  return spec.ledgerScale;
}

/** "1.5" with scale 8 → 150000000n; null if malformed or with more decimals than the scale allows. */
export function tryParseUnits(s: string, scale: number): bigint | null {
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > scale) return null;
  return BigInt(m[1] + frac.padEnd(scale, '0'));
}

export function parseUnits(s: string, scale: number): bigint {
  const v = tryParseUnits(s, scale);
  if (v === null) throw new Error(`"${s}" is not a non-negative decimal with at most ${scale} places`);
  return v;
}

/** 150000000n with scale 8 → "1.50000000" (Binance prints balances with all places). */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  return `${negative ? '-' : ''}${int}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

/** Minor units of `asset` in one unit of `step` (a decimal string), exactly; throws if not whole. */
function unitsPer(step: string, asset: string): bigint {
  const scale = assetScale(asset);
  const m = DECIMAL.exec(step);
  if (!m) throw new Error(`bad decimal ${step}`);
  const frac = m[2] ?? '';
  if (frac.replace(/0+$/, '').length > scale)
    throw new Error(`${step} is finer than the ${asset} ledger scale`);
  return BigInt(m[1] + frac.padEnd(scale, '0').slice(0, scale));
}

const cache = new Map<string, { perLot: bigint; perTickLot: bigint }>();

function factors(market: MarketSpec): { perLot: bigint; perTickLot: bigint } {
  let f = cache.get(market.symbol);
  if (!f) {
    const tick = DECIMAL.exec(market.tickSize) as RegExpExecArray;
    const step = DECIMAL.exec(market.stepSize) as RegExpExecArray;
    // Trailing zeros are not precision ('0.0100' is 0.01, as Binance writes its filters).
    const tickFrac = (tick[2] ?? '').replace(/0+$/, '');
    const stepFrac = (step[2] ?? '').replace(/0+$/, '');
    // tick × step as a decimal string, then in quote minor units
    const product = BigInt(tick[1] + tickFrac) * BigInt(step[1] + stepFrac);
    const places = tickFrac.length + stepFrac.length;
    const quoteScale = assetScale(market.quoteAsset);
    if (places > quoteScale)
      throw new Error(
        `${market.symbol}: tickSize × stepSize is finer than the ${market.quoteAsset} ledger scale`,
      );
    f = {
      perLot: unitsPer(market.stepSize, market.baseAsset),
      perTickLot: product * 10n ** BigInt(quoteScale - places),
    };
    cache.set(market.symbol, f);
  }
  return f;
}

/** Engine lots → base-asset minor units. */
export function lotsToBaseUnits(market: MarketSpec, lots: number): bigint {
  return BigInt(lots) * factors(market).perLot;
}

/** Engine notional (tick·lots) → quote-asset minor units. */
export function notionalToQuoteUnits(market: MarketSpec, tickLots: number): bigint {
  return BigInt(tickLots) * factors(market).perTickLot;
}

/** Fee on an amount at a decimal rate ("0.001"), rounded down: deterministic, never more than the rate. */
export function fee(amount: bigint, rate: string): bigint {
  const m = DECIMAL.exec(rate);
  if (!m) throw new Error(`bad fee rate ${rate}`);
  const frac = m[2] ?? '';
  const numerator = BigInt(m[1] + frac);
  return (amount * numerator) / 10n ** BigInt(frac.length);
}

/** "123.45" → "123.45000000": Binance prints prices and quantities with 8 places (never through floating point). */
export function fixed8(decimal: string): string {
  const [int, frac = ''] = decimal.split('.');
  return `${int}.${frac.padEnd(8, '0')}`;
}

/** Engine integers (ticks, lots, tick·lots) as the 8-place decimals of the REST API and the streams. */
export const priceText = (spec: MarketSpec, ticks: number): string =>
  fixed8(ticks === 0 ? '0' : ticksToPrice(spec, ticks));
export const qtyText = (spec: MarketSpec, lots: number): string =>
  fixed8(lots === 0 ? '0' : lotsToQty(spec, lots));
export const quoteText = (spec: MarketSpec, tickLots: number): string =>
  fixed8(tickLots === 0 ? '0' : notionalToQuote(spec, tickLots));
