import fc from 'fast-check';
import { nextScanRange } from '../../../lambdas/chain-listener/scan-range';

describe('chain listener scan range', () => {
  it('starts at the confirmed tip, then continues after the checkpoint in bounded steps', () => {
    expect(nextScanRange(undefined, 1000, 12, 500)).toEqual({ from: 988, to: 988 });
    expect(nextScanRange(988, 1000, 12, 500)).toBeUndefined();
    expect(nextScanRange(988, 1005, 12, 500)).toEqual({ from: 989, to: 993 });
    expect(nextScanRange(0, 10_000, 12, 500)).toEqual({ from: 1, to: 500 });
    expect(nextScanRange(undefined, 5, 12, 500)).toBeUndefined();
  });

  it('never scans an unconfirmed block, never skips or repeats one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 500 }),
        (start, growth, confirmations, maxBlocks) => {
          let head = start;
          let last: number | undefined;
          for (const g of growth) {
            head += g;
            const range = nextScanRange(last, head, confirmations, maxBlocks);
            if (!range) continue;
            expect(range.to).toBeLessThanOrEqual(head - confirmations);
            expect(range.to - range.from + 1).toBeLessThanOrEqual(maxBlocks);
            expect(range.from).toBeLessThanOrEqual(range.to);
            if (last !== undefined) expect(range.from).toBe(last + 1);
            last = range.to;
          }
        },
      ),
    );
  });
});
