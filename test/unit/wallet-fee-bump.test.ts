// The fees of a stuck withdrawal's replacement (lambdas/wallet/fee-bump.ts) and the settings that drive it
// (replacementPolicy in lambdas/wallet/withdraw-config.ts).
import { bumpedByAnEighth, replacementFees } from '@lambdas/wallet/fee-bump';
import { DEFAULT_REPLACE_AFTER_SECONDS, replacementPolicy } from '@lambdas/wallet/withdraw-config';

const GWEI = 1_000_000_000n;
const none = { maxFeePerGas: null, maxPriorityFeePerGas: null };

describe('bumpedByAnEighth', () => {
  it.each([
    [0n, 0n],
    [1n, 2n],
    [8n, 9n],
    [9n, 11n], // 10.125 rounds up
    [3n * GWEI, 3_375_000_000n],
    [7n, 8n], // 7.875 rounds up
  ])('%p × 1.125 rounded up is %p', (wei, bumped) => expect(bumpedByAnEighth(wei)).toBe(bumped));
});

describe('replacementFees', () => {
  const previous = { maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: 1n * GWEI };

  it('raises both fees by an eighth when the node suggests less', () => {
    expect(replacementFees(previous, { maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI / 2n })).toEqual({
      fees: { maxFeePerGas: 3_375_000_000n, maxPriorityFeePerGas: 1_125_000_000n },
      capped: false,
    });
    expect(replacementFees(previous, none)).toEqual({
      fees: { maxFeePerGas: 3_375_000_000n, maxPriorityFeePerGas: 1_125_000_000n },
      capped: false,
    });
  });

  it('takes the node’s suggestion for each fee that is above the bump, independently', () => {
    expect(replacementFees(previous, { maxFeePerGas: 25n * GWEI, maxPriorityFeePerGas: GWEI })).toEqual({
      fees: { maxFeePerGas: 25n * GWEI, maxPriorityFeePerGas: 1_125_000_000n },
      capped: false,
    });
    expect(replacementFees(previous, { maxFeePerGas: GWEI, maxPriorityFeePerGas: 2n * GWEI })).toEqual({
      fees: { maxFeePerGas: 3_375_000_000n, maxPriorityFeePerGas: 2n * GWEI },
      capped: false,
    });
  });

  it('holds maxFeePerGas at the ceiling, and says so', () => {
    expect(
      replacementFees(previous, { maxFeePerGas: 25n * GWEI, maxPriorityFeePerGas: GWEI }, 10n * GWEI),
    ).toEqual({ fees: { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 1_125_000_000n }, capped: true });
    // Exactly the bump fits under the ceiling.
    expect(
      replacementFees(previous, { maxFeePerGas: 25n * GWEI, maxPriorityFeePerGas: GWEI }, 3_375_000_000n),
    ).toEqual({ fees: { maxFeePerGas: 3_375_000_000n, maxPriorityFeePerGas: 1_125_000_000n }, capped: true });
    // Under the ceiling: not capped.
    expect(replacementFees(previous, none, 10n * GWEI)).toMatchObject({ capped: false });
  });

  it('makes no replacement once the bump no longer fits under the ceiling', () => {
    expect(replacementFees(previous, none, 3_374_999_999n)).toEqual({ atCeiling: true });
    expect(
      replacementFees({ maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI }, none, 10n * GWEI),
    ).toEqual({
      atCeiling: true,
    });
  });

  it('never offers a tip above the fee cap', () => {
    const r = replacementFees(previous, { maxFeePerGas: null, maxPriorityFeePerGas: 50n * GWEI });
    expect(r).toEqual({
      fees: { maxFeePerGas: 3_375_000_000n, maxPriorityFeePerGas: 3_375_000_000n },
      capped: false,
    });
  });

  it('always clears the nodes’ 10 % replacement rule on both fees (2,000 random cases)', () => {
    const rnd = (max: bigint) => BigInt(Math.floor(Math.random() * Number(max)));
    for (let i = 0; i < 2_000; i++) {
      const maxFee = 1n + rnd(500n * GWEI);
      const prev = { maxFeePerGas: maxFee, maxPriorityFeePerGas: rnd(maxFee + 1n) };
      const current = { maxFeePerGas: rnd(600n * GWEI), maxPriorityFeePerGas: rnd(10n * GWEI) };
      const ceiling = i % 2 === 0 ? undefined : 1n + rnd(700n * GWEI);
      const r = replacementFees(prev, current, ceiling);
      if ('atCeiling' in r) {
        expect(ceiling! < bumpedByAnEighth(prev.maxFeePerGas)).toBe(true);
        continue;
      }
      // geth: new × 100 ≥ old × 110 for each fee.
      expect(r.fees.maxFeePerGas * 100n >= prev.maxFeePerGas * 110n).toBe(true);
      expect(r.fees.maxPriorityFeePerGas * 100n >= prev.maxPriorityFeePerGas * 110n).toBe(true);
      expect(r.fees.maxPriorityFeePerGas <= r.fees.maxFeePerGas).toBe(true);
      if (ceiling !== undefined) expect(r.fees.maxFeePerGas <= ceiling).toBe(true);
    }
  });
});

describe('replacementPolicy', () => {
  it('replaces after 180 s with no ceiling by default', () => {
    expect(DEFAULT_REPLACE_AFTER_SECONDS).toBe(180);
    expect(replacementPolicy({})).toEqual({ replaceAfterMs: 180_000, maxFeePerGas: undefined });
  });

  it('reads the seconds and the ceiling in gwei (exact, to the wei)', () => {
    expect(
      replacementPolicy({
        WITHDRAW_REPLACE_AFTER_SECONDS: '2',
        WITHDRAW_MAX_FEE_PER_GAS_GWEI: '150.000000001',
      }),
    ).toEqual({ replaceAfterMs: 2_000, maxFeePerGas: 150_000_000_001n });
  });

  it.each([
    [{ WITHDRAW_REPLACE_AFTER_SECONDS: '0' }],
    [{ WITHDRAW_REPLACE_AFTER_SECONDS: '' }],
    [{ WITHDRAW_REPLACE_AFTER_SECONDS: '1.5' }],
    [{ WITHDRAW_REPLACE_AFTER_SECONDS: '90000' }],
    [{ WITHDRAW_MAX_FEE_PER_GAS_GWEI: '0' }],
    [{ WITHDRAW_MAX_FEE_PER_GAS_GWEI: '-1' }],
    [{ WITHDRAW_MAX_FEE_PER_GAS_GWEI: '1.0000000001' }],
    [{ WITHDRAW_MAX_FEE_PER_GAS_GWEI: '1e3' }],
  ])('refuses %p', (env) => expect(() => replacementPolicy(env)).toThrow());
});
