// Pending stop orders of one market (docs/engine.md#stops). Plain stops are kept by trigger price in two
// groups, those that fire on a rise (last ≥ stopPrice: BUY stop-loss, SELL take-profit) and those that fire
// on a fall (last ≤ stopPrice), so after a trade only the levels whose condition holds are visited.
// Trigger priority is entry order (`Order.stopSeq`): among the stops whose condition holds, the one that
// entered first fires first, the same order as one list scanned oldest first.
//
// Trailing stops (./market-book.ts, "trailing stops") are kept so that a trade visits only those it moves
// or may fire, not every one that waits: one not tracking yet waits by its activation price as a plain stop
// does (or, without one, for the next trade); one tracking is in its side's list ordered by extreme — SELL
// highest first, BUY lowest first — so the stops a trade's price moves (SELL extremes below it, BUY above)
// are a run at the end, and after the move the list is still in order. The highest SELL trigger and the
// lowest BUY trigger are kept (recounted after a removal that may have taken them), so a trigger check
// looks at the lists only when one may hold.
import type { Order } from './order';

/** Stops with one trigger price, oldest first. */
interface StopLevel {
  price: number;
  orders: Order[];
}

/** One direction's stops: levels by ascending price (a sorted array, a short memmove on insert). */
class StopGroup {
  readonly levels: StopLevel[] = [];
  private readonly byPrice = new Map<number, StopLevel>();

  add(order: Order): void {
    const price = order.stopPrice;
    const found = this.byPrice.get(price);
    if (found) {
      found.orders.push(order);
      return;
    }
    const level: StopLevel = { price, orders: [order] };
    this.byPrice.set(price, level);
    const levels = this.levels;
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (levels[mid].price < price) lo = mid + 1;
      else hi = mid;
    }
    levels.splice(lo, 0, level);
  }

  remove(order: Order): void {
    const level = this.byPrice.get(order.stopPrice) as StopLevel;
    const orders = level.orders;
    if (orders.length === 1) {
      this.byPrice.delete(level.price);
      this.levels.splice(this.levels.indexOf(level), 1);
      return;
    }
    orders.splice(orders.indexOf(order), 1);
  }

  /** Removes and returns the lowest-priced level. */
  takeFirst(): StopLevel {
    const level = this.levels.shift() as StopLevel;
    this.byPrice.delete(level.price);
    return level;
  }

  /** Removes and returns the highest-priced level. */
  takeLast(): StopLevel {
    const level = this.levels.pop() as StopLevel;
    this.byPrice.delete(level.price);
    return level;
  }
}

export class StopBook {
  /** Fire on a rise: hold for every level priced at or below the last price (a prefix of the levels). */
  private readonly rising = new StopGroup();
  /** Fire on a fall: hold for every level priced at or above the last price (a suffix of the levels). */
  private readonly falling = new StopGroup();
  /** Trailing stops not tracking yet, by activation price (stopPrice) as plain stops wait for it. */
  private readonly trailRising = new StopGroup();
  private readonly trailFalling = new StopGroup();
  /** Trailing stops not tracking yet that have no activation price: they start at the next trade. */
  private readonly trailNextTrade: Order[] = [];
  /** Tracking SELL trailing stops, highest extreme first; BUY ones, lowest extreme first. */
  private readonly trailSell: Order[] = [];
  private readonly trailBuy: Order[] = [];
  /** The highest SELL and the lowest BUY trigger among the tracking ones (recounted when stale). */
  private sellTriggerMax = 0;
  private buyTriggerMin = Infinity;
  private sellBoundStale = false;
  private buyBoundStale = false;
  /** Pending trailing stops (tracking or not). */
  trailingCount = 0;
  /** Pending stops in all (plain and trailing). */
  size = 0;
  /** Entry counter: the trigger priority. */
  private nextSeq = 0;

  add(order: Order): void {
    order.stopSeq = ++this.nextSeq;
    this.size++;
    if (order.trailingDelta > 0) {
      this.trailingCount++;
      if (order.trailExtreme !== 0) this.track(order);
      else if (order.stopPrice === 0) this.trailNextTrade.push(order);
      else (firesOnRise(order) ? this.trailRising : this.trailFalling).add(order);
    } else (firesOnRise(order) ? this.rising : this.falling).add(order);
  }

  remove(order: Order): void {
    this.size--;
    order.stopSeq = 0;
    if (order.trailingDelta > 0) {
      this.trailingCount--;
      if (order.trailExtreme !== 0) this.untrack(order);
      else if (order.stopPrice === 0) this.trailNextTrade.splice(this.trailNextTrade.indexOf(order), 1);
      else (firesOnRise(order) ? this.trailRising : this.trailFalling).remove(order);
    } else (firesOnRise(order) ? this.rising : this.falling).remove(order);
  }

