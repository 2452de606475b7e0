// Binance POST /api/v3/orderList/oco (and the legacy POST /api/v3/order/oco) parameters → a checked plan:
// each leg planned by the single-order rules (plan-order.ts: filters, engine command, funds) and ONE lock
// for the list, as Binance locks an OCO: a SELL the base quantity once, a BUY the larger of its legs'
// quote needs (only one leg ever executes: the other expires when the first fills or triggers).
// POST /api/v3/orderList/oto and /otoco likewise: a LIMIT/LIMIT_MAKER working leg with its own lock, and the
// pending leg (OTO) or pending OCO pair (OTOCO, by the same OCO rules) whose need is the list's lock. Pure.
import {
  isLimitPriced,
  isStopType,
  type ListLeg,
  type MarketSpec,
  type OrderType,
  type StpMode,
} from '@engine/core/types';
import { BinanceError, mandatoryParam } from '@lambdas/shared/http/binance-error';
import { absent, planOrder, type NewOrderParams, type OrderPlan } from './plan-order';

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
  /** An OTO/OTOCO pending leg: placed on the book only once the working leg has fully filled. */
  pending?: true;
}

export interface ListPlan {
  contingencyType: 'OCO' | 'OTO' | 'OTOCO';
  stpMode: StpMode;
  /** OCO: [above, below]; OTO: [working, pending]; OTOCO: [working, pendingAbove, pendingBelow]. */
  legs: ListLegPlan[];
  /**
   * The list's own lock (keyed by −listId): OCO both legs' need; OTO/OTOCO the pending legs' need (OTOCO: the
   * larger of the two pending legs, as planOco computes it).
   */
  lock: { asset: string; amount: bigint };
  /** OTO/OTOCO only: the working leg's own lock, exactly planOrder's lock for the working leg. */
  workingLock?: { asset: string; amount: bigint };
}

/** An OTO/OTOCO working leg's parameters, as Binance names them after the `working` prefix. */
export interface OtoWorkingParams {
  type?: string;
  side?: string;
  clientOrderId?: string;
  price?: string;
  quantity?: string;
  icebergQty?: string;
  timeInForce?: string;
}

/** An OTO pending leg's parameters, as Binance names them after the `pending` prefix (no quoteOrderQty). */
export interface OtoPendingParams extends OtoWorkingParams {
  stopPrice?: string;
  trailingDelta?: string;
}

/** Binance POST /api/v3/orderList/oto. */
export interface OtoParams {
  symbol: string;
  listClientOrderId?: string;
  selfTradePreventionMode?: string;
  working: OtoWorkingParams;
  pending: OtoPendingParams;
}

/** Binance POST /api/v3/orderList/otoco: the working leg as an OTO's, the pending pair as an OCO's. */
export interface OtocoParams {
  symbol: string;
  listClientOrderId?: string;
  selfTradePreventionMode?: string;
  working: OtoWorkingParams;
  pendingSide?: string;
  pendingQuantity?: string;
  pendingAbove: OcoLegParams;
  pendingBelow: OcoLegParams;
}

/** Order types an OCO leg may have (Binance aboveType/belowType, pendingAboveType/pendingBelowType). */
const OCO_TYPES: ReadonlySet<string> = new Set([
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'LIMIT_MAKER',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
]);
/** Order types an OTO/OTOCO working leg may have (Binance workingType). */
const WORKING_TYPES: ReadonlySet<string> = new Set(['LIMIT', 'LIMIT_MAKER']);
const isStopLoss = (t: string) => t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT';
const isTakeProfit = (t: string) => t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';

/** `prefix` + `name` as Binance spells a list leg's parameter: `above` + `price` → `abovePrice`. */
const prefixed = (prefix: string, name: string) => `${prefix}${name[0].toUpperCase()}${name.slice(1)}`;

/** How a leg's single-order parameter names read in the list's request (`price` → `abovePrice`). */
type Rename = (name: string) => string;
const legNames =
  (prefix: string, quantityName = prefixed(prefix, 'quantity')): Rename =>
  (name) =>
    name === 'quantity' ? quantityName : prefixed(prefix, name);

