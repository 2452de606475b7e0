// Binance POST /api/v3/order parameters → a checked plan: the engine command (integers on the market grid)
// and the funds to lock first. Pure: no I/O, so every rule here is unit-tested directly.
import { priceToTicks, qtyToLots, quoteToNotional } from '@engine/core/market';
import {
  ORDER_TYPES,
  SIDES,
  isLimitPriced,
  isMarketLike,
  isStopType,
  needsTimeInForce,
  STP_MODES,
  TIME_IN_FORCES,
  type MarketSpec,
  type OrderType,
  type PlaceCommand,
  type Side,
  type StpMode,
  type TimeInForce,
} from '@engine/core/types';
import { lotsToBaseUnits, notionalToQuoteUnits } from '@lambdas/shared/money';
import { BinanceError, mandatoryParam } from '@lambdas/shared/http/binance-error';

export interface NewOrderParams {
  symbol: string;
  side: string;
  type: string;
  timeInForce?: string;
  quantity?: string;
  quoteOrderQty?: string;
  price?: string;
  stopPrice?: string;
  icebergQty?: string;
  newClientOrderId?: string;
  selfTradePreventionMode?: string;
  trailingDelta?: string;
}

export interface OrderPlan {
  /** The engine command without ids and time (filled in when the order is created). */
  command: Omit<PlaceCommand, 'orderId' | 'userId' | 'clientOrderId' | 'ts'>;
  /** What the user asked for; the engine may run a protected MARKET order as LIMIT IOC. */
  userType: OrderType;
  lock: { asset: string; amount: bigint };
}

export const DEFAULT_STP_MODE: StpMode = 'EXPIRE_MAKER';
/** Binance's MAX_NUM_ORDER_AMENDS filter: amendments one order may have (filters.md), in exchangeInfo. */
export const MAX_NUM_ORDER_AMENDS = 10;

/**
 * Binance's TRAILING_DELTA filter (filters.md), in BIPS: "above" bounds STOP_LOSS* BUY and TAKE_PROFIT* SELL
 * (their trigger lies above the market), "below" bounds STOP_LOSS* SELL and TAKE_PROFIT* BUY. Binance's own
 * values; exchangeInfo shows them as they are.
 */
export const TRAILING_DELTA_FILTER = {
  minTrailingAboveDelta: 10,
  maxTrailingAboveDelta: 2000,
  minTrailingBelowDelta: 10,
  maxTrailingBelowDelta: 2000,
} as const;

/** How far past the best opposite price a protected market order may trade (500 = 5 %). */
export const MARKET_PROTECTION_BPS = 500n;

const SIDE_SET: ReadonlySet<string> = new Set(SIDES);
const TYPES: ReadonlySet<string> = new Set(ORDER_TYPES);
const TIFS: ReadonlySet<string> = new Set(TIME_IN_FORCES);
const STP_SET: ReadonlySet<string> = new Set(STP_MODES);

const notRequired = (name: string) =>
  new BinanceError(400, -1106, `Parameter '${name}' sent when not required.`);
