// Trailing stops for the differential test (./engine-vs-reference.test.ts): the seeded flow
// (test/support/engine-flow.ts) places plain stop orders only; this wrapper turns a share of them into
// trailing stops (Binance `trailingDelta`, in BIPS), half keeping their stopPrice as the activation price and
// half dropping it (tracking from entry), and a few into invalid ones (a delta of 0 or ≥ 10,000 BIPS, or a
// delta on a LIMIT order) that both engines must refuse alike. The flow's prices sit near 10,000 ticks and
// drift by a few ticks a command, so deltas of 1–50 BIPS (1–50 ticks) trail, and trigger, often.
import type { Command } from '@engine/core/types';
import { prng } from '../support/engine-flow';

/** Share of the flow's stop places made trailing, and of all places given an invalid delta. */
export const TRAILING_SHARE = 0.35;
const INVALID_SHARE = 0.004;
const DELTAS = [1, 3, 5, 10, 20, 50] as const;

const STOP_TYPES = new Set(['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);

export interface TrailingStats {
  /** Trailing places yielded, with and without a stopPrice. */
  withStopPrice: number;
  onEntry: number;
  invalid: number;
}

export const newTrailingStats = (): TrailingStats => ({ withStopPrice: 0, onEntry: 0, invalid: 0 });

export function* withTrailingCommands(
  flow: Iterable<Command>,
  seed: number,
  stats: TrailingStats = newTrailingStats(),
): Generator<Command> {
  const rnd = prng(seed ^ 0x7f4a7c15);
  for (const cmd of flow) {
    if (cmd.kind !== 'place') {
      yield cmd;
      continue;
    }
    if (rnd() < INVALID_SHARE) {
      stats.invalid++;
      const r = rnd();
      const trailingDelta = r < 0.4 ? 0 : r < 0.8 ? 10_000 + Math.floor(rnd() * 3) : 10;
      yield r < 0.8 ? { ...cmd, trailingDelta } : { ...cmd, type: 'LIMIT', trailingDelta };
      continue;
    }
    if (!STOP_TYPES.has(cmd.type) || rnd() >= TRAILING_SHARE) {
      yield cmd;
      continue;
    }
    const trailingDelta = DELTAS[Math.floor(rnd() * DELTAS.length)];
    if (rnd() < 0.5) {
      stats.withStopPrice++;
      yield { ...cmd, trailingDelta };
    } else {
      stats.onEntry++;
      const { stopPrice: _dropped, ...rest } = cmd;
      yield { ...rest, trailingDelta };
    }
  }
}
