// The matching engine's contract: commands in, events out (docs/architecture.md).
// Everything here is integers: prices in ticks, quantities in lots, notionals in tick·lots
// (one tick·lot = tickSize × stepSize of the quote asset). Decimal strings live only at the edge
// (see ./market.ts for the conversions). No AWS, no clock, no randomness in engine/core.

export const SIDES = ['BUY', 'SELL'] as const;
export type Side = (typeof SIDES)[number];

export const ORDER_TYPES = [
  'LIMIT',
  'MARKET',
  'LIMIT_MAKER',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

// Order types by what they carry: the one classification the engine, the API and the read models share.
// Plain comparisons rather than Set lookups: the engine runs them for every command, and short constant
// strings compare faster than they hash.
/** Rests untriggered until the last trade price reaches its stop price. */
export const isStopType = (t: string): boolean =>
  t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';
/** Has a limit price (and may rest on the book at it). */
export const isLimitPriced = (t: string): boolean =>
  t === 'LIMIT' || t === 'LIMIT_MAKER' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT_LIMIT';
/** Executes as a MARKET order (once triggered): may be sized by quote quantity. */
export const isMarketLike = (t: string): boolean =>
  t === 'MARKET' || t === 'STOP_LOSS' || t === 'TAKE_PROFIT';
/** Takes a time in force (LIMIT_MAKER is always GTC and takes none). */
export const needsTimeInForce = (t: string): boolean =>
  t === 'LIMIT' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT_LIMIT';

export const TIME_IN_FORCES = ['GTC', 'IOC', 'FOK'] as const;
export type TimeInForce = (typeof TIME_IN_FORCES)[number];

/** Binance self-trade prevention modes. */
export const STP_MODES = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const;
export type StpMode = (typeof STP_MODES)[number];

/** A market as the engine sees it: every number already on the integer grid. */
export interface MarketRules {
  symbol: string;
  /** Inclusive bounds of a limit/stop price, in ticks (≥ 1). */
  minPriceTicks: number;
  maxPriceTicks: number;
  /** Inclusive bounds of an order quantity, in lots (≥ 1). */
  minQtyLots: number;
  maxQtyLots: number;
  /** Minimum notional (price × quantity) in tick·lots; checked on limit orders and quote-quantity market orders. */
  minNotional: number;
  /** Iceberg orders: the most slices an order may have (Binance: 100 → visible ≥ quantity / 100). */
  maxIcebergParts: number;
}

export interface PlaceCommand {
  kind: 'place';
  market: string;
  /** Unique per exchange, positive safe integer, assigned before the order reaches the engine. */
  orderId: number;
  userId: number;
  clientOrderId: string;
  side: Side;
  type: OrderType;
  /** Required for LIMIT, LIMIT_MAKER, *_LIMIT; ignored otherwise. Default GTC. */
  timeInForce?: TimeInForce;
  /** Limit price in ticks (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT). */
  price?: number;
  /** Base quantity in lots. Required except for MARKET by quote amount. */
  quantity?: number;
  /** MARKET (and STOP_LOSS / TAKE_PROFIT) by quote amount, in tick·lots. */
  quoteQuantity?: number;
  /**
   * Trigger price in ticks for STOP_LOSS*, TAKE_PROFIT*. With `trailingDelta` it is optional and is the
   * activation price instead: the order starts trailing once a trade meets it (absent: from entry).
   */
  stopPrice?: number;
  /**
   * Trailing stop (STOP_LOSS*, TAKE_PROFIT* only): the move against the best trade price since activation
   * that triggers the order, in BIPS (1..9999; 100 = 1 %). See MarketBook's trailing section.
   */
  trailingDelta?: number;
  /** Visible slice in lots (iceberg); only for LIMIT GTC and LIMIT_MAKER. */
  icebergQuantity?: number;
  /** Default NONE. */
  stpMode?: StpMode;
  /** Engine time in ms, passed by the caller (the engine never reads a clock). */
  ts: number;
}

export interface CancelCommand {
  kind: 'cancel';
  market: string;
  orderId: number;
  userId: number;
  ts: number;
}

/**
 * Amend: a lower quantity keeps time priority (Binance "amend keep priority"); a new price (or a higher
 * quantity) re-queues the order at the back of its new level, and may trade if it now crosses.
 */
export interface AmendCommand {
  kind: 'amend';
  market: string;
  orderId: number;
  userId: number;
  /** New total quantity in lots (must exceed the executed quantity). */
  newQuantity?: number;
  /** New limit price in ticks. */
  newPrice?: number;
  ts: number;
}

export const CONTINGENCY_TYPES = ['OCO', 'OTO', 'OTOCO'] as const;
export type ContingencyType = (typeof CONTINGENCY_TYPES)[number];

/** One order of a list: a place command without the list-wide fields (each leg has its own orderId and clientOrderId). */
export type ListLeg = Omit<PlaceCommand, 'kind' | 'market' | 'userId' | 'ts' | 'stpMode'>;

export interface PlaceListCommand {
  kind: 'placeList';
  market: string;
  /** Unique per exchange, positive safe integer (its own sequence, not an order id). */
  listId: number;
  userId: number;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  /**
   * OCO:   [above, below] — same side, same quantity; one leg LIMIT_MAKER / TAKE_PROFIT / TAKE_PROFIT_LIMIT,
   *        the other STOP_LOSS / STOP_LOSS_LIMIT (Binance's aboveType/belowType rules per side).
   * OTO:   [working, pending] — working is LIMIT or LIMIT_MAKER; pending any type except MARKET-by-quote.
   * OTOCO: [working, pendingAbove, pendingBelow] — the two pending legs form an OCO once placed.
   */
  legs: ListLeg[];
  stpMode?: StpMode; // applies to every leg
  ts: number;
}

/** Cancels every live leg of the list (a `cancel` command for any leg of a list does the same, as on Binance). */
export interface CancelListCommand {
  kind: 'cancelList';
  market: string;
  listId: number;
  userId: number;
  ts: number;
}

export type Command = PlaceCommand | CancelCommand | AmendCommand | PlaceListCommand | CancelListCommand;

export type RejectReason =
  | 'UNKNOWN_MARKET'
  | 'DUPLICATE_ORDER_ID' // the id is live, or closed (or cancelled before its place arrived) and still remembered
  | 'STALE_ORDER_ID' // not live nor remembered, but at or below the largest forgotten id: maybe answered long ago
  | 'UNKNOWN_ORDER' // cancel/amend of an id not live in the market (a cancel of a never-seen id also tombstones it)
  | 'NOT_ORDER_OWNER'
  | 'INVALID_SIDE'
  | 'INVALID_ORDER_TYPE'
  | 'INVALID_PRICE'
  | 'INVALID_QUANTITY'
  | 'INVALID_STOP_PRICE'
  | 'INVALID_TRAILING_DELTA'
  | 'INVALID_ICEBERG'
  | 'INVALID_TIME_IN_FORCE'
  | 'INVALID_STP_MODE'
  | 'MIN_NOTIONAL'
  | 'OVERFLOW'
  | 'WOULD_TAKE' // LIMIT_MAKER that would match
  | 'INVALID_AMEND';

/** Why an order left the book without filling completely. */
export type CloseReason =
  | 'FILLED'
  | 'CANCELED' // by its owner
  | 'IOC' // unfilled remainder of an IOC / MARKET order
  | 'FOK' // a FOK order that could not fill completely
  | 'NO_LIQUIDITY' // MARKET order with an empty opposite book
  | 'STP_TAKER' // self-trade prevention expired the taker
  | 'STP_MAKER' // self-trade prevention expired the maker
  | 'LIST'; // expired because its sibling in an order list filled or triggered (Binance: EXPIRED)

interface EventBase {
  market: string;
  /** Per market, gap-free, starting at 1. */
  seq: number;
  /** Engine time of the command that produced the event (ms). */
  ts: number;
}

export interface AcceptedEvent extends EventBase {
  type: 'accepted';
  orderId: number;
  userId: number;
  clientOrderId: string;
  side: Side;
  orderType: OrderType;
  timeInForce: TimeInForce;
  price: number; // 0 for MARKET
  quantity: number; // 0 for MARKET by quote amount
  quoteQuantity: number; // 0 unless MARKET by quote amount
  stopPrice: number; // 0 unless a stop order
  icebergQuantity: number; // 0 unless an iceberg
  stpMode: StpMode;
  /** Present only for a trailing stop: its delta in BIPS. */
  trailingDelta?: number;
  /** Present only for a trailing stop that starts tracking on entry (no stopPrice, a last price exists): ts. */
  trailingTime?: number;
  /** Present only for a leg of an order list. */
  orderListId?: number;
  /** An OTO/OTOCO pending leg: accepted, not working (Binance status PENDING_NEW). */
  pending?: true;
}

export interface RejectedEvent extends EventBase {
  type: 'rejected';
  command: Command['kind'];
  /** The order's id; for a `placeList` the leg's id, for a `cancelList` 0. */
  orderId: number;
  userId: number;
  reason: RejectReason;
  /** Present only for a `cancelList`: the list named. */
  orderListId?: number;
}

export interface TradeEvent extends EventBase {
  type: 'trade';
  /** Per market, gap-free, starting at 1. */
  tradeId: number;
  price: number;
  quantity: number;
  makerOrderId: number;
  makerUserId: number;
  takerOrderId: number;
  takerUserId: number;
  takerSide: Side;
  /** Executed quantity of each order after this trade (lots) and cumulative notional (tick·lots). */
  makerExecutedQty: number;
  takerExecutedQty: number;
  /**
   * Cumulative notional of each order after this trade (tick·lots): absolute values let read models
   * SET an order's state idempotently instead of adding deltas.
   */
  makerCumQuote: number;
  takerCumQuote: number;
}

/** An order left the book (or never rested): filled, cancelled or expired. Final for that order. */
export interface ClosedEvent extends EventBase {
  type: 'closed';
  orderId: number;
  userId: number;
  reason: CloseReason;
  executedQty: number;
  /** Sum of price × quantity over its trades, in tick·lots. */
  cumQuote: number;
}

/** A stop order's trigger fired on the last trade price; it now enters matching as its limit/market type. */
export interface TriggeredEvent extends EventBase {
  type: 'triggered';
  orderId: number;
  userId: number;
  /** Present only for a trailing stop: when it started tracking (ms, engine time). */
  trailingTime?: number;
}

export interface AmendedEvent extends EventBase {
  type: 'amended';
  orderId: number;
  userId: number;
  price: number;
  quantity: number;
  /** true when the amend kept the order's time priority. */
  keptPriority: boolean;
  /** The order's executed quantity and cumulative quote when amended (Binance's REPLACED report shows them). */
  executedQty: number;
  cumQuote: number;
  /** Resting on the book when amended (not a stop waiting for its trigger, not a pending leg). */
  onBook: boolean;
  /** An OTO / OTOCO pending leg (Binance PENDING_NEW): present only then. */
  pending?: true;
}

/**
 * Level changes made by one command, Binance diff-depth style: `U` first and `u` last update id
 * (per market, gap-free across depth events), each level its new total quantity (0 = removed).
 * Emitted once per command that changed the visible book, after that command's other events.
 */
export interface DepthEvent extends EventBase {
  type: 'depth';
  U: number;
  u: number;
  bids: Array<[price: number, qty: number]>;
  asks: Array<[price: number, qty: number]>;
}

/** A pending leg was placed because the working leg filled completely (it is now NEW). */
export interface ActivatedEvent extends EventBase {
  type: 'activated';
  orderId: number;
  userId: number;
  orderListId: number;
  /** The leg's type: a stop now waits for its trigger, anything else is working. */
  orderType: OrderType;
}

/**
 * An order list's status. Placement accepted: each leg's `accepted`, then EXEC_STARTED/EXECUTING. Placement
 * refused: one `rejected` per leg, then ALL_DONE/REJECT with `rejectReason`. Every leg closed: ALL_DONE/ALL_DONE
 * after the last leg's `closed` (this releases the list's remaining funds lock downstream).
 */
export interface ListStatusEvent extends EventBase {
  type: 'listStatus';
  listId: number;
  userId: number;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  listStatusType: 'EXEC_STARTED' | 'UPDATED' | 'ALL_DONE';
  listOrderStatus: 'EXECUTING' | 'ALL_DONE' | 'REJECT';
  orderIds: number[];
  rejectReason?: RejectReason;
}

/** One prevented (taker, maker) pair, emitted immediately before the `closed` event(s) self-trade prevention causes. */
export interface PreventedEvent extends EventBase {
  type: 'prevented';
  /** Per market, gap-free from 1. */
  preventedMatchId: number;
  takerOrderId: number;
  makerOrderId: number;
  userId: number;
  /** The maker's price, in ticks. */
  price: number;
  /** Lots: the maker's remaining quantity when it expires (EXPIRE_MAKER / EXPIRE_BOTH), else 0. */
  makerPreventedQuantity: number;
  /** Lots: the taker's remaining quantity when it expires (EXPIRE_TAKER / EXPIRE_BOTH; 0 by quote amount), else 0. */
  takerPreventedQuantity?: number;
  /** The taker's mode. */
  stpMode: StpMode;
}

export type EngineEvent =
  | AcceptedEvent
  | RejectedEvent
  | TradeEvent
  | ClosedEvent
  | TriggeredEvent
  | AmendedEvent
  | DepthEvent
  | ActivatedEvent
  | ListStatusEvent
  | PreventedEvent;

/**
 * A market as operators define it (decimal strings, Binance filter names). `engine/core/market.ts`
 * turns it into `MarketRules` and converts prices/quantities between decimal strings and ticks/lots.
 */
export interface MarketSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** PRICE_FILTER */
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  /** LOT_SIZE */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** NOTIONAL */
  minNotional: string;
  /** ICEBERG_PARTS */
  maxIcebergParts: number;
  /** Fee rates as decimal fractions ("0.001" = 0.1 %), charged in the asset received (docs/architecture.md#invariants). */
  makerFee: string;
  takerFee: string;
}
