// One market: its two book sides, pending stop orders, counters, and the matching rules (docs/architecture.md).
// Everything a command does happens here, synchronously, and is reported as events in `out`.
import { BookSide } from './book-side';
import { Order } from './order';
import type { PriceLevel } from './price-level';
import { BIPS, StopBook, trailOffset } from './stop-book';
import type {
  AcceptedEvent,
  AmendCommand,
  CancelCommand,
  CloseReason,
  EngineEvent,
  MarketRules,
  OrderType,
  PlaceCommand,
  RejectReason,
  Side,
  TimeInForce,
  TriggeredEvent,
} from './types';
import { isLimitPriced, isStopType } from './types';

export { trailOffset };

/** A market's live orders by id; closed ids are remembered (bounded) to refuse reuse. */
export interface OrderRegistry {
  get(orderId: number): Order | undefined;
  /**
   * Why a new order may not take this id: DUPLICATE_ORDER_ID if it is live or a remembered closed id,
   * STALE_ORDER_ID if neither but at or below the largest forgotten id; undefined if it is free.
   */
  refusal(orderId: number): 'DUPLICATE_ORDER_ID' | 'STALE_ORDER_ID' | undefined;
  add(order: Order): void;
  close(order: Order): void;
  /** Remembers `orderId` as closed without an order (a tombstone): a later place of it is a duplicate. */
  rememberClosed(orderId: number): void;
}

const isTimeInForce = (t: string): boolean => t === 'GTC' || t === 'IOC' || t === 'FOK';
const isStpMode = (m: string): boolean =>
  m === 'NONE' || m === 'EXPIRE_TAKER' || m === 'EXPIRE_MAKER' || m === 'EXPIRE_BOTH';
const MAX = Number.MAX_SAFE_INTEGER;

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