  /**
   * A trade at `price` at engine time `ts`: the trailing stops whose activation holds start tracking from
   * it, and the tracking ones it betters (a higher price for SELL, a lower one for BUY) take it as their
   * extreme.
   */
  trail(price: number, ts: number): void {
    const next = this.trailNextTrade;
    if (next.length !== 0) {
      for (const o of next) this.startTracking(o, price, ts);
      next.length = 0;
    }
    const rising = this.trailRising.levels;
    while (rising.length !== 0 && rising[0].price <= price) {
      const level = this.trailRising.takeFirst();
      for (const o of level.orders) this.startTracking(o, price, ts);
    }
    const falling = this.trailFalling.levels;
    while (falling.length !== 0 && falling[falling.length - 1].price >= price) {
      const level = this.trailFalling.takeLast();
      for (const o of level.orders) this.startTracking(o, price, ts);
    }
    const sell = this.trailSell;
    for (let i = sell.length - 1; i >= 0 && sell[i].trailExtreme < price; i--) {
      const o = sell[i];
      setTrailExtreme(o, price);
      if (o.trailTrigger > this.sellTriggerMax) this.sellTriggerMax = o.trailTrigger;
    }
    const buy = this.trailBuy;
    for (let i = buy.length - 1; i >= 0 && buy[i].trailExtreme > price; i--) {
      const o = buy[i];
      setTrailExtreme(o, price);
      if (o.trailTrigger < this.buyTriggerMin) this.buyTriggerMin = o.trailTrigger;
    }
  }

  /** The pending stop that entered first among those whose condition holds at `last`; undefined if none. */
  firstHolding(last: number): Order | undefined {
    if (last === 0) return undefined;
    let best: Order | undefined;
    const rising = this.rising.levels;
    for (let i = 0; i < rising.length && rising[i].price <= last; i++) {
      const o = rising[i].orders[0];
      if (best === undefined || o.stopSeq < best.stopSeq) best = o;
    }
    const falling = this.falling.levels;
    for (let i = falling.length - 1; i >= 0 && falling[i].price >= last; i--) {
      const o = falling[i].orders[0];
      if (best === undefined || o.stopSeq < best.stopSeq) best = o;
    }
    if (this.sellBoundStale) this.recountSellBound();
    if (last <= this.sellTriggerMax) {
      for (const o of this.trailSell)
        if (last <= o.trailTrigger && (best === undefined || o.stopSeq < best.stopSeq)) best = o;
    }
    if (this.buyBoundStale) this.recountBuyBound();
    if (last >= this.buyTriggerMin) {
      for (const o of this.trailBuy)
        if (last >= o.trailTrigger && (best === undefined || o.stopSeq < best.stopSeq)) best = o;
    }
    return best;
  }

  /** Every pending stop in trigger priority (entry order): the snapshot's order. */
  all(): Order[] {
    const out: Order[] = [...this.trailNextTrade, ...this.trailSell, ...this.trailBuy];
    for (const group of [this.rising, this.falling, this.trailRising, this.trailFalling])
      for (const level of group.levels) for (const o of level.orders) out.push(o);
    return out.sort((a, b) => a.stopSeq - b.stopSeq);
  }

  private startTracking(o: Order, price: number, ts: number): void {
    setTrailExtreme(o, price);
    o.trailTime = ts;
    this.track(o);
  }

  /** Into its side's list at its extreme's place (after those with the same extreme). */
  private track(o: Order): void {
    const sell = o.side === 'SELL';
    const list = sell ? this.trailSell : this.trailBuy;
    const extreme = o.trailExtreme;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sell ? list[mid].trailExtreme >= extreme : list[mid].trailExtreme <= extreme) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, o);
    if (sell) {
      if (o.trailTrigger > this.sellTriggerMax) this.sellTriggerMax = o.trailTrigger;
    } else if (o.trailTrigger < this.buyTriggerMin) this.buyTriggerMin = o.trailTrigger;
  }

  private untrack(o: Order): void {
    if (o.side === 'SELL') {
      this.trailSell.splice(this.trailSell.indexOf(o), 1);
      if (o.trailTrigger >= this.sellTriggerMax) this.sellBoundStale = true;
    } else {
      this.trailBuy.splice(this.trailBuy.indexOf(o), 1);
      if (o.trailTrigger <= this.buyTriggerMin) this.buyBoundStale = true;
    }
  }

  private recountSellBound(): void {
    let max = 0;
    for (const o of this.trailSell) if (o.trailTrigger > max) max = o.trailTrigger;
    this.sellTriggerMax = max;
    this.sellBoundStale = false;
  }

  private recountBuyBound(): void {
    let min = Infinity;
    for (const o of this.trailBuy) if (o.trailTrigger < min) min = o.trailTrigger;
    this.buyTriggerMin = min;
    this.buyBoundStale = false;
  }
}

/** BUY stop-loss fires on a rise, BUY take-profit on a fall; SELL the other way round. */
export function firesOnRise(o: Order): boolean {
  const lossType = o.orderType === 'STOP_LOSS' || o.orderType === 'STOP_LOSS_LIMIT';
  return (o.side === 'BUY') === lossType;
}

/**
 * A trailing stop's new extreme, and the trigger it implies (computed once per new extreme, not per check):
 * BUY at extreme + offset, SELL at extreme − offset.
 */
export function setTrailExtreme(o: Order, extreme: number): void {
  o.trailExtreme = extreme;
  if (extreme === 0) return;
  const offset = trailOffset(extreme, o.trailingDelta);
  o.trailTrigger = o.side === 'BUY' ? extreme + offset : extreme - offset;
}

/** Basis points in a whole: a trailing delta is in BIPS (1 BIP = 0.01 %). */
export const BIPS = 10_000;

/**
 * A trailing stop's trigger distance from its extreme, in ticks: ceil(extreme × delta / 10000), exactly
 * (extreme × delta ≤ maxPriceTicks × delta, which validation keeps a safe integer).
 */
export function trailOffset(extreme: number, delta: number): number {
  const x = extreme * delta;
  const rest = x % BIPS;
  return (x - rest) / BIPS + (rest > 0 ? 1 : 0);
}
