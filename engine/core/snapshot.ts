// The engine's full state as plain JSON (numbers, strings, arrays): what snapshot() writes, restore()
// reads, and stateHash() digests. Orders appear in priority order, so the format is canonical.
import type { ContingencyType, MarketRules, OrderType, Side, StpMode, TimeInForce } from './types';

export type OrderTuple = [
  orderId: number,
  userId: number,
  clientOrderId: string,
  side: Side,
  orderType: OrderType,
  timeInForce: TimeInForce,
  price: number,
  quantity: number,
  quoteQuantity: number,
  stopPrice: number,
  icebergQuantity: number,
  stpMode: StpMode,
  ts: number,
  acceptSeq: number,
  executed: number,
  cumQuote: number,
  visible: number,
  // Trailing stops only (absent otherwise, so other orders' tuples, and older snapshots, are unchanged):
  trailingDelta?: number,
  trailExtreme?: number,
  trailTime?: number,
];

export interface MarketSnapshot {
  rules: MarketRules;
  seq: number;
  tradeId: number;
  updateId: number;
  lastPrice: number;
  /** Best level first, each level oldest order first. */
  bids: OrderTuple[];
  asks: OrderTuple[];
  /** Pending stops in trigger order. */
  stops: OrderTuple[];
  /**
   * Recently closed order ids, oldest first (bounded): a reused id is still refused. Includes ids a cancel
   * named before their place arrived (tombstones), so the late place stays refused after a restore.
   */
  closedOrderIds: number[];
  /**
   * The largest order id ever forgotten (evicted from the closed ids above): a place naming an id at or
   * below it that is not live is refused as STALE_ORDER_ID. Written only when positive; absent (older
   * snapshots, or nothing forgotten yet) means 0.
   */
  forgottenMaxOrderId?: number;
  /** The last prevented self-trade's id (per market, gap-free). Written only when positive. */
  preventedMatchId?: number;
  /** Live order lists by ascending id. Written only when there is one. */
  lists?: ListSnapshot[];
}

/**
 * A live order list. Its live legs are in bids / asks / stops, except OTO / OTOCO pending legs not placed yet,
 * which are here; a leg in neither is closed.
 */
export interface ListSnapshot {
  listId: number;
  userId: number;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  /** Every leg, in command order. */
  orderIds: number[];
  /** Pending legs not placed yet (empty once the working leg filled, and for an OCO). */
  pending: OrderTuple[];
}

export interface EngineSnapshot {
  v: 1;
  markets: MarketSnapshot[];
}
