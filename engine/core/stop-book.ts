// Pending stop orders of one market (docs/engine.md#stops). Plain stops are kept by trigger price in two
// groups, those that fire on a rise (last ≥ stopPrice: BUY stop-loss, SELL take-profit) and those that fire
// on a fall (last ≤ stopPrice), so after a trade only the levels whose condition holds are visited. Trailing
// stops move their trigger with every trade: they stay in a list of their own, in entry order.
// Trigger priority is entry order (`Order.stopSeq`): among the stops whose condition holds, the one that
// entered first fires first, the same order as one list scanned oldest first.
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
}

export class StopBook {
  /** Fire on a rise: hold for every level priced at or below the last price (a prefix of the levels). */
  private readonly rising = new StopGroup();
  /** Fire on a fall: hold for every level priced at or above the last price (a suffix of the levels). */
  private readonly falling = new StopGroup();
  /** Trailing stops in entry order. */
  readonly trailing: Order[] = [];
  /** Pending stops in all (plain and trailing). */
  size = 0;
  /** Entry counter: the trigger priority. */
  private nextSeq = 0;

  add(order: Order): void {
    order.stopSeq = ++this.nextSeq;
    this.size++;
    if (order.trailingDelta > 0) this.trailing.push(order);
    else (firesOnRise(order) ? this.rising : this.falling).add(order);
  }

  remove(order: Order): void {
    this.size--;
    order.stopSeq = 0;
    if (order.trailingDelta > 0) this.trailing.splice(this.trailing.indexOf(order), 1);
    else (firesOnRise(order) ? this.rising : this.falling).remove(order);
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
    const trailing = this.trailing;
    for (let i = 0; i < trailing.length; i++) {
      const o = trailing[i];
      // Entry order: the first holding trailing stop is the oldest one.
      if (best !== undefined && o.stopSeq > best.stopSeq) break;
      if (trailHolds(o, last)) return o;
    }
    return best;
  }

  /** Every pending stop in trigger priority (entry order): the snapshot's order. */
  all(): Order[] {
    const out: Order[] = [...this.trailing];
    for (const group of [this.rising, this.falling])
      for (const level of group.levels) for (const o of level.orders) out.push(o);
    return out.sort((a, b) => a.stopSeq - b.stopSeq);
  }
}

/** BUY stop-loss fires on a rise, BUY take-profit on a fall; SELL the other way round. */
export function firesOnRise(o: Order): boolean {
  const lossType = o.orderType === 'STOP_LOSS' || o.orderType === 'STOP_LOSS_LIMIT';
  return (o.side === 'BUY') === lossType;
}

function trailHolds(o: Order, last: number): boolean {
  if (o.trailExtreme === 0) return false;
  return o.side === 'BUY' ? last >= o.trailTrigger : last <= o.trailTrigger;
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
