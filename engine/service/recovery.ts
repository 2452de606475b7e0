// Recovery: the latest snapshot, then every command the event log holds after it, re-applied in order. A
// re-applied command must reproduce exactly the logged seq range, else the service must not go on
// (ReplayMismatchError). Pure apart from the two ports it reads.
import { MatchingEngine } from '../core';
import type { EngineEvent, MarketRules } from '../core/types';
import type { EventLog, SnapshotStore, StreamPositions } from './ports';
import { RecentIds } from './recent-ids';

/** Thrown when re-applying a logged command does not reproduce the logged events: never continue then. */
export class ReplayMismatchError extends Error {}

export interface RecoveredState {
  engine: MatchingEngine;
  /** Ids of applied commands (the snapshot's and the replayed ones): redeliveries are recognised. */
  applied: RecentIds;
  /** Where the event log stands: the last record read per stream shard. */
  positions: StreamPositions;
  fromSnapshot: boolean;
  replayedCommands: number;
}

export async function recoverEngine(opts: {
  shard: string;
  markets: MarketRules[];
  snapshots: SnapshotStore;
  log: EventLog;
  rememberCommandIds: number;
}): Promise<RecoveredState> {
  const snapshot = await opts.snapshots.loadLatest(opts.shard);
  const engine = snapshot ? MatchingEngine.restore(snapshot.engine) : new MatchingEngine(opts.markets);
  const applied = new RecentIds(opts.rememberCommandIds, snapshot?.appliedCommandIds ?? []);
  const positions: StreamPositions = { ...(snapshot?.streamPositions ?? {}) };
  const owned = new Set(opts.markets.map((m) => m.symbol));
  let replayed = 0;
  const events: EngineEvent[] = [];
  for await (const logged of opts.log.readAfter(positions)) {
    positions[logged.shardId] = logged.sequenceNumber;
    const { record } = logged;
    if (!owned.has(record.market)) continue;
    for (const command of record.commands) {
      const lastSeq = engine.lastSeq(record.market);
      // Already in the snapshot, or a duplicate record from a retried put.
      if (command.lastSeq <= lastSeq || applied.has(command.cmdId)) continue;
      if (command.firstSeq !== lastSeq + 1) {
        throw new ReplayMismatchError(
          `event log gap in ${record.market}: engine at seq ${lastSeq}, next logged command starts at ${command.firstSeq}`,
        );
      }
      events.length = 0;
      engine.apply(command.command, events);
      const first = events[0]?.seq;
      const last = events[events.length - 1]?.seq;
      if (first !== command.firstSeq || last !== command.lastSeq) {
        throw new ReplayMismatchError(
          `replay of ${command.cmdId} produced seq ${first}..${last}, log says ${command.firstSeq}..${command.lastSeq}`,
        );
      }
      applied.add(command.cmdId);
      replayed++;
    }
  }
  return { engine, applied, positions, fromSnapshot: !!snapshot, replayedCommands: replayed };
}
