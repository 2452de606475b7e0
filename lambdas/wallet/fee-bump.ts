// The fees of a replacement transaction (same nonce) for one that has not mined (docs/wallets.md#withdrawals).
// Nodes refuse a replacement unless both fees rise by at least 10 % (geth's and hardhat's price bump), so each
// is raised by 12.5 % at least, or to what the node currently asks when that is more. Wei, bigint only.

export interface Eip1559Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** What the node suggests now (ethers' getFeeData); null on a chain without EIP-1559 fee data. */
export interface SuggestedFees {
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
}

export type Replacement =
  /** `capped`: the ceiling held maxFeePerGas below the bump or the node's suggestion. */
  | { fees: Eip1559Fees; capped: boolean }
  /** The previous fee is already at the ceiling (or so close that no valid bump fits under it). */
  | { atCeiling: true };

/** wei × 1.125, rounded up: the smallest rise this wallet makes (above the nodes' 10 %). */
export const bumpedByAnEighth = (wei: bigint): bigint => (wei * 9n + 7n) / 8n;

const max = (a: bigint, b: bigint | null) => (b !== null && b > a ? b : a);

/**
 * Each fee = max(the node's current suggestion, previous × 1.125 rounded up); maxFeePerGas is held at
 * `ceiling` when one is given, and no replacement is made when even the bump alone would pass it.
 */
export function replacementFees(
  previous: Eip1559Fees,
  current: SuggestedFees,
  ceiling?: bigint,
): Replacement {
  const minMaxFee = bumpedByAnEighth(previous.maxFeePerGas);
  const minTip = bumpedByAnEighth(previous.maxPriorityFeePerGas);
  let maxFeePerGas = max(minMaxFee, current.maxFeePerGas);
  let capped = false;
  if (ceiling !== undefined && maxFeePerGas > ceiling) {
    if (ceiling < minMaxFee) return { atCeiling: true };
    maxFeePerGas = ceiling;
    capped = true;
  }
  // A tip above the fee cap is an invalid transaction; the fee cap is itself bumped, so the tip stays bumped.
  const tip = max(minTip, current.maxPriorityFeePerGas);
  const maxPriorityFeePerGas = tip > maxFeePerGas ? maxFeePerGas : tip;
  if (maxPriorityFeePerGas < minTip) return { atCeiling: true };
  return { fees: { maxFeePerGas, maxPriorityFeePerGas }, capped };
}