const filterFailure = (filter: string) => new BinanceError(400, -1013, `Filter failure: ${filter}`);
const DECIMAL = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;
const illegal = (name: string) =>
  new BinanceError(
    400,
    -1100,
    `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
  );

/** A parameter not sent, or sent empty: Binance reads both as absent. */
export const absent = (v: string | undefined): v is undefined | '' => v === undefined || v === '';

function decimal(params: NewOrderParams, name: keyof NewOrderParams): string | undefined {
  const value = params[name];
  if (absent(value)) return undefined;
  if (!DECIMAL.test(value)) throw illegal(name);
  return value;
}

/**
 * Whether planOrder needs the book's best opposite price for these parameters: a MARKET order by quantity
 * (NOTIONAL at the reference price, and a BUY's protection) or a trailing stop BUY without a stopPrice (its
 * protection reference). Empty strings count as absent (`absent`), as planOrder reads them.
 */
export function needsBestOpposite(p: {
  type?: string;
  side?: string;
  quoteOrderQty?: string;
  stopPrice?: string;
  trailingDelta?: string;
}): boolean {
  return (
    (p.type === 'MARKET' && absent(p.quoteOrderQty)) ||
    (p.side === 'BUY' && !absent(p.trailingDelta) && absent(p.stopPrice))
  );
}

/**
 * Checks the parameters against the market's filters and works out the engine command and the lock.
 * `bestOpposite` is the best ask (for a BUY) or bid (for a SELL) in ticks: a MARKET order's reference price
 * for its NOTIONAL check and, for a BUY, its protection limit.
 */
export function planOrder(spec: MarketSpec, params: NewOrderParams, bestOpposite?: number): OrderPlan {
  if (!SIDE_SET.has(params.side)) throw new BinanceError(400, -1117, 'Invalid side.');
  if (!TYPES.has(params.type)) throw new BinanceError(400, -1116, 'Invalid orderType.');
  const side = params.side as Side;
  const type = params.type as OrderType;
  const trailingDelta = trailingDeltaOf(params, side, type);
  // Binance spot's default: a taker that would trade with the same user's resting order expires that maker.
  const stpMode = (params.selfTradePreventionMode ?? DEFAULT_STP_MODE) as StpMode;
  if (!STP_SET.has(stpMode))
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'selfTradePreventionMode'.");

  const priceStr = decimal(params, 'price');
  const qtyStr = decimal(params, 'quantity');
  const quoteStr = decimal(params, 'quoteOrderQty');
  const stopStr = decimal(params, 'stopPrice');
  const icebergStr = decimal(params, 'icebergQty');

  let timeInForce: TimeInForce | undefined;
  if (needsTimeInForce(type)) {
    if (params.timeInForce === undefined) throw mandatoryParam('timeInForce');
    if (!TIFS.has(params.timeInForce)) throw new BinanceError(400, -1115, 'Invalid timeInForce.');
    timeInForce = params.timeInForce as TimeInForce;
  } else if (params.timeInForce !== undefined && type !== 'LIMIT_MAKER') {
    throw notRequired('timeInForce');
  }

  let price: number | undefined;
  if (isLimitPriced(type)) {
    if (priceStr === undefined) throw mandatoryParam('price');
    price = priceToTicks(spec, priceStr) ?? undefined;
    if (price === undefined) throw filterFailure('PRICE_FILTER');
  } else if (priceStr !== undefined) {
    throw notRequired('price');
  }

  let stopPrice: number | undefined;
  if (isStopType(type)) {
    // A trailing stop's stopPrice is optional: its activation price (absent: it trails from entry).
    if (stopStr === undefined) {
      if (trailingDelta === undefined) throw mandatoryParam('stopPrice');
    } else {
      stopPrice = priceToTicks(spec, stopStr) ?? undefined;
      if (stopPrice === undefined) throw filterFailure('PRICE_FILTER');
    }
  } else if (stopStr !== undefined) {
    throw notRequired('stopPrice');
  }

  let quantity: number | undefined;
  let quoteQuantity: number | undefined;
  if (isMarketLike(type) && quoteStr !== undefined) {
    if (qtyStr !== undefined)
      throw new BinanceError(400, -1106, "Parameter 'quantity' sent when not required.");
    if (type !== 'MARKET') throw notRequired('quoteOrderQty');
    quoteQuantity = quoteToNotional(spec, quoteStr) ?? undefined;
    if (quoteQuantity === undefined || quoteQuantity <= 0) throw filterFailure('NOTIONAL');
  } else {
    if (quoteStr !== undefined) throw notRequired('quoteOrderQty');
    if (qtyStr === undefined) throw mandatoryParam('quantity');
    quantity = qtyToLots(spec, qtyStr) ?? undefined;
    if (quantity === undefined) throw filterFailure(type === 'MARKET' ? 'MARKET_LOT_SIZE' : 'LOT_SIZE');
  }

  let icebergQuantity: number | undefined;
  if (icebergStr !== undefined) {
    const lots = qtyToLots(spec, icebergStr);
    if (lots === null || quantity === undefined || lots >= quantity) throw filterFailure('ICEBERG_PARTS');
    if (Math.ceil(quantity / lots) > spec.maxIcebergParts) throw filterFailure('ICEBERG_PARTS');
    if (type === 'LIMIT' && timeInForce !== 'GTC') {
      throw new BinanceError(400, -2010, 'Iceberg orders must be GTC.');
    }
    icebergQuantity = lots;
  }

  const minNotional = quoteToNotional(spec, spec.minNotional) ?? 0;
  if (price !== undefined && quantity !== undefined && price * quantity < minNotional)
    throw filterFailure('NOTIONAL');
  if (quoteQuantity !== undefined && quoteQuantity < minNotional) throw filterFailure('NOTIONAL');
  // A MARKET order by quantity is checked against NOTIONAL at the reference price (the best opposite
  // price), as Binance checks it at its average price: refused here, not accepted and expired later.
  if (
    type === 'MARKET' &&
    quantity !== undefined &&
    bestOpposite !== undefined &&
    bestOpposite * quantity < minNotional
  )
    throw filterFailure('NOTIONAL');
  if (price !== undefined && quantity !== undefined && price * quantity > Number.MAX_SAFE_INTEGER) {
    throw filterFailure('NOTIONAL');
  }

  const base = {
    kind: 'place' as const,
    market: spec.symbol,
    side,
    stpMode,
    icebergQuantity,
    stopPrice,
    ...(trailingDelta !== undefined ? { trailingDelta } : {}),
  };

  // Funds: a SELL locks its base quantity; a BUY locks the quote it can spend at most.
  if (side === 'SELL') {
    if (quantity === undefined) {
      throw new BinanceError(400, -1013, 'quoteOrderQty is supported for BUY market orders only.');
    }
    return {
      command: { ...base, type, timeInForce, price, quantity },
      userType: type,
      lock: { asset: spec.baseAsset, amount: lotsToBaseUnits(spec, quantity) },
    };
  }
  if (quoteQuantity !== undefined) {
    return {
      command: { ...base, type: 'MARKET', quoteQuantity },
      userType: type,
      lock: { asset: spec.quoteAsset, amount: notionalToQuoteUnits(spec, quoteQuantity) },
    };
  }
  const qty = quantity as number;
  if (price !== undefined) {
    return {
      command: { ...base, type, timeInForce, price, quantity: qty },
      userType: type,
      lock: { asset: spec.quoteAsset, amount: notionalToQuoteUnits(spec, price * qty) },
    };
  }
  // A BUY by base quantity without a limit (MARKET, STOP_LOSS, TAKE_PROFIT) has no bounded cost, so it runs
  // as a protected limit order: IOC at most MARKET_PROTECTION_BPS past the reference price. A plain stop's
  // reference is its stopPrice; a trailing one's is where it would trigger if it started trailing there, its
  // stopPrice (or, trailing from entry, the best ask) raised by its delta, rounded up to a tick.
  const reference =
    type === 'MARKET' ? bestOpposite : trailingReference(stopPrice, bestOpposite, trailingDelta);
  if (reference === undefined)
    throw new BinanceError(400, -2010, 'Order would not execute: no liquidity on the book.');
  const maxTicks = priceToTicks(spec, spec.maxPrice) ?? Number.MAX_SAFE_INTEGER;
  const capped = Number((BigInt(reference) * (10_000n + MARKET_PROTECTION_BPS) + 9_999n) / 10_000n);
  const protectedPrice = Math.min(capped, maxTicks);
  if (protectedPrice * qty > Number.MAX_SAFE_INTEGER) throw filterFailure('NOTIONAL');
  const engineType: OrderType =
    type === 'MARKET' ? 'LIMIT' : type === 'STOP_LOSS' ? 'STOP_LOSS_LIMIT' : 'TAKE_PROFIT_LIMIT';
  return {
    command: { ...base, type: engineType, timeInForce: 'IOC', price: protectedPrice, quantity: qty },
    userType: type,
    lock: { asset: spec.quoteAsset, amount: notionalToQuoteUnits(spec, protectedPrice * qty) },
  };
}

const trailingIllegal = () =>
  new BinanceError(
    400,
    -1100,
    "Illegal characters found in parameter 'trailingDelta'; legal range is '^[0-9]{1,20}$'.",
  );

/**
 * `trailingDelta` (BIPS, a whole number) of a STOP_LOSS* / TAKE_PROFIT* order, checked against the
 * TRAILING_DELTA filter for its direction; undefined when not sent.
 */
function trailingDeltaOf(params: NewOrderParams, side: Side, type: OrderType): number | undefined {
  const raw = params.trailingDelta;
  if (absent(raw)) return undefined;
  if (!/^[0-9]{1,20}$/.test(raw)) throw trailingIllegal();
  if (!isStopType(type)) throw notRequired('trailingDelta');
  const delta = Number(raw);
  const above = (side === 'BUY') === (type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT');
  const f = TRAILING_DELTA_FILTER;
  const [min, max] = above
    ? [f.minTrailingAboveDelta, f.maxTrailingAboveDelta]
    : [f.minTrailingBelowDelta, f.maxTrailingBelowDelta];
  if (delta < min || delta > max) throw filterFailure('TRAILING_DELTA');
  return delta;
}

/** A stop BUY's protection reference in ticks (see planOrder); undefined when there is none. */
function trailingReference(
  stopPrice: number | undefined,
  bestAsk: number | undefined,
  trailingDelta: number | undefined,
): number | undefined {
  if (trailingDelta === undefined) return stopPrice;
  const from = stopPrice ?? bestAsk;
  if (from === undefined) return undefined;
  return Number((BigInt(from) * BigInt(10_000 + trailingDelta) + 9_999n) / 10_000n);
}
