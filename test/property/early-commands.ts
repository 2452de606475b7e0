// Commands that overtake their order's place, as the order pipeline can deliver them: the place's send
// failed (the outbox relay sends it later) or it sits in a DLQ, while the cancel went straight through.
// `withEarlyCommands` wraps a seeded flow (test/support/engine-flow.ts, which never names an id before its
// place) and, for a share of the places that bring a new id, yields a cancel of that id first (same market
// and user, as the order API sends it) and the place itself 0–20 commands later, or never (stuck in a
// DLQ). A smaller share gets an amend first instead: that leaves no tombstone, so the place still runs.
import type { Command } from '@engine/core/types';
import { prng } from '../support/engine-flow';

/** Shares of the places with a new id that are overtaken by a cancel, or by an amend. */
export const EARLY_CANCEL_SHARE = 0.03;
export const EARLY_AMEND_SHARE = 0.01;
/** Of the overtaken places, the share that never arrives. */
const NEVER_ARRIVES = 0.2;
const MAX_DELAY = 20;

/** What the wrapper did, keyed `market:orderId`, for the tests to check the engine's answers against. */
export interface EarlyCommands {
  /** Ids cancelled before their place (whether or not the place arrives later). */
  cancelled: Set<string>;
  /** Ids amended before their place. */
  amended: Set<string>;
  /** Commands added by the wrapper (cancels and amends). */
  added: number;
  /** Commands yielded in all. */
  total: number;
}

export const earlyKey = (market: string, orderId: number): string => `${market}:${orderId}`;

export function newEarlyCommands(): EarlyCommands {
  return { cancelled: new Set(), amended: new Set(), added: 0, total: 0 };
}

export function* withEarlyCommands(
  flow: Iterable<Command>,
  seed: number,
  stats: EarlyCommands = newEarlyCommands(),
): Generator<Command> {
  const rnd = prng(seed ^ 0x5bd1e995);
  const held: Array<{ due: number; cmd: Command }> = [];
  let maxId = 0;
  let step = 0;
  const emit = function* (cmd: Command): Generator<Command> {
    stats.total++;
    yield cmd;
    step++;
    for (let i = 0; i < held.length;) {
      if (held[i].due > step) {
        i++;
        continue;
      }
      const [{ cmd: late }] = held.splice(i, 1);
      stats.total++;
      yield late;
    }
  };

  for (const cmd of flow) {
    // Only a place that brings a new id (not the flow's deliberate duplicates) can be overtaken.
    const fresh = cmd.kind === 'place' && Number.isSafeInteger(cmd.orderId) && cmd.orderId > maxId;
    if (cmd.kind === 'place' && Number.isSafeInteger(cmd.orderId)) maxId = Math.max(maxId, cmd.orderId);
    const r = fresh ? rnd() : 1;
    if (r >= EARLY_CANCEL_SHARE + EARLY_AMEND_SHARE) {
      yield* emit(cmd);
      continue;
    }
    if (cmd.kind !== 'place') throw new Error('unreachable: only a fresh place is overtaken');
    const key = earlyKey(cmd.market, cmd.orderId);
    const ahead: Command =
      r < EARLY_CANCEL_SHARE
        ? { kind: 'cancel', market: cmd.market, orderId: cmd.orderId, userId: cmd.userId, ts: cmd.ts }
        : {
            kind: 'amend',
            market: cmd.market,
            orderId: cmd.orderId,
            userId: cmd.userId,
            newQuantity: 1 + Math.floor(rnd() * 20),
            ts: cmd.ts,
          };
    (ahead.kind === 'cancel' ? stats.cancelled : stats.amended).add(key);
    stats.added++;
    if (rnd() >= NEVER_ARRIVES) held.push({ due: step + 1 + Math.floor(rnd() * (MAX_DELAY + 1)), cmd });
    yield* emit(ahead);
  }
  // The flow is over: whatever is still held arrives now, in order.
  for (const { cmd } of held.splice(0)) {
    stats.total++;
    yield cmd;
  }
}
