// Binance POST /api/v3/orderList/oco (and the legacy POST /api/v3/order/oco) parameters → a checked plan:
// each leg planned by the single-order rules (plan-order.ts: filters, engine command, funds) and ONE lock
// for the list, as Binance locks an OCO: a SELL the base quantity once, a BUY the larger of its legs'
// quote needs (only one leg ever executes: the other expires when the first fills or triggers). Pure.
import {
  isLimitPriced,
  isStopType,
  type ListLeg,
  type MarketSpec,
  type OrderType,
  type StpMode,
} from '@engine/core/types';
import { BinanceError } from '@lambdas/shared/http/binance-error';
import { planOrder, type NewOrderParams, type OrderPlan } from './plan-order';

/** One leg's parameters, as Binance names them after the `above`/`below` prefix. */
export interface OcoLegParams {
  type?: string;
  clientOrderId?: string;
  icebergQty?: string;
  price?: string;
  stopPrice?: string;
  trailingDelta?: string;
  timeInForce?: string;
}

export interface OcoParams {
  symbol: string;
  listClientOrderId?: string;
  side: string;
  quantity?: string;
  above: OcoLegParams;
  below: OcoLegParams;
  selfTradePreventionMode?: string;
}

export interface ListLegPlan {
  /** The engine leg without its order id (allocated in the accept transaction). */
  command: Omit<ListLeg, 'orderId' | 'clientOrderId'>;
  /** What the user asked for (a protected STOP_LOSS BUY runs in the engine as STOP_LOSS_LIMIT IOC). */
  userType: OrderType;
  clientOrderId?: string;
  stpMode: StpMode;
}

export interface ListPlan {
  contingencyType: 'OCO';
  stpMode: StpMode;
  /** [above, below], the engine's OCO order. */
  legs: ListLegPlan[];
  lock: { asset: string; amount: bigint };
}

/** Order types an OCO leg may have (Binance aboveType/belowType). */
const OCO_TYPES: ReadonlySet<string> = new Set([
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'LIMIT_MAKER',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
]);
const isStopLoss = (t: string) => t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT';
const isTakeProfit = (t: string) => t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';

const missing = (name: string) =>
  new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/** A single-order error about `price` names the leg's own parameter (`abovePrice`), as Binance does. */
function renamed(err: unknown, prefix: 'above' | 'below'): unknown {
  if (!(err instanceof BinanceError)) return err;
  const msg = err.message.replace(
    /'(price|stopPrice|icebergQty|trailingDelta|timeInForce)'/g,
    (_m, name: string) => `'${prefix}${name[0].toUpperCase()}${name.slice(1)}'`,
  );
  return msg === err.message ? err : new BinanceError(err.statusCode, err.code, msg);
}

/** Binance's per-side leg rules: the error for a leg of the wrong kind on this side, or undefined. */
function legTypeError(
  side: 'BUY' | 'SELL',
  position: 'above' | 'below',
  type: string,
): BinanceError | undefined {
  const sellAbove = side === 'SELL' && position === 'above';
  const buyBelow = side === 'BUY' && position === 'below';
  // The leg that waits for a better price: SELL above, BUY below (LIMIT_MAKER or TAKE_PROFIT*).
  if (sellAbove || buyBelow) {
    if (isStopLoss(type))
      return side === 'SELL'
        ? new BinanceError(400, -1197, 'A stop loss order in a sell OCO must be below.')
        : new BinanceError(400, -1196, 'A stop loss order in a buy OCO must be above.');
    return undefined;
  }
  // The protective leg: SELL below, BUY above (STOP_LOSS*).
  if (type === 'LIMIT_MAKER')
    return side === 'SELL'
      ? new BinanceError(400, -1166, 'A limit order in a sell OCO must be above.')
      : new BinanceError(400, -1165, 'A limit order in a buy OCO must be below.');
  if (isTakeProfit(type))
    return side === 'SELL'
      ? new BinanceError(400, -1199, 'A take profit order in a sell OCO must be above.')
      : new BinanceError(400, -1198, 'A take profit order in a buy OCO must be below.');
  return undefined;
}

/** The price a leg acts at, in ticks: a LIMIT_MAKER's limit, a stop's trigger (none for a trailing one without). */
const actingPrice = (type: string, plan: OrderPlan): number | undefined =>
  type === 'LIMIT_MAKER' ? plan.command.price : plan.command.stopPrice;

/**
 * Checks an OCO against Binance's rules and the market's filters. `bestOpposite` is the best ask (BUY) or bid
 * (SELL) in ticks: a trailing stop BUY without a stop price takes its protection reference from it.
 */
