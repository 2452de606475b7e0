// One side of a book. Levels are found by price through a direct index: an array slot per tick in a
// window around the first price the side saw (prices far outside it fall back to a Map), and the prices
// are kept in a sorted array whose last element is the best price (highest bid, lowest ask): O(1) best,
// O(log n) search and a short memmove on insert.
import { PriceLevel } from './price-level';

/** Ticks covered by the direct index (one pointer each): 64 Ki slots, 512 KiB per side. */
const WINDOW = 1 << 16;

export class BookSide {
  /** Level of price `base + i` at index i; undefined where there is no level. */
  private readonly near: Array<PriceLevel | undefined> = new Array<PriceLevel | undefined>(WINDOW).fill(
    undefined,
  );
  private base = Number.NaN;
  /** Levels whose price falls outside the window. */
  private readonly far = new Map<number, PriceLevel>();
  /** Ascending for asks' reverse: stored so that the best price is always at the end. */
  private readonly prices: number[] = [];

  constructor(readonly isBid: boolean) {}

  /** true if `a` is a better price than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  best(): PriceLevel | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : this.get(this.prices[n - 1]);
  }

  get(price: number): PriceLevel | undefined {
    const i = price - this.base;
    return i >= 0 && i < WINDOW ? this.near[i] : this.far.get(price);
  }

  private put(price: number, level: PriceLevel | undefined): void {
    // The window is centred on the first price ever seen: books trade around where they open.
    if (Number.isNaN(this.base)) this.base = Math.max(0, price - WINDOW / 2);
    const i = price - this.base;
    if (i >= 0 && i < WINDOW) this.near[i] = level;
    else if (level) this.far.set(price, level);
    else this.far.delete(price);
  }

  getOrCreate(price: number): PriceLevel {
    let level = this.get(price);
    if (level) return level;
    level = new PriceLevel(price);
    this.put(price, level);
    const prices = this.prices;
    // Fast path: a new best price (common for market makers stepping in).
    if (prices.length === 0 || this.better(price, prices[prices.length - 1])) {
      prices.push(price);
      return level;
    }
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // worse prices first
      if (this.better(price, prices[mid])) lo = mid + 1;
      else hi = mid;
    }
    prices.splice(lo, 0, price);
    return level;
  }

  removeLevel(level: PriceLevel): void {
    this.put(level.price, undefined);
    const prices = this.prices;
    const n = prices.length;
    if (prices[n - 1] === level.price) {
      prices.pop();
      return;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(level.price, prices[mid])) lo = mid + 1;
      else hi = mid;
    }
    prices.splice(lo, 1);
  }

  /** Levels from best to worst. */
  *bestFirst(): IterableIterator<PriceLevel> {
    for (let i = this.prices.length - 1; i >= 0; i--) yield this.get(this.prices[i]) as PriceLevel;
  }

  get levelCount(): number {
    return this.prices.length;
  }
}
