// One market: its two book sides, pending stop orders, counters, and the matching rules (docs/architecture.md).
// Everything a command does happens here, synchronously, and is reported as events in `out`.
import { BookSide } from './book-side';
import { Order } from './order';
import type { PriceLevel } from './price-level';
import { BIPS, StopBook, setTrailExtreme, trailOffset } from './stop-book';
import { OrderList } from './order-list';
import type {
  AcceptedEvent,
  AmendCommand,
  CancelCommand,
  CancelListCommand,
  ListLeg,
  ListStatusEvent,
  PlaceListCommand,
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
  /** Live order lists by id (docs/engine.md#order-lists). */
  readonly lists = new Map<number, OrderList>();
  seq = 0;
  tradeId = 0;
  updateId = 0;
  lastPrice = 0;
  /** Per market, gap-free: the last prevented self-trade's id. */
  preventedMatchId = 0;

  // Per-command scratch: each touched level's price and visible quantity before the command (for the
  // depth diff). Flat arrays with a linear search: a command touches very few levels.
  private readonly touchedBids: Touched = { prices: [], before: [], count: 0 };
  private readonly touchedAsks: Touched = { prices: [], before: [], count: 0 };
  private ts = 0;
  private traded = false;
  /** Pending legs placed by a fill, waiting for the taker of the moment to finish before they run. */
  private readonly activated: Order[] = [];

  constructor(
    readonly rules: MarketRules,
    readonly registry: OrderRegistry,
  ) {}

  // ---- commands ---------------------------------------------------------------------------------

  place(cmd: PlaceCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const reason = this.validatePlace(cmd, false);
    if (reason) {
      this.reject('place', cmd.orderId, cmd.userId, reason, out);
      return;
    }
    const order = this.accept(cmd, out, undefined, false);
    if (isStopType(order.orderType)) {
      this.stops.add(order);
    } else {
      this.run(order, out);
      this.triggerStops(out);
    }
    this.flushDepth(out);
  }

  /** A new order from a valid place command (or list leg), registered, and its `accepted` event. */
  private accept(cmd: PlaceCommand, out: EngineEvent[], listId: number | undefined, pending: boolean): Order {
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
      // A pending leg enters when it is placed (activated), and starts tracking then.
      if (!pending) this.trackFromEntry(order);
      if (order.trailTime !== 0) accepted.trailingTime = order.trailTime;
    }
    if (listId !== undefined) accepted.orderListId = listId;
    if (pending) {
      accepted.pending = true;
      order.pending = true;
    }
    out.push(accepted);
    this.registry.add(order);
    return order;
  }

  private trackFromEntry(order: Order): void {
    if (order.stopPrice === 0 && this.lastPrice > 0) {
      setTrailExtreme(order, this.lastPrice);
      order.trailTime = this.ts;
    }
  }

  cancel(cmd: CancelCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const order = this.registry.get(cmd.orderId);
    if (!order || order.market !== this.rules.symbol) return this.cancelUnknown(cmd, out);
    if (order.userId !== cmd.userId)
      return this.reject('cancel', cmd.orderId, cmd.userId, 'NOT_ORDER_OWNER', out);
    // A leg of a list cancels the whole list, as on Binance.
    if (order.list !== null) this.cancelLegs(order.list, out);
    else {
      this.unlink(order);
      this.close(order, 'CANCELED', out);
    }
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
    // A lower quantity at the same price keeps priority and works on any live order: resting, a stop waiting
    // for its trigger, a list's pending leg. With a one-cancels-the-other partner, both legs take the new
    // quantity (Binance keeps the pair's quantities equal). Anything else re-prices or grows the order: only
    // an order resting on the book, and no list leg but an OTO / OTOCO working leg (docs/engine.md#amend).
    const keepsPriority = newPrice === order.price && newQty <= order.quantity;
    const pair = order.list !== null ? order.list.pairOf(order) : null;
    const invalid =
      (cmd.newQuantity === undefined && cmd.newPrice === undefined) ||
      !isPositiveInt(newQty) ||
      newQty > r.maxQtyLots ||
      newQty <= order.executed ||
      (order.icebergQuantity > 0 && order.icebergQuantity >= newQty) ||
      (keepsPriority
        ? pair !== null &&
          (newQty <= pair.executed || (pair.icebergQuantity > 0 && pair.icebergQuantity >= newQty))
        : !isPositiveInt(newPrice) ||
          newPrice < r.minPriceTicks ||
          newPrice > r.maxPriceTicks ||
          newPrice * newQty > MAX ||
          !order.level ||
          (order.list !== null && (order.list.contingencyType === 'OCO' || order.listIndex !== 0)) ||
          (order.orderType === 'LIMIT_MAKER' && this.crossesBest(order.side, newPrice)));
    if (invalid) return this.reject('amend', cmd.orderId, cmd.userId, 'INVALID_AMEND', out);

    if (keepsPriority) {
      this.reduceQuantity(order, newQty);
      this.amended(order, true, out);
      if (pair !== null) {
        this.reduceQuantity(pair, newQty);
        this.amended(pair, true, out);
      }
    } else {
      this.detach(order);
      order.price = newPrice;
      order.quantity = newQty;
      this.amended(order, false, out);
      this.run(order, out);
      this.triggerStops(out);
    }
    this.flushDepth(out);
  }

  // ---- order lists (docs/engine.md#order-lists) -------------------------------------------------------

  /**
   * OCO / OTO / OTOCO: every leg is validated first; one invalid leg (or a bad combination) refuses the
   * whole list, and nothing of it stays. Accepted: each leg's `accepted`, then EXEC_STARTED, then whatever
   * matching the working legs cause.
   */
  placeList(cmd: PlaceListCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const legCmds = Array.isArray(cmd.legs) ? cmd.legs.map((leg) => this.legCommand(cmd, leg)) : [];
    const reason = this.validateList(cmd, legCmds);
    if (reason) {
      const legs = Array.isArray(cmd.legs) ? cmd.legs : [];
      for (const leg of legs) this.reject('placeList', leg.orderId, cmd.userId, reason, out);
      const ids = legs.map((leg) => leg.orderId);
      this.listStatus(cmd, ids, 'ALL_DONE', 'REJECT', out, reason);
      return;
    }
    const oco = cmd.contingencyType === 'OCO';
    const legs = legCmds.map((legCmd, i) => {
      const order = this.accept(legCmd, out, cmd.listId, !oco && i > 0);
      order.listIndex = i;
      return order;
    });
    const list = new OrderList(
      cmd.listId,
      cmd.userId,
      cmd.listClientOrderId,
      cmd.contingencyType,
      legs.map((o) => o.orderId),
      legs,
      !oco,
    );
    for (const o of legs) o.list = list;
    this.lists.set(list.listId, list);
    this.listStatus(list, [...list.orderIds], 'EXEC_STARTED', 'EXECUTING', out);
    // OCO: both legs go in (a LIMIT_MAKER rests, validation saw it would not take); OTO/OTOCO: the working leg.
    for (const o of oco ? legs : [legs[0]]) {
      if (o.closed) continue;
      if (isStopType(o.orderType)) this.stops.add(o);
      else this.run(o, out);
    }
    this.triggerStops(out);
    this.flushDepth(out);
  }

  cancelList(cmd: CancelListCommand, out: EngineEvent[]): void {
    this.ts = cmd.ts;
    const list = this.lists.get(cmd.listId);
    if (list === undefined) return this.rejectList(cmd, 'UNKNOWN_ORDER', out);
    if (list.userId !== cmd.userId) return this.rejectList(cmd, 'NOT_ORDER_OWNER', out);
    this.cancelLegs(list, out);
    this.flushDepth(out);
  }

  /** A user cancel of a list (or of any leg): every live leg closes CANCELED, in leg order. */
  private cancelLegs(list: OrderList, out: EngineEvent[]): void {
    for (const o of list.legs) {
      if (o === null || o.closed) continue;
      this.unlink(o);
      this.close(o, 'CANCELED', out);
    }
  }

  /** A leg as the place command it is validated and accepted as (fields copied: no spread on this path). */
  private legCommand(cmd: PlaceListCommand, leg: ListLeg): PlaceCommand {
    return {
      kind: 'place',
      market: cmd.market,
      orderId: leg.orderId,
      userId: cmd.userId,
      clientOrderId: leg.clientOrderId,
      side: leg.side,
      type: leg.type,
      timeInForce: leg.timeInForce,
      price: leg.price,
      quantity: leg.quantity,
      quoteQuantity: leg.quoteQuantity,
      stopPrice: leg.stopPrice,
      trailingDelta: leg.trailingDelta,
      icebergQuantity: leg.icebergQuantity,
      stpMode: cmd.stpMode,
      ts: cmd.ts,
    };
  }

  private rejectList(cmd: CancelListCommand, reason: RejectReason, out: EngineEvent[]): void {
    out.push({
      type: 'rejected',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      command: 'cancelList',
      orderId: 0,
      userId: cmd.userId,
      reason,
      orderListId: cmd.listId,
    });
  }

  private listStatus(
    list: Pick<OrderList, 'listId' | 'userId' | 'listClientOrderId' | 'contingencyType'>,
    orderIds: number[],
    listStatusType: ListStatusEvent['listStatusType'],
    listOrderStatus: ListStatusEvent['listOrderStatus'],
    out: EngineEvent[],
    rejectReason?: RejectReason,
  ): void {
    const e: ListStatusEvent = {
      type: 'listStatus',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      listId: list.listId,
      userId: list.userId,
      listClientOrderId: list.listClientOrderId,
      contingencyType: list.contingencyType,
      listStatusType,
      listOrderStatus,
      orderIds,
    };
    if (rejectReason !== undefined) e.rejectReason = rejectReason;
    out.push(e);
  }

  /** A leg closed (its `closed` event is out): its list reacts, and ends once every leg is closed. */
  private legClosed(order: Order, reason: CloseReason, out: EngineEvent[]): void {
    const list = order.list as OrderList;
    list.legs[order.listIndex] = null;
    const done = --list.live === 0;
    const sibling = list.sibling(order);
    if (sibling !== null) {
      // One-cancels-the-other: whatever ends one leg ends the other (a user cancel as CANCELED).
      this.unlink(sibling);
      this.close(sibling, reason === 'CANCELED' ? 'CANCELED' : 'LIST', out);
    } else if (list.pending && order.listIndex === 0) {
      if (reason === 'FILLED') this.activate(list, out);
      else {
        // The working leg ended without filling: the pending legs never go in.
        for (const o of list.legs) {
          if (o === null) continue;
          this.close(o, reason === 'CANCELED' ? 'CANCELED' : 'LIST', out);
        }
      }
    }
    if (done) {
      this.lists.delete(list.listId);
      this.listStatus(list, [...list.orderIds], 'ALL_DONE', 'ALL_DONE', out);
    }
  }

  /**
   * The working leg filled completely: the pending legs are placed (`activated`). Stops join the pending
   * stops now; the others wait until the taker of the moment is done (run()), then enter matching.
   */
  private activate(list: OrderList, out: EngineEvent[]): void {
    list.pending = false;
    for (const o of list.legs) {
      if (o === null) continue;
      o.pending = false;
      out.push({
        type: 'activated',
        market: this.rules.symbol,
        seq: ++this.seq,
        ts: this.ts,
        orderId: o.orderId,
        userId: o.userId,
        orderListId: list.listId,
        orderType: o.orderType,
      });
      if (o.trailingDelta > 0) this.trackFromEntry(o);
      if (isStopType(o.orderType)) this.stops.add(o);
      else this.activated.push(o);
    }
  }

  /** Runs `order` as a taker, then the pending legs its trades placed, in order. */
  private run(order: Order, out: EngineEvent[]): void {
    this.execute(order, out);
    const queue = this.activated;
    while (queue.length > 0) {
      const o = queue.shift() as Order;
      if (o.closed) continue;
      // A LIMIT_MAKER that would take when placed expires instead (the list's doing: LIST).
      if (o.orderType === 'LIMIT_MAKER' && this.crossesBest(o.side, o.price)) this.close(o, 'LIST', out);
      else this.execute(o, out);
    }
  }

  /** A leg traded (partly or completely): its one-cancels-the-other sibling expires. */
  private legTraded(order: Order, out: EngineEvent[]): void {
    const list = order.list as OrderList;
    const sibling = list.sibling(order);
    if (sibling === null) return;
    // Resolved: this leg lives on; the sibling's close must not take it along.
    list.resolved = true;
    this.unlink(sibling);
    this.close(sibling, 'LIST', out);
  }

  /** Takes a live order out of wherever it waits: the book, the pending stops, or nowhere (a pending leg). */
  private unlink(order: Order): void {
    if (order.level !== null) this.detach(order);
    else if (order.stopSeq !== 0 && !order.pending) this.stops.remove(order);
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
          this.prevented(order, maker, level.price, out);
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

  /** One prevented self-trade (docs/engine.md#self-trade-prevention), before the closes it causes. */
  private prevented(taker: Order, maker: Order, price: number, out: EngineEvent[]): void {
    const mode = taker.stpMode;
    out.push({
      type: 'prevented',
      market: this.rules.symbol,
      seq: ++this.seq,
      ts: this.ts,
      preventedMatchId: ++this.preventedMatchId,
      takerOrderId: taker.orderId,
      makerOrderId: maker.orderId,
      userId: taker.userId,
      price,
      makerPreventedQuantity: mode === 'EXPIRE_TAKER' ? 0 : maker.remaining,
      takerPreventedQuantity: mode === 'EXPIRE_MAKER' || taker.quantity === 0 ? 0 : taker.remaining,
      stpMode: mode,
    });
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
    if (this.stops.trailingCount !== 0) this.stops.trail(price, this.ts);
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
    if (maker.list !== null) this.legTraded(maker, out);
    if (taker.list !== null) this.legTraded(taker, out);
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
      // An OCO leg triggered: the other leg expires before this one runs.
      if (stop.list !== null) this.legTraded(stop, out);
      this.run(stop, out);
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

  private stopHolds(side: Side, type: OrderType, stopPrice: number): boolean {
    const last = this.lastPrice;
    if (last === 0) return false;
    const lossType = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
    // BUY stop-loss fires on a rise, BUY take-profit on a fall; SELL the other way round.
    const firesOnRise = (side === 'BUY') === lossType;
    return firesOnRise ? last >= stopPrice : last <= stopPrice;
  }

  // ---- validation ---------------------------------------------------------------------------------

  /**
   * A list is valid if its shape is (docs/engine.md#order-lists), every leg is valid as a place (a pending
   * leg without the checks against the book and the last price: it is placed later), and the legs' prices
   * are ordered as Binance's OCO rules say.
   */
  private validateList(cmd: PlaceListCommand, legCmds: PlaceCommand[]): RejectReason | undefined {
    if (!isPositiveInt(cmd.listId) || this.lists.has(cmd.listId)) return 'DUPLICATE_ORDER_ID';
    if (cmd.stpMode !== undefined && !isStpMode(cmd.stpMode)) return 'INVALID_STP_MODE';
    const legs = cmd.legs;
    if (!Array.isArray(legs)) return 'INVALID_ORDER_TYPE';
    const type = cmd.contingencyType;
    const count = type === 'OCO' || type === 'OTO' ? 2 : type === 'OTOCO' ? 3 : 0;
    if (count === 0 || legs.length !== count) return 'INVALID_ORDER_TYPE';
    for (let i = 0; i < count; i++)
      for (let j = i + 1; j < count; j++)
        if (legs[i].orderId === legs[j].orderId) return 'DUPLICATE_ORDER_ID';
    // No list leg is sized by quote amount (Binance: not even an OTO's pending MARKET).
    for (const leg of legs) if (leg.quoteQuantity !== undefined) return 'INVALID_QUANTITY';
    if (type !== 'OCO' && legs[0].type !== 'LIMIT' && legs[0].type !== 'LIMIT_MAKER')
      return 'INVALID_ORDER_TYPE';
    const pair = type === 'OCO' ? 0 : type === 'OTOCO' ? 1 : -1;
    if (pair >= 0) {
      const reason = ocoShape(legs[pair], legs[pair + 1]);
      if (reason) return reason;
    }
    for (let i = 0; i < count; i++) {
      const reason = this.validatePlace(legCmds[i], type !== 'OCO' && i > 0);
      if (reason) return reason;
    }
    if (pair >= 0) return this.ocoPrices(legs[pair], legs[pair + 1], type === 'OCO');
    return undefined;
  }

  /**
   * Binance's OCO price rules (docs/engine.md#order-lists): SELL limit-side price > last > stop price, BUY
   * limit-side price < last < stop price. The limit side's price is a LIMIT_MAKER's or TAKE_PROFIT_LIMIT's
   * limit price, a TAKE_PROFIT's stop price. Against the last price only when placed now (`live`): the stop
   * side is already held to it (a stop must not trigger on entry), and a TAKE_PROFIT too.
   */
  private ocoPrices(above: ListLeg, below: ListLeg, live: boolean): RejectReason | undefined {
    const sell = above.side === 'SELL';
    const limitLeg = sell ? above : below;
    const stopLeg = sell ? below : above;
    const limitPrice = limitLeg.type === 'TAKE_PROFIT' ? limitLeg.stopPrice : limitLeg.price;
    if (limitPrice === undefined) return undefined;
    if (
      stopLeg.stopPrice !== undefined &&
      (sell ? limitPrice <= stopLeg.stopPrice : limitPrice >= stopLeg.stopPrice)
    )
      return 'INVALID_PRICE';
    const last = this.lastPrice;
    if (
      live &&
      last > 0 &&
      limitLeg.type !== 'TAKE_PROFIT' &&
      (sell ? limitPrice <= last : limitPrice >= last)
    )
      return 'INVALID_PRICE';
    return undefined;
  }

  private validatePlace(cmd: PlaceCommand, pending: boolean): RejectReason | undefined {
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
      if (!pending && this.stopHolds(cmd.side, type, sp)) return 'INVALID_STOP_PRICE';
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
      // Binance: an iceberg is a LIMIT_MAKER, or a GTC LIMIT / STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT (a stop's
      // shows its slices once triggered and resting).
      const icebergType =
        type === 'LIMIT_MAKER' ||
        ((type === 'LIMIT' || type === 'STOP_LOSS_LIMIT' || type === 'TAKE_PROFIT_LIMIT') &&
          (cmd.timeInForce ?? 'GTC') === 'GTC');
      if (!icebergType || !isPositiveInt(ice) || ice >= q || Math.ceil(q / ice) > r.maxIcebergParts)
        return 'INVALID_ICEBERG';
    }
    if (!pending && type === 'LIMIT_MAKER' && this.crossesBest(cmd.side, cmd.price as number))
      return 'WOULD_TAKE';
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
    order.closed = true;
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
    if (order.list !== null) this.legClosed(order, reason, out);
  }

  /** A lower quantity in place: on the book, the level's visible total and the order's slice follow. */
  private reduceQuantity(order: Order, quantity: number): void {
    order.quantity = quantity;
    const level = order.level;
    if (level === null) return;
    this.touch(order.side, level.price);
    const visible = Math.min(order.visible, order.remaining);
    level.visibleTotal += visible - order.visible;
    order.visible = visible;
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
      executedQty: order.executed,
      cumQuote: order.cumQuote,
      onBook: order.level !== null,
      ...(order.pending ? { pending: true as const } : {}),
    });
  }

  private reject(
    command: 'place' | 'cancel' | 'amend' | 'placeList',
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

const isLimitSide = (t: string): boolean =>
  t === 'LIMIT_MAKER' || t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';
const isLossSide = (t: string): boolean => t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT';

/**
 * An OCO pair's shape (Binance aboveType / belowType): same side, same quantity; SELL above is LIMIT_MAKER /
 * TAKE_PROFIT / TAKE_PROFIT_LIMIT and below STOP_LOSS / STOP_LOSS_LIMIT; BUY the other way round.
 */
function ocoShape(above: ListLeg, below: ListLeg): RejectReason | undefined {
  const side = above.side;
  if ((side !== 'BUY' && side !== 'SELL') || below.side !== side) return 'INVALID_SIDE';
  const ok =
    side === 'SELL'
      ? isLimitSide(above.type) && isLossSide(below.type)
      : isLossSide(above.type) && isLimitSide(below.type);
  if (!ok) return 'INVALID_ORDER_TYPE';
  if (above.quantity !== below.quantity) return 'INVALID_QUANTITY';
  return undefined;
}