/** A single-order error about `price` names the leg's own parameter (`abovePrice`), as Binance does. */
function renamed(err: unknown, rename: Rename): unknown {
  if (!(err instanceof BinanceError)) return err;
  const msg = err.message.replace(
    /'(price|quantity|stopPrice|icebergQty|trailingDelta|timeInForce)'/g,
    (_m, name: string) => `'${rename(name)}'`,
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

/**
 * The price a leg is compared at, in ticks (Binance's OCO price restrictions, rest-api.md): a LIMIT_MAKER's or
 * TAKE_PROFIT_LIMIT's limit price; a TAKE_PROFIT's and a stop-loss leg's trigger (none for a trailing stop
 * without one). The engine's own check (MarketBook.ocoPrices) is the same.
 */
const actingPrice = (type: string, plan: OrderPlan): number | undefined =>
  type === 'LIMIT_MAKER' || type === 'TAKE_PROFIT_LIMIT' ? plan.command.price : plan.command.stopPrice;

/** One list leg as planned: the user's type, planOrder's plan, the client id it asked for. */
interface PlannedLeg {
  type: string;
  plan: OrderPlan;
  clientOrderId?: string;
}

/** The parameters of one list leg, the list-wide ones (symbol, side, quantity, STP) already resolved. */
interface LegInput {
  symbol: string;
  side: string;
  type: string;
  quantity?: string;
  price?: string;
  stopPrice?: string;
  trailingDelta?: string;
  icebergQty?: string;
  timeInForce?: string;
  clientOrderId?: string;
  selfTradePreventionMode?: string;
}

/**
 * One leg by the single-order rules (planOrder), errors naming the leg's own parameters. Binance's list-leg
 * iceberg rules first: only a limit-priced leg, and only GTC unless LIMIT_MAKER (-1106, -1160).
 */
function planLeg(spec: MarketSpec, leg: LegInput, prefix: string, rename: Rename, best?: number): PlannedLeg {
  const type = leg.type;
  const icebergSent = !absent(leg.icebergQty);
  if (icebergSent && !isLimitPriced(type))
    throw new BinanceError(400, -1106, `Parameter '${prefix}IcebergQty' sent when not required.`);
  if (icebergSent && type !== 'LIMIT_MAKER' && leg.timeInForce !== 'GTC')
    throw new BinanceError(
      400,
      -1160,
      `Parameter '${prefix}IcebergQty' is not supported if '${prefix}TimeInForce' is not GTC.`,
    );
  const params: NewOrderParams = {
    symbol: leg.symbol,
    side: leg.side,
    type,
    quantity: leg.quantity,
    price: leg.price,
    stopPrice: leg.stopPrice,
    icebergQty: leg.icebergQty,
    trailingDelta: leg.trailingDelta,
    timeInForce: type === 'LIMIT_MAKER' ? undefined : leg.timeInForce,
    selfTradePreventionMode: leg.selfTradePreventionMode,
  };
  try {
    return { type, plan: planOrder(spec, params, best), clientOrderId: leg.clientOrderId };
  } catch (err) {
    throw renamed(err, rename);
  }
}

/** How an OCO pair's parameters are named: planOco's `above…`/`quantity`, an OTOCO's `pendingAbove…`. */
interface PairNames {
  above: string;
  below: string;
  quantity: string;
}
const OCO_NAMES: PairNames = { above: 'above', below: 'below', quantity: 'quantity' };
const OTOCO_NAMES: PairNames = { above: 'pendingAbove', below: 'pendingBelow', quantity: 'pendingQuantity' };

interface PairInput {
  symbol: string;
  side?: string;
  quantity?: string;
  above: OcoLegParams;
  below: OcoLegParams;
  selfTradePreventionMode?: string;
}

/**
 * An OCO pair (an OCO, or an OTOCO's pending legs) by Binance's OCO rules: the legs' types per side, one of
 * them contingent, each leg by the single-order rules, the price relation between them. [above, below].
 */
function planPair(spec: MarketSpec, p: PairInput, names: PairNames, best?: number): [PlannedLeg, PlannedLeg] {
  if (p.side !== 'BUY' && p.side !== 'SELL') throw new BinanceError(400, -1117, 'Invalid side.');
  if (p.above.type === undefined) throw mandatoryParam(`${names.above}Type`);
  if (p.below.type === undefined) throw mandatoryParam(`${names.below}Type`);
  if (absent(p.quantity)) throw mandatoryParam(names.quantity);
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

  const [above, below] = (['above', 'below'] as const).map((position) => {
    const leg = p[position];
    const prefix = names[position];
    return planLeg(
      spec,
      {
        ...leg,
        symbol: p.symbol,
        side,
        type: leg.type as string,
        quantity: p.quantity,
        selfTradePreventionMode: p.selfTradePreventionMode,
      },
      prefix,
      legNames(prefix, names.quantity),
      best,
    );
  });

  // Binance's price relationship (without the last price, which the engine's trigger rules then decide):
  // SELL: the upper leg's price > the stop's trigger; BUY: the stop's trigger > the lower leg's price.
  const upper = actingPrice(above.type, above.plan);
  const lower = actingPrice(below.type, below.plan);
  if (upper !== undefined && lower !== undefined && upper <= lower)
    throw new BinanceError(400, -2010, 'The relationship of the prices for the orders is not correct.');
  return [above, below];
}

/** Binance: listClientOrderId and the legs' client ids are distinct (-2010 as a duplicate order). */
function checkClientIds(listClientOrderId: string | undefined, legs: PlannedLeg[]): void {
  const clientIds = [listClientOrderId, ...legs.map((l) => l.clientOrderId)].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  if (new Set(clientIds).size !== clientIds.length)
    throw new BinanceError(400, -2010, 'Duplicate order sent.');
}

/** A planned leg as the list plan's leg: the command without the list-wide fields. */
function legPlan(leg: PlannedLeg, stpMode: StpMode, pending = false): ListLegPlan {
  const { kind: _kind, market: _market, stpMode: _stp, ...command } = leg.plan.command;
  return {
    command,
    userType: leg.plan.userType,
    clientOrderId: leg.clientOrderId,
    stpMode,
    ...(pending ? { pending: true as const } : {}),
  };
}

const largerLock = (legs: PlannedLeg[]) => ({
  asset: legs[0].plan.lock.asset,
  amount: legs.reduce((max, l) => (l.plan.lock.amount > max ? l.plan.lock.amount : max), 0n),
});

/**
 * Checks an OCO against Binance's rules and the market's filters. `bestOpposite` is the best ask (BUY) or bid
 * (SELL) in ticks: a trailing stop BUY without a stop price takes its protection reference from it.
 */
export function planOco(spec: MarketSpec, p: OcoParams, bestOpposite?: number): ListPlan {
  const legs = planPair(spec, p, OCO_NAMES, bestOpposite);
  checkClientIds(p.listClientOrderId, legs);
  const stpMode = legs[0].plan.command.stpMode ?? 'NONE';
  return {
    contingencyType: 'OCO',
    stpMode,
    legs: legs.map((l) => legPlan(l, stpMode)),
    lock: largerLock(legs),
  };
}

const bestFor = (side: string | undefined, best: { bid?: number; ask?: number }) =>
  side === 'BUY' ? best.ask : side === 'SELL' ? best.bid : undefined;

/** The OTO/OTOCO working leg's mandatory parameters (Binance's order: type, side, price, quantity). */
function checkWorkingSent(w: OtoWorkingParams): void {
  if (absent(w.type)) throw mandatoryParam('workingType');
  if (absent(w.side)) throw mandatoryParam('workingSide');
  if (absent(w.price)) throw mandatoryParam('workingPrice');
  if (absent(w.quantity)) throw mandatoryParam('workingQuantity');
}

/**
 * The working leg: LIMIT or LIMIT_MAKER only (Binance workingType's supported values; any other type is an
 * invalid order type here, -1116), then the single-order rules.
 */
function planWorking(
  spec: MarketSpec,
  symbol: string,
  w: OtoWorkingParams,
  stp: string | undefined,
  best: { bid?: number; ask?: number },
): PlannedLeg {
  if (!WORKING_TYPES.has(w.type as string)) throw new BinanceError(400, -1116, 'Invalid orderType.');
  return planLeg(
    spec,
    { ...w, symbol, side: w.side as string, type: w.type as string, selfTradePreventionMode: stp },
    'working',
    legNames('working'),
    bestFor(w.side, best),
  );
}

/**
 * Checks an OTO (Binance POST /api/v3/orderList/oto) against Binance's rules and the market's filters: a
 * LIMIT/LIMIT_MAKER working leg and a pending leg of any type (never MARKET by quote: there is no such
 * parameter), each by the single-order rules. `best` = the book's best bid/ask in ticks (a BUY leg's reference
 * is the ask, a SELL leg's the bid). The list's lock is the pending leg's need, `workingLock` the working's.
 */
export function planOto(spec: MarketSpec, p: OtoParams, best: { bid?: number; ask?: number } = {}): ListPlan {
  checkWorkingSent(p.working);
  if (absent(p.pending.type)) throw mandatoryParam('pendingType');
  if (absent(p.pending.side)) throw mandatoryParam('pendingSide');
  if (absent(p.pending.quantity)) throw mandatoryParam('pendingQuantity');
  const working = planWorking(spec, p.symbol, p.working, p.selfTradePreventionMode, best);
  const pending = planLeg(
    spec,
    {
      ...p.pending,
      symbol: p.symbol,
      side: p.pending.side as string,
      type: p.pending.type as string,
      selfTradePreventionMode: p.selfTradePreventionMode,
    },
    'pending',
    legNames('pending'),
    bestFor(p.pending.side, best),
  );
  checkClientIds(p.listClientOrderId, [working, pending]);
  const stpMode = working.plan.command.stpMode ?? 'NONE';
  return {
    contingencyType: 'OTO',
    stpMode,
    legs: [legPlan(working, stpMode), legPlan(pending, stpMode, true)],
    lock: pending.plan.lock,
    workingLock: working.plan.lock,
  };
}

/**
 * Checks an OTOCO (Binance POST /api/v3/orderList/otoco): the working leg as an OTO's, the pending pair by the
 * OCO rules (planOco's), named pendingSide/pendingQuantity/pendingAbove…/pendingBelow…. The list's lock is
 * the larger of the pending legs' needs (one side, so one asset), `workingLock` the working leg's.
 */
export function planOtoco(
  spec: MarketSpec,
  p: OtocoParams,
  best: { bid?: number; ask?: number } = {},
): ListPlan {
  checkWorkingSent(p.working);
  if (absent(p.pendingSide)) throw mandatoryParam('pendingSide');
  if (absent(p.pendingQuantity)) throw mandatoryParam('pendingQuantity');
  const working = planWorking(spec, p.symbol, p.working, p.selfTradePreventionMode, best);
  const pending = planPair(
    spec,
    {
      symbol: p.symbol,
      side: p.pendingSide,
      quantity: p.pendingQuantity,
      above: p.pendingAbove,
      below: p.pendingBelow,
      selfTradePreventionMode: p.selfTradePreventionMode,
    },
    OTOCO_NAMES,
    bestFor(p.pendingSide, best),
  );
  checkClientIds(p.listClientOrderId, [working, ...pending]);
  const stpMode = working.plan.command.stpMode ?? 'NONE';
  return {
    contingencyType: 'OTOCO',
    stpMode,
    legs: [legPlan(working, stpMode), ...pending.map((l) => legPlan(l, stpMode, true))],
    lock: largerLock(pending),
    workingLock: working.plan.lock,
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
  if (p.price === undefined || p.price === '') throw mandatoryParam('price');
  if (p.stopPrice === undefined || p.stopPrice === '') throw mandatoryParam('stopPrice');
  if (p.stopLimitPrice !== undefined && p.stopLimitTimeInForce === undefined)
    throw mandatoryParam('stopLimitTimeInForce');
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