export function planOco(spec: MarketSpec, p: OcoParams, bestOpposite?: number): ListPlan {
  if (p.side !== 'BUY' && p.side !== 'SELL') throw new BinanceError(400, -1117, 'Invalid side.');
  if (p.above.type === undefined) throw missing('aboveType');
  if (p.below.type === undefined) throw missing('belowType');
  if (p.quantity === undefined || p.quantity === '') throw missing('quantity');
  for (const t of [p.above.type, p.below.type])
    if (!OCO_TYPES.has(t)) throw new BinanceError(400, -1158, 'Order type not supported in OCO.');
  const side = p.side;
  for (const [position, leg] of [
    ['above', p.above],
    ['below', p.below],
  ] as const) {
    const err = legTypeError(side, position, leg.type as string);
    if (err) throw err;
  }
  if (!isStopType(p.above.type) && !isStopType(p.below.type))
    throw new BinanceError(400, -1168, 'At least one OCO order must be contingent.');

  const legs = (['above', 'below'] as const).map((position) => {
    const leg = p[position];
    const type = leg.type as string;
    const icebergSent = leg.icebergQty !== undefined && leg.icebergQty !== '';
    if (icebergSent && !isLimitPriced(type))
      throw new BinanceError(400, -1106, `Parameter '${position}IcebergQty' sent when not required.`);
    if (icebergSent && type !== 'LIMIT_MAKER' && leg.timeInForce !== 'GTC')
      throw new BinanceError(
        400,
        -1160,
        `Parameter '${position}IcebergQty' is not supported if '${position}TimeInForce' is not GTC.`,
      );
    const params: NewOrderParams = {
      symbol: p.symbol,
      side,
      type,
      quantity: p.quantity,
      price: leg.price,
      stopPrice: leg.stopPrice,
      icebergQty: leg.icebergQty,
      trailingDelta: leg.trailingDelta,
      timeInForce: type === 'LIMIT_MAKER' ? undefined : leg.timeInForce,
      selfTradePreventionMode: p.selfTradePreventionMode,
    };
    let plan: OrderPlan;
    try {
      plan = planOrder(spec, params, bestOpposite);
    } catch (err) {
      throw renamed(err, position);
    }
    return { type, plan, clientOrderId: leg.clientOrderId };
  });

  // Binance's price relationship (without the last price, which the engine's trigger rules then decide):
  // SELL: the upper leg's price > the stop's trigger; BUY: the stop's trigger > the lower leg's price.
  const upper = actingPrice(legs[0].type, legs[0].plan);
  const lower = actingPrice(legs[1].type, legs[1].plan);
  if (upper !== undefined && lower !== undefined && upper <= lower)
    throw new BinanceError(400, -2010, 'The relationship of the prices for the orders is not correct.');
  const clientIds = [p.listClientOrderId, legs[0].clientOrderId, legs[1].clientOrderId].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  if (new Set(clientIds).size !== clientIds.length)
    throw new BinanceError(400, -2010, 'Duplicate order sent.');

  const stpMode = legs[0].plan.command.stpMode ?? 'NONE';
  const lockAmount = legs.reduce((max, l) => (l.plan.lock.amount > max ? l.plan.lock.amount : max), 0n);
  return {
    contingencyType: 'OCO',
    stpMode,
    legs: legs.map(({ plan, clientOrderId }) => {
      const { kind: _kind, market: _market, stpMode: _stp, ...command } = plan.command;
      return { command, userType: plan.userType, clientOrderId, stpMode };
    }),
    lock: { asset: legs[0].plan.lock.asset, amount: lockAmount },
  };
}

/**
 * The legacy POST /api/v3/order/oco as the current endpoint's parameters: the limit leg (LIMIT_MAKER) and the
 * stop leg (STOP_LOSS, or STOP_LOSS_LIMIT with stopLimitPrice), above or below by side.
 */
export interface LegacyOcoParams {
  symbol: string;
  listClientOrderId?: string;
  side: string;
  quantity?: string;
  limitClientOrderId?: string;
  price?: string;
  limitIcebergQty?: string;
  trailingDelta?: string;
  stopClientOrderId?: string;
  stopPrice?: string;
  stopLimitPrice?: string;
  stopIcebergQty?: string;
  stopLimitTimeInForce?: string;
  selfTradePreventionMode?: string;
}

export function ocoFromLegacy(p: LegacyOcoParams): OcoParams {
  if (p.price === undefined || p.price === '') throw missing('price');
  if (p.stopPrice === undefined || p.stopPrice === '') throw missing('stopPrice');
  if (p.stopLimitPrice !== undefined && p.stopLimitTimeInForce === undefined)
    throw missing('stopLimitTimeInForce');
  const limit: OcoLegParams = {
    type: 'LIMIT_MAKER',
    clientOrderId: p.limitClientOrderId,
    price: p.price,
    icebergQty: p.limitIcebergQty,
  };
  const stop: OcoLegParams = {
    type: p.stopLimitPrice !== undefined ? 'STOP_LOSS_LIMIT' : 'STOP_LOSS',
    clientOrderId: p.stopClientOrderId,
    price: p.stopLimitPrice,
    stopPrice: p.stopPrice,
    trailingDelta: p.trailingDelta,
    icebergQty: p.stopIcebergQty,
    timeInForce: p.stopLimitTimeInForce,
  };
  const sell = p.side === 'SELL';
  return {
    symbol: p.symbol,
    listClientOrderId: p.listClientOrderId,
    side: p.side,
    quantity: p.quantity,
    above: sell ? limit : stop,
    below: sell ? stop : limit,
    selfTradePreventionMode: p.selfTradePreventionMode,
  };
}