export class MarketBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  /** Pending stop orders, by trigger price (./stop-book.ts). */
  readonly stops = new StopBook();
  seq = 0;
  tradeId = 0;
  updateId = 0;
  lastPrice = 0;

  // Per-command scratch: each touched level's price and visible quantity before the command (for the
  // depth diff). Flat arrays with a linear search: a command touches very few levels.
  private readonly touchedBids: Touched = { prices: [], before: [], count: 0 };
  private readonly touchedAsks: Touched = { prices: [], before: [], count: 0 };
  private ts = 0;
  private traded = false;

  constructor(
    readonly rules: MarketRules,
    readonly registry: OrderRegistry,
  ) {}

  // ---- commands ---------------------------------------------------------------------------------

  place(cmd: PlaceCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const reason = this.validatePlace(cmd);
    if (reason) {
      this.reject('place', cmd.orderId, cmd.userId, reason, out);
      return;
    }
    const type = cmd.type;
    const tif: TimeInForce =
      isLimitPriced(type) && type !== 'LIMIT_MAKER'
        ? (cmd.timeInForce ?? 'GTC')
        : type === 'LIMIT_MAKER'
          ? 'GTC'
          : 'IOC';
    const order = new Order(
      cmd.orderId,
      cmd.userId,
      this.rules.symbol,
      cmd.clientOrderId,
      cmd.side,
      type,
      tif,
      isLimitPriced(type) ? (cmd.price as number) : 0,
      cmd.quantity ?? 0,
      cmd.quoteQuantity ?? 0,
      isStopType(type) ? (cmd.stopPrice ?? 0) : 0,
      cmd.icebergQuantity ?? 0,
      cmd.stpMode ?? 'NONE',
      cmd.ts,
      this.seq + 1,
    );
    const accepted: AcceptedEvent = {
      type: 'accepted',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: cmd.ts,
      orderId: order.orderId,
      userId: order.userId,
      clientOrderId: order.clientOrderId,
      side: order.side,
      orderType: type,
      timeInForce: tif,
      price: order.price,
      quantity: order.quantity,
      quoteQuantity: order.quoteQuantity,
      stopPrice: order.stopPrice,
      icebergQuantity: order.icebergQuantity,
      stpMode: order.stpMode,
    };
    const trailingDelta = cmd.trailingDelta;
    if (trailingDelta !== undefined) {
      order.trailingDelta = trailingDelta;
      accepted.trailingDelta = trailingDelta;
      // No activation price: it tracks from entry, relative to the last trade (or from the next trade).
      if (order.stopPrice === 0 && this.lastPrice > 0) {
        order.trailExtreme = this.lastPrice;
        order.trailTime = cmd.ts;
        accepted.trailingTime = cmd.ts;
      }
    }
    out.push(accepted);
    this.registry.add(order);
    if (isStopType(type)) {
      this.stops.add(order);
    } else {
      this.execute(order, out);
      this.triggerStops(out);
    }
    this.flushDepth(out);
  }

  cancel(cmd: CancelCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const order = this.registry.get(cmd.orderId);
    if (!order || order.market !== this.rules.symbol) return this.cancelUnknown(cmd, out);
    if (order.userId !== cmd.userId)
      return this.reject('cancel', cmd.orderId, cmd.userId, 'NOT_ORDER_OWNER', out);
    if (order.level) this.detach(order);
    else this.stops.remove(order);
    this.close(order, 'CANCELED', out);
    this.flushDepth(out);
  }

  /**
   * A cancel naming no live order of this market. It can overtake its order's place (the place's send
   * failed and the outbox relay delivers it later, or it waits in a DLQ): if this market never saw the id
   * (not live, not remembered, above the forgotten watermark), it is remembered as closed (a tombstone), so
   * the late place is refused as a duplicate and never runs; that refusal releases the order's funds. The
   * answer is unchanged: rejected, UNKNOWN_ORDER. The order API sends a cancel only for its own user's
   * order in this market, so the id is a real one. Out of line: the rejection path only.
   */
  private cancelUnknown(cmd: CancelCommand, out: EngineEvent[]): void {
    const id = cmd.orderId;
    if (isPositiveInt(id) && this.registry.refusal(id) === undefined) this.registry.rememberClosed(id);
    this.reject('cancel', id, cmd.userId, 'UNKNOWN_ORDER', out);
  }

  amend(cmd: AmendCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const order = this.registry.get(cmd.orderId);
    // Unlike a cancel, an amend of a never-seen id leaves no tombstone: it asks to change the order, not
    // to kill it, so the place arriving later still runs (as placed; the amend is not replayed).
    if (!order || order.market !== this.rules.symbol)
      return this.reject('amend', cmd.orderId, cmd.userId, 'UNKNOWN_ORDER', out);
    if (order.userId !== cmd.userId)
      return this.reject('amend', cmd.orderId, cmd.userId, 'NOT_ORDER_OWNER', out);
    const newQty = cmd.newQuantity ?? order.quantity;
    const newPrice = cmd.newPrice ?? order.price;
    const r = this.rules;
    const invalid =
      !order.level || // only orders resting on the book can be amended
      (cmd.newQuantity === undefined && cmd.newPrice === undefined) ||
      !isPositiveInt(newQty) ||
      newQty > r.maxQtyLots ||
      newQty <= order.executed ||
      !isPositiveInt(newPrice) ||
      newPrice < r.minPriceTicks ||
      newPrice > r.maxPriceTicks ||
      newPrice * newQty > MAX ||
      (order.icebergQuantity > 0 && order.icebergQuantity >= newQty) ||
      (order.orderType === 'LIMIT_MAKER' && this.crossesBest(order.side, newPrice));
    if (invalid) return this.reject('amend', cmd.orderId, cmd.userId, 'INVALID_AMEND', out);

    const level = order.level as PriceLevel;
    if (newPrice === order.price && newQty <= order.quantity) {
      // Lower quantity at the same price keeps time priority.
      this.touch(order.side, level.price);
      order.quantity = newQty;
      const visible = Math.min(order.visible, order.remaining);
      level.visibleTotal += visible - order.visible;
      order.visible = visible;
      this.amended(order, true, out);
    } else {
      this.detach(order);
      order.price = newPrice;
      order.quantity = newQty;
      this.amended(order, false, out);
      this.execute(order, out);
      this.triggerStops(out);
    }
    this.flushDepth(out);
  }

  // ---- matching ---------------------------------------------------------------------------------

  /** Runs `order` as a taker against the opposite side, then rests or closes it. */
  private execute(order: Order, out: EngineEvent[]): void {
    const isBuy = order.side === 'BUY';
    const opposite = isBuy ? this.asks : this.bids;
    const limit = order.price;
    const byQuote = order.quantity === 0;
    let quoteLeft = order.quoteQuantity;

    if (order.timeInForce === 'FOK' && !this.canFillCompletely(order)) {
      this.close(order, 'FOK', out);
      return;
    }
    const hadLiquidity = opposite.best() !== undefined;
    let expired: CloseReason | undefined;
    let quoteExhausted = false;

    outer: for (;;) {
      const level = opposite.best();
      if (!level) break;
      if (limit !== 0 && (isBuy ? level.price > limit : level.price < limit)) break;
      let maker = level.head;
      while (maker) {
        if (order.userId === maker.userId && order.stpMode !== 'NONE') {
          const mode = order.stpMode;
          if (mode === 'EXPIRE_TAKER') {
            expired = 'STP_TAKER';
            break outer;
          }
          const next = maker.next;
          this.detach(maker);
          this.close(maker, 'STP_MAKER', out);
          if (mode === 'EXPIRE_BOTH') {
            expired = 'STP_TAKER';
            break outer;
          }
          maker = next;
          continue;
        }
        const price = level.price;
        const qty = byQuote
          ? Math.min(maker.visible, Math.floor(quoteLeft / price))
          : Math.min(maker.visible, order.remaining);
        if (qty === 0) {
          quoteExhausted = true;
          break outer;
        }
        this.trade(maker, order, level, qty, out);
        if (byQuote) quoteLeft -= price * qty;
        if (maker.visible === 0) {
          if (maker.remaining === 0) {
            this.detach(maker);
            this.close(maker, 'FILLED', out);
          } else {
            // Iceberg: the next slice goes to the back of the queue.
            level.remove(maker);
            maker.refreshVisible();
            level.pushBack(maker);
          }
        }
        if (byQuote ? quoteLeft < price : order.remaining === 0) {
          if (byQuote) quoteExhausted = true;
          break outer;
        }
        maker = level.count === 0 ? null : level.head;
      }
    }

    if (expired) return this.close(order, expired, out);
    if (byQuote) {
      if (quoteExhausted && order.executed > 0) return this.close(order, 'FILLED', out);
      return this.close(order, hadLiquidity ? 'IOC' : 'NO_LIQUIDITY', out);
    }
    if (order.remaining === 0) return this.close(order, 'FILLED', out);
    if (limit === 0) return this.close(order, hadLiquidity ? 'IOC' : 'NO_LIQUIDITY', out);
    if (order.timeInForce === 'IOC') return this.close(order, 'IOC', out);
    if (order.timeInForce === 'FOK') return this.close(order, 'FOK', out);
    // GTC: rest on its own side, at the back of its level.
    const own = isBuy ? this.bids : this.asks;
    order.refreshVisible();
    this.touch(order.side, limit);
    own.getOrCreate(limit).pushBack(order);
  }

  /** FOK pre-check: the whole quantity is available within the limit, before any own order stops STP. */
  private canFillCompletely(order: Order): boolean {
    const isBuy = order.side === 'BUY';
    let need = order.remaining;
    for (const level of (isBuy ? this.asks : this.bids).bestFirst()) {
      if (isBuy ? level.price > order.price : level.price < order.price) return false;
      for (let o = level.head; o; o = o.next) {
        if (o.userId === order.userId && order.stpMode !== 'NONE') {
          if (order.stpMode === 'EXPIRE_MAKER') continue;
          return false;
        }
        need -= o.remaining;
        if (need <= 0) return true;
      }
    }
    return false;
  }

  private trade(maker: Order, taker: Order, level: PriceLevel, qty: number, out: EngineEvent[]): void {
    const price = level.price;
    this.touch(maker.side, price);
    maker.executed += qty;
    maker.visible -= qty;
    maker.cumQuote += price * qty;
    level.visibleTotal -= qty;
    taker.executed += qty;
    taker.cumQuote += price * qty;
    this.lastPrice = price;
    this.traded = true;
    if (this.stops.trailing.length !== 0) this.trail(price);
    out.push({
      type: 'trade',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      tradeId: ++this.tradeId,
      price,
      quantity: qty,
      makerOrderId: maker.orderId,
      makerUserId: maker.userId,
      takerOrderId: taker.orderId,
      takerUserId: taker.userId,
      takerSide: taker.side,
      makerExecutedQty: maker.executed,
      takerExecutedQty: taker.executed,
      makerCumQuote: maker.cumQuote,
      takerCumQuote: taker.cumQuote,
    });
  }

  /** After trades moved the last price: fire stops whose condition holds, oldest first, cascading. */
  private triggerStops(out: EngineEvent[]): void {
    if (!this.traded) return;
    this.traded = false;
    const stops = this.stops;
    for (;;) {
      if (stops.size === 0) break;
      // Each fired stop may trade and move the price again: look again from the oldest holding stop.
      const stop = stops.firstHolding(this.lastPrice);
      if (stop === undefined) break;
      stops.remove(stop);
      const triggered: TriggeredEvent = {
        type: 'triggered',
        market: this.rules.symbol,
        seq: ++this.seq,
        ts: this.ts,
        orderId: stop.orderId,
        userId: stop.userId,
      };
      if (stop.trailingDelta > 0) triggered.trailingTime = stop.trailTime;
      out.push(triggered);
      this.execute(stop, out);
    }
    this.traded = false;
  }

  // ---- trailing stops -----------------------------------------------------------------------------
  // Binance semantics (faqs/trailing-stop-faq.md): a trailing stop tracks the best trade price since it
  // started tracking (its "extreme": lowest for BUY, highest for SELL) and triggers once a trade moves
  // `trailingDelta` BIPS against it: BUY at last ≥ extreme × (1 + δ/10000), SELL at last ≤ extreme ×
  // (1 − δ/10000). It starts tracking on entry (from the last trade price, or the next trade when there is
  // none) or, with a stopPrice, on the first trade that meets the stop condition; that trade's price is the
  // first extreme. Every trade updates the extremes (a sweep's prices are monotonic, so checking the trigger
  // at the command's last price, as plain stops do, is the same as checking it after each trade).
  // Integers only: the trigger distance is ceil(extreme × δ / 10000) ticks, so the trigger is exact in ticks
  // and rounds away from the extreme (a BUY triggers at the next whole tick at or above the exact price, a
  // SELL at the whole tick at or below it): never earlier than Binance's exact condition.

  /** A trade at `price`: starts tracking or moves the extreme of every pending trailing stop. */
  private trail(price: number): void {
    const stops = this.stops.trailing;
    for (let i = 0; i < stops.length; i++) {
      const o = stops[i];
      const extreme = o.trailExtreme;
      if (extreme === 0) {
        if (o.stopPrice === 0 || this.stopHoldsAt(price, o.side, o.orderType, o.stopPrice)) {
          o.trailExtreme = price;
          o.trailTime = this.ts;
        }
      } else if (o.side === 'BUY' ? price < extreme : price > extreme) {
        o.trailExtreme = price;
      }
    }
  }

  private stopHolds(side: Side, type: OrderType, stopPrice: number): boolean {
    return this.stopHoldsAt(this.lastPrice, side, type, stopPrice);
  }

  private stopHoldsAt(last: number, side: Side, type: OrderType, stopPrice: number): boolean {
    if (last === 0) return false;
    const lossType = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
    // BUY stop-loss fires on a rise, BUY take-profit on a fall; SELL the other way round.
    const firesOnRise = (side === 'BUY') === lossType;
    return firesOnRise ? last >= stopPrice : last <= stopPrice;
  }

  // ---- validation ---------------------------------------------------------------------------------

  private validatePlace(cmd: PlaceCommand): RejectReason | undefined {
    const r = this.rules;
    if (!isPositiveInt(cmd.orderId)) return 'DUPLICATE_ORDER_ID';
    const idRefusal = this.registry.refusal(cmd.orderId);
    if (idRefusal !== undefined) return idRefusal;
    const type = cmd.type;
    if (cmd.side !== 'BUY' && cmd.side !== 'SELL') return 'INVALID_SIDE';
    if (cmd.stpMode !== undefined && !isStpMode(cmd.stpMode)) return 'INVALID_STP_MODE';
    if (cmd.timeInForce !== undefined && !isTimeInForce(cmd.timeInForce)) return 'INVALID_TIME_IN_FORCE';
    const priced = isLimitPriced(type);
    if (!priced && !isStopType(type) && type !== 'MARKET') return 'INVALID_ORDER_TYPE';
    if (priced) {
      if (!isPositiveInt(cmd.price) || cmd.price < r.minPriceTicks || cmd.price > r.maxPriceTicks)
        return 'INVALID_PRICE';
    }
    const trailing = cmd.trailingDelta;
    if (trailing !== undefined) {
      if (!isStopType(type) || !isPositiveInt(trailing) || trailing >= BIPS) return 'INVALID_TRAILING_DELTA';
      if (r.maxPriceTicks * trailing > MAX) return 'OVERFLOW';
    }
    if (isStopType(type) && (trailing === undefined || cmd.stopPrice !== undefined)) {
      const sp = cmd.stopPrice;
      if (!isPositiveInt(sp) || sp < r.minPriceTicks || sp > r.maxPriceTicks) return 'INVALID_STOP_PRICE';
      if (this.stopHolds(cmd.side, type, sp)) return 'INVALID_STOP_PRICE';
    }
    const byQuote = cmd.quantity === undefined && cmd.quoteQuantity !== undefined;
    if (byQuote) {
      if (priced) return 'INVALID_QUANTITY';
      if (!isPositiveInt(cmd.quoteQuantity)) return 'INVALID_QUANTITY';
      if (cmd.quoteQuantity < r.minNotional) return 'MIN_NOTIONAL';
    } else {
      const q = cmd.quantity;
      if (cmd.quoteQuantity !== undefined) return 'INVALID_QUANTITY';
      if (!isPositiveInt(q) || q < r.minQtyLots || q > r.maxQtyLots) return 'INVALID_QUANTITY';
      if (priced) {
        const notional = (cmd.price as number) * q;
        if (notional > MAX) return 'OVERFLOW';
        if (notional < r.minNotional) return 'MIN_NOTIONAL';
      } else if (q * r.maxPriceTicks > MAX) {
        return 'OVERFLOW';
      }
    }
    if (type === 'LIMIT_MAKER' || type === 'MARKET' || type === 'STOP_LOSS' || type === 'TAKE_PROFIT') {
      if (cmd.timeInForce !== undefined && type !== 'LIMIT_MAKER') return 'INVALID_TIME_IN_FORCE';
    }
    if (cmd.icebergQuantity !== undefined) {
      const ice = cmd.icebergQuantity;
      const q = cmd.quantity ?? 0;
      const icebergType =
        (type === 'LIMIT' && (cmd.timeInForce ?? 'GTC') === 'GTC') || type === 'LIMIT_MAKER';
      if (!icebergType || !isPositiveInt(ice) || ice >= q || Math.ceil(q / ice) > r.maxIcebergParts)
        return 'INVALID_ICEBERG';
    }
    if (type === 'LIMIT_MAKER' && this.crossesBest(cmd.side, cmd.price as number)) return 'WOULD_TAKE';
    return undefined;
  }

  private crossesBest(side: Side, price: number): boolean {
    const best = (side === 'BUY' ? this.asks : this.bids).best();
    return !!best && (side === 'BUY' ? price >= best.price : price <= best.price);
  }

  // ---- book upkeep and events ----------------------------------------------------------------------

  private detach(order: Order): void {
    const level = order.level as PriceLevel;
    const side = order.side === 'BUY' ? this.bids : this.asks;
    this.touch(order.side, level.price);
    level.remove(order);
    if (level.count === 0) side.removeLevel(level);
  }

  private touch(side: Side, price: number): void {
    const isBid = side === 'BUY';
    const t = isBid ? this.touchedBids : this.touchedAsks;
    for (let i = 0; i < t.count; i++) if (t.prices[i] === price) return;
    const level = (isBid ? this.bids : this.asks).get(price);
    // Scratch arrays are reused across commands: write by index instead of reallocating.
    t.prices[t.count] = price;
    t.before[t.count] = level ? level.visibleTotal : 0;
    t.count++;
  }

  private close(order: Order, reason: CloseReason, out: EngineEvent[]): void {
    this.registry.close(order);
    out.push({
      type: 'closed',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      orderId: order.orderId,
      userId: order.userId,
      reason,
      executedQty: order.executed,
      cumQuote: order.cumQuote,
    });
  }

  private amended(order: Order, keptPriority: boolean, out: EngineEvent[]): void {
    out.push({
      type: 'amended',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      orderId: order.orderId,
      userId: order.userId,
      price: order.price,
      quantity: order.quantity,
      keptPriority,
    });
  }

  private reject(
    command: 'place' | 'cancel' | 'amend',
    orderId: number,
    userId: number,
    reason: RejectReason,
    out: EngineEvent[],
  ): void {
    out.push({
      type: 'rejected',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      command,
      orderId,
      userId,
      reason,
    });
  }

  /** One depth event with every level whose visible quantity this command changed. */
  private flushDepth(out: EngineEvent[]): void {
    if (this.touchedBids.count + this.touchedAsks.count === 0) return;
    const bids = changedLevels(this.bids, this.touchedBids);
    const asks = changedLevels(this.asks, this.touchedAsks);
    const changes = bids.length + asks.length;
    if (changes === 0) return;
    sortLevels(bids, true);
    sortLevels(asks, false);
    const U = this.updateId + 1;
    this.updateId += changes;
    out.push({
      type: 'depth',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      U,
      u: this.updateId,
      bids,
      asks,
    });
  }
}

