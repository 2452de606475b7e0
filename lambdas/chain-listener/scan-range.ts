// Which blocks the chain listener may scan next: only blocks buried under `confirmations` blocks, in
// bounded steps so one run finishes well inside its timeout. Pure, so it is tested without a chain.

export interface ScanRange {
  from: number;
  to: number;
}

/**
 * @param lastScanned highest block already scanned, or undefined on the first run
 * @param head the node's latest block number
 * @returns the next inclusive range, or undefined when no new block is confirmed yet
 */
export function nextScanRange(
  lastScanned: number | undefined,
  head: number,
  confirmations: number,
  maxBlocks: number,
): ScanRange | undefined {
  const confirmed = head - confirmations;
  if (confirmed < 0) return undefined;
  // First run: start at the confirmed tip; history before the exchange existed holds no deposits of ours.
  const from = lastScanned === undefined ? confirmed : lastScanned + 1;
  if (from > confirmed) return undefined;
  return { from, to: Math.min(confirmed, from + maxBlocks - 1) };
}
