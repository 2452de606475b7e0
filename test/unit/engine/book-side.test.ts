import fc from 'fast-check';
import { BookSide } from '@engine/core/book-side';

describe('BookSide (direct price index with a far-price fallback)', () => {
  it('matches a sorted-map model for prices inside and far outside the index window', () => {
    // 1 … 400,000 ticks: well beyond the 65,536-tick window around the first price.
    const price = fc.oneof(fc.integer({ min: 1, max: 400_000 }), fc.integer({ min: 99_990, max: 100_010 }));
    const op = fc.tuple(fc.constantFrom('create', 'remove', 'get'), price);
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 300 }), (isBid, ops) => {
        const side = new BookSide(isBid);
        const model = new Set<number>();
        for (const [kind, p] of ops) {
          if (kind === 'create') {
            const level = side.getOrCreate(p);
            expect(level.price).toBe(p);
            expect(side.getOrCreate(p)).toBe(level);
            model.add(p);
          } else if (kind === 'remove') {
            const level = side.get(p);
            expect(level !== undefined).toBe(model.has(p));
            if (level) side.removeLevel(level);
            model.delete(p);
          } else {
            expect(side.get(p)?.price).toBe(model.has(p) ? p : undefined);
          }
          const expected = [...model].sort((a, b) => (isBid ? b - a : a - b));
          expect(side.levelCount).toBe(expected.length);
          expect(side.best()?.price).toBe(expected[0]);
        }
        const expected = [...model].sort((a, b) => (isBid ? b - a : a - b));
        expect([...side.bestFirst()].map((l) => l.price)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the levels on both edges of the window, and just outside them', () => {
    // The first price, 40,000, centres the window: it covers 7,232 … 72,767 (65,536 ticks).
    for (const isBid of [true, false]) {
      const side = new BookSide(isBid);
      const first = side.getOrCreate(40_000);
      const edges = [7_231, 7_232, 72_767, 72_768].map((p) => side.getOrCreate(p));
      for (const level of [first, ...edges]) {
        expect(side.get(level.price)).toBe(level);
        expect(side.getOrCreate(level.price)).toBe(level);
      }
      expect(side.levelCount).toBe(5);
      const order = isBid ? [72_768, 72_767, 40_000, 7_232, 7_231] : [7_231, 7_232, 40_000, 72_767, 72_768];
      expect([...side.bestFirst()].map((l) => l.price)).toEqual(order);
      for (const level of edges) {
        side.removeLevel(level);
        expect(side.get(level.price)).toBeUndefined();
      }
      expect([...side.bestFirst()].map((l) => l.price)).toEqual([40_000]);
    }
  });
});
