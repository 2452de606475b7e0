// Decimal strings ↔ the engine's integers (docs/architecture.md#invariants), exactly: strings are parsed into scaled bigints,
// never through floating point. A price is a whole number of ticks, a quantity a whole number of lots,
// a notional a whole number of tick·lots (tickSize × stepSize quote units).
import type { MarketRules, MarketSpec } from './types';

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

interface Scaled {
  value: bigint; // digits without the point
  scale: number; // digits after the point
}

function parse(s: string): Scaled | null {
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  return { value: BigInt(m[1] + frac), scale: frac.length };
}

function rescale(x: Scaled, scale: number): bigint {
  return x.value * 10n ** BigInt(scale - x.scale);
}

function mustParse(s: string, what: string): Scaled {
  const x = parse(s);
  if (!x) throw new Error(`market definition: ${what} "${s}" is not a decimal`);
  return x;
}

/** x / unit as an exact integer, or null when x is not a whole number of units. */
function units(x: Scaled, unit: Scaled): bigint | null {
  const scale = Math.max(x.scale, unit.scale);
  const a = rescale(x, scale);
  const b = rescale(unit, scale);
  return a % b === 0n ? a / b : null;
}

function floorUnits(x: Scaled, unit: Scaled): bigint {
  const scale = Math.max(x.scale, unit.scale);
  return rescale(x, scale) / rescale(unit, scale);
}

function ceilUnits(x: Scaled, unit: Scaled): bigint {
  const scale = Math.max(x.scale, unit.scale);
  const b = rescale(unit, scale);
  return (rescale(x, scale) + b - 1n) / b;
}

function format(n: bigint, scale: number): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

function toSafe(n: bigint | null): number | null {
  if (n === null || n > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(n);
}

/** One tick·lot: the unit of a notional. */
function notionalUnit(spec: MarketSpec): Scaled {
  const tick = mustParse(spec.tickSize, 'tickSize');
  const step = mustParse(spec.stepSize, 'stepSize');
  return { value: tick.value * step.value, scale: tick.scale + step.scale };
}

export function rulesFromSpec(spec: MarketSpec): MarketRules {
  const tick = mustParse(spec.tickSize, 'tickSize');
  const step = mustParse(spec.stepSize, 'stepSize');
  const minPrice = units(mustParse(spec.minPrice, 'minPrice'), tick);
  const minQty = units(mustParse(spec.minQty, 'minQty'), step);
  if (minPrice === null || minQty === null)
    throw new Error(`market ${spec.symbol}: minPrice/minQty off the grid`);
  return {
    symbol: spec.symbol,
    minPriceTicks: Math.max(1, Number(minPrice)),
    maxPriceTicks: Number(floorUnits(mustParse(spec.maxPrice, 'maxPrice'), tick)),
    minQtyLots: Math.max(1, Number(minQty)),
    maxQtyLots: Number(floorUnits(mustParse(spec.maxQty, 'maxQty'), step)),
    minNotional: Number(ceilUnits(mustParse(spec.minNotional, 'minNotional'), notionalUnit(spec))),
    maxIcebergParts: spec.maxIcebergParts,
  };
}

/** Price → ticks; null if malformed, off the tick grid or outside [minPrice, maxPrice]. */
export function priceToTicks(spec: MarketSpec, s: string): number | null {
  const x = parse(s);
  if (!x) return null;
  const ticks = toSafe(units(x, mustParse(spec.tickSize, 'tickSize')));
  if (ticks === null) return null;
  const rules = rulesFromSpec(spec);
  return ticks >= rules.minPriceTicks && ticks <= rules.maxPriceTicks ? ticks : null;
}

/** Quantity → lots; null if malformed, off the step grid or outside [minQty, maxQty]. */
export function qtyToLots(spec: MarketSpec, s: string): number | null {
  const x = parse(s);
  if (!x) return null;
  const lots = toSafe(units(x, mustParse(spec.stepSize, 'stepSize')));
  if (lots === null) return null;
  const rules = rulesFromSpec(spec);
  return lots >= rules.minQtyLots && lots <= rules.maxQtyLots ? lots : null;
}

/** Quote amount → tick·lots, rounded down to a whole tick·lot; null if malformed or too large. */
export function quoteToNotional(spec: MarketSpec, s: string): number | null {
  const x = parse(s);
  if (!x) return null;
  return toSafe(floorUnits(x, notionalUnit(spec)));
}

export function ticksToPrice(spec: MarketSpec, ticks: number): string {
  const tick = mustParse(spec.tickSize, 'tickSize');
  return format(BigInt(ticks) * tick.value, tick.scale);
}

export function lotsToQty(spec: MarketSpec, lots: number): string {
  const step = mustParse(spec.stepSize, 'stepSize');
  return format(BigInt(lots) * step.value, step.scale);
}

export function notionalToQuote(spec: MarketSpec, tickLots: number): string {
  const unit = notionalUnit(spec);
  return format(BigInt(tickLots) * unit.value, unit.scale);
}