/** Best price first; most diffs have one or two levels, which need no comparator call. */
function sortLevels(levels: Array<[number, number]>, descending: boolean): void {
  const n = levels.length;
  if (n < 2) return;
  if (n === 2) {
    const first = levels[0];
    if (descending ? first[0] < levels[1][0] : first[0] > levels[1][0]) {
      levels[0] = levels[1];
      levels[1] = first;
    }
    return;
  }
  levels.sort(descending ? (a, b) => b[0] - a[0] : (a, b) => a[0] - b[0]);
}

/** The side a command did not touch: one shared, frozen empty list (most commands touch one side). */
const NO_LEVELS = Object.freeze([]) as unknown as Array<[number, number]>;

interface Touched {
  prices: number[];
  before: number[];
  count: number;
}

/** Levels whose visible quantity differs from before; resets the scratch. */
function changedLevels(side: BookSide, t: Touched): Array<[number, number]> {
  if (t.count === 0) return NO_LEVELS;
  const changed: Array<[number, number]> = [];
  for (let i = 0; i < t.count; i++) {
    const level = side.get(t.prices[i]);
    const after = level ? level.visibleTotal : 0;
    if (after !== t.before[i]) changed.push([t.prices[i], after]);
  }
  t.count = 0;
  return changed;
}
