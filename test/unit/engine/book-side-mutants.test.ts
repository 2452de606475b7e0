// What BookSide promises beyond "finds the right level" (test/unit/engine/book-side.test.ts covers that):
// where a level is stored and what a lookup or an insert costs. Mutants of the direct index's placement and
// of the fast paths give the same answers, only slower or with more memory; these tests pin the
// data-structure contract of the file's header (direct index around the first price, far prices in a Map
// that never keeps a removed level, O(1) new best and best removal) so that such a mutant fails.
import { BookSide } from '@engine/core/book-side';

/** The private storage of a side, read-only, for the structure tests. */
interface Storage {
  near: Array<unknown>;
  far: Map<number, unknown>;
}
const storage = (side: BookSide): Storage => side as unknown as Storage;

/** Counts the price comparisons a side makes through `better` while `fn` runs. */
function comparisons(side: BookSide, fn: () => void): number {
  const spy = jest.spyOn(side, 'better');
  try {
    fn();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('BookSide direct index: the window is centred on the first price', () => {
  it.each([
    [true, 40_000],
    [false, 40_000],
    [true, 1_000_000], // far above WINDOW: a base clamped at 0 or set past the price would miss it
    [false, 5], // near 0: the base is clamped at 0, the window covers 0 … 65,535
  ])('isBid=%s, first price %i: it and every price within ±32,768 ticks use the array', (isBid, first) => {
    const side = new BookSide(isBid);
    side.getOrCreate(first);
    const lo = Math.max(0, first - 32_768);
    for (const p of [lo, lo + 1, first - 1, first + 1, lo + 65_535]) if (p >= 1) side.getOrCreate(p);
    expect(storage(side).far.size).toBe(0);
    expect(storage(side).near.filter((l) => l !== undefined)).toHaveLength(side.levelCount);
    // One tick past the window on either side goes to the Map.
    side.getOrCreate(lo + 65_536);
    if (lo > 0) side.getOrCreate(lo - 1);
    expect([...storage(side).far.keys()].sort((a, b) => a - b)).toEqual(
      lo > 0 ? [lo - 1, lo + 65_536] : [lo + 65_536],
    );
  });

  it('the direct index is allocated up front: 65,536 slots', () => {
    expect(storage(new BookSide(true)).near).toHaveLength(65_536);
  });

  it('a removed far level leaves no entry in the Map (no leak for prices outside the window)', () => {
    const side = new BookSide(false);
    side.getOrCreate(100_000);
    const far = [1, 500_000, 900_000].map((p) => side.getOrCreate(p));
    expect(storage(side).far.size).toBe(3);
    for (const level of far) side.removeLevel(level);
    expect(storage(side).far.size).toBe(0);
    expect(storage(side).far.has(500_000)).toBe(false);
  });
});

describe('BookSide costs: O(1) new best and best removal', () => {
  it.each([true, false])('isBid=%s: the first level needs no comparison', (isBid) => {
    const side = new BookSide(isBid);
    expect(comparisons(side, () => side.getOrCreate(100))).toBe(0);
    expect(side.best()?.price).toBe(100);
  });

  it.each([true, false])('isBid=%s: a new best price costs one comparison however deep the side', (isBid) => {
    const side = new BookSide(isBid);
    // 64 levels, worst first, then one better than all of them.
    for (let i = 0; i < 64; i++) side.getOrCreate(isBid ? 1_000 + i : 2_000 - i);
    const best = isBid ? 5_000 : 500;
    expect(comparisons(side, () => side.getOrCreate(best))).toBe(1);
    expect(side.best()?.price).toBe(best);
    expect(side.levelCount).toBe(65);
  });

  it.each([true, false])('isBid=%s: an existing price is found without any comparison', (isBid) => {
    const side = new BookSide(isBid);
    for (let i = 0; i < 16; i++) side.getOrCreate(1_000 + i);
    const level = side.get(1_007);
    expect(comparisons(side, () => expect(side.getOrCreate(1_007)).toBe(level))).toBe(0);
  });

  it.each([true, false])('isBid=%s: removing the best level costs no comparison', (isBid) => {
    const side = new BookSide(isBid);
    for (let i = 0; i < 64; i++) side.getOrCreate(1_000 + i);
    const best = side.best()!;
    expect(comparisons(side, () => side.removeLevel(best))).toBe(0);
    expect(side.best()?.price).toBe(isBid ? 1_062 : 1_001);
    expect(side.get(best.price)).toBeUndefined();
    expect(side.levelCount).toBe(63);
  });

  it.each([true, false])('isBid=%s: a worse level goes in by binary search, not a scan', (isBid) => {
    const side = new BookSide(isBid);
    for (let i = 0; i < 64; i++) side.getOrCreate(1_000 + 2 * i);
    // Between two levels in the middle: at most 1 (fast path) + log2(64) + 1 comparisons.
    const n = comparisons(side, () => side.getOrCreate(1_065));
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(8);
    const worst = isBid ? [1_000, 1_002, 1_004] : [1_126, 1_124, 1_122];
    expect([...side.bestFirst()].map((l) => l.price).slice(-3)).toEqual(worst.reverse());
    expect(side.levelCount).toBe(65);
  });
});
