// One side of a book: levels by price in a Map, plus the prices in a sorted array whose last element
// is the best price (highest bid, lowest ask): O(1) best, O(log n) search and a short memmove on insert.
import { PriceLevel } from './price-level';

export class BookSide {
  private readonly levels = new Map<number, PriceLevel>();
  /** Ascending for asks' reverse: stored so that the best price is always at the end. */
  private readonly prices: number[] = [];
  /** The level looked up last: a command reads the same one or two levels several times. */
  private recent: PriceLevel | undefined;

  constructor(readonly isBid: boolean) {}

  /** true if `a` is a better price than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  best(): PriceLevel | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : this.levels.get(this.prices[n - 1]);
  }

  get(price: number): PriceLevel | undefined {
    const recent = this.recent;
    if (recent !== undefined && recent.price === price) return recent;
    const level = this.levels.get(price);
    if (level !== undefined) this.recent = level;
    return level;
  }

  getOrCreate(price: number): PriceLevel {
    let level = this.get(price);
    if (level) return level;
    level = new PriceLevel(price);
    this.levels.set(price, level);
    this.recent = level;
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
    this.levels.delete(level.price);
    if (this.recent === level) this.recent = undefined;
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
    for (let i = this.prices.length - 1; i >= 0; i--) yield this.levels.get(this.prices[i]) as PriceLevel;
  }

  get levelCount(): number {
    return this.prices.length;
  }
}
