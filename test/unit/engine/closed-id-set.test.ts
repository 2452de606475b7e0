import fc from 'fast-check';
import { ClosedIdSet } from '@engine/core/closed-id-set';

describe('ClosedIdSet (open addressing, backward-shift deletion)', () => {
  it('behaves like a Set under random adds, deletes and lookups, colliding ids included', () => {
    // Few distinct ids in a small table: long probe runs, wrap-around and many shifted deletions.
    const id = fc.oneof(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 1, max: 64 }).map((n) => n * 2 ** 32),
    );
    const op = fc.tuple(fc.constantFrom('add', 'delete', 'has'), id);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const set = new ClosedIdSet(48);
        const model = new Set<number>();
        for (const [kind, n] of ops) {
          if (kind === 'add') {
            if (model.size >= 48 && !model.has(n)) continue; // bounded by design
            set.add(n);
            model.add(n);
          } else if (kind === 'delete') {
            set.delete(n);
            model.delete(n);
          } else {
            expect(set.has(n)).toBe(model.has(n));
          }
          expect(set.size).toBe(model.size);
        }
        for (const n of model) expect(set.has(n)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps working as a bounded FIFO memory over millions of ids (no tombstone build-up)', () => {
    const set = new ClosedIdSet(1000);
    for (let i = 1; i <= 2_000_000; i++) {
      if (i > 1000) set.delete(i - 1000); // forget the oldest first, as the engine's ring does
      set.add(i);
    }
    expect(set.size).toBe(1000);
    expect(set.has(2_000_000)).toBe(true);
    expect(set.has(1_999_001)).toBe(true);
    expect(set.has(1_999_000)).toBe(false);
  });

  it('grows from its small start to its bound without losing or inventing ids', () => {
    const set = new ClosedIdSet(5_000); // starts at 1,024 slots, grows to 16,384
    const ids = Array.from({ length: 5_000 }, (_, i) => 1 + ((i * 2_654_435_761) % 1e12));
    for (const id of ids) set.add(id);
    expect(set.size).toBe(5_000);
    for (const id of ids) expect(set.has(id)).toBe(true);
    for (const id of ids.slice(0, 2_500)) set.delete(id);
    for (const id of ids.slice(0, 2_500)) expect(set.has(id)).toBe(false);
    for (const id of ids.slice(2_500)) expect(set.has(id)).toBe(true);
    expect(set.has(ids[0] + 1)).toBe(false);
  });

  it('refuses a non-positive id and an add beyond its bound', () => {
    const set = new ClosedIdSet(2);
    expect(() => set.add(0)).toThrow(RangeError);
    set.add(1);
    set.add(2);
    expect(() => set.add(3)).toThrow(/full/);
    set.add(2); // already there: fine
  });
});
