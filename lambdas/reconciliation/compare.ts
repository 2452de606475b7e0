// Ledger against engine: open order locks in PostgreSQL compared with the live orders of each shard's latest
// engine snapshot. Pure: ./reconcile.ts loads both sides (snapshots first, then the ledger, so the ledger is
// never older than a snapshot) and calls these.
//
// A snapshot is only as new as the engine's last one (every SNAPSHOT_EVERY_COMMANDS commands), so both
// findings are limited to what the snapshot can prove:
// - orphan lock: open, its order is not live in the snapshot, the lock is older than the snapshot's time
//   minus a grace (the command may still have been on its way), and the ledger has settled nothing of the
//   order after the snapshot's seq (`orders.last_seq` ≤ the market's seq: a later place would have moved it).
// - unlocked live order: live in the snapshot, no open lock, unless the ledger has settled the order past
//   the snapshot's seq (it closed after the snapshot and its lock was released by that close).
import type { OrderTuple } from '@engine/core/snapshot';
import type { ServiceSnapshot } from '@engine/service/ports';

/** A lock younger than this at snapshot time is not judged: its place may not have reached the engine. */
export const LOCK_GRACE_MS = 60_000;

/** An open order lock (`order_locks.status = 'open'`) with its order's progress in the ledger. */
export interface OpenLock {
  orderId: number;
  market: string;
  /** `order_locks.created_at`, epoch ms. */
  createdAtMs: number;
  /** `orders.last_seq`: the order's last engine seq the ledger settled (0: no answer yet, or no order row). */
  lastSeq: number;
}

/** One shard's snapshot as the comparison needs it. */
export interface SnapshotView {
  shard: string;
  /** When the engine took it (`ServiceSnapshot.takenAt`, the engine's clock), epoch ms. */
  takenAtMs: number;
  markets: Array<{ symbol: string; seq: number; liveOrderIds: number[] }>;
}

export interface LockFinding {
  orderId: number;
  market: string;
  shard: string;
}

export interface LockComparison {
  orphanLocks: LockFinding[];
  unlockedLiveOrders: LockFinding[];
  /** Open locks in a market no loaded snapshot covers (no snapshot yet, or it could not be read). */
  uncheckedLocks: number;
  /** Open locks not judged: younger than the snapshot minus the grace, or settled past its seq. */
  newerThanSnapshot: number;
  /** Live orders without an open lock that the ledger has since settled past the snapshot (closed since). */
  closedSinceSnapshot: number;
}

const orderIds = (orders: OrderTuple[]) => orders.map((o) => o[0]);

/** The live orders of a snapshot: resting bids and asks and pending stops, per market, with its seq. */
export function snapshotView(snapshot: ServiceSnapshot): SnapshotView {
  return {
    shard: snapshot.shard,
    takenAtMs: snapshot.takenAt,
    markets: snapshot.engine.markets.map((m) => ({
      symbol: m.rules.symbol,
      seq: m.seq,
      liveOrderIds: [...orderIds(m.bids), ...orderIds(m.asks), ...orderIds(m.stops)],
    })),
  };
}

interface MarketState {
  shard: string;
  takenAtMs: number;
  seq: number;
  live: Set<number>;
}

function byMarket(snapshots: SnapshotView[]): Map<string, MarketState> {
  const markets = new Map<string, MarketState>();
  for (const s of snapshots)
    for (const m of s.markets)
      markets.set(m.symbol, {
        shard: s.shard,
        takenAtMs: s.takenAtMs,
        seq: m.seq,
        live: new Set(m.liveOrderIds),
      });
  return markets;
}

/** Live orders of the snapshots that have no open lock: the ones whose `orders.last_seq` the caller looks up. */
export function liveOrdersWithoutOpenLock(locks: OpenLock[], snapshots: SnapshotView[]): number[] {
  const locked = new Set(locks.map((l) => l.orderId));
  return snapshots.flatMap((s) => s.markets.flatMap((m) => m.liveOrderIds.filter((id) => !locked.has(id))));
}

/**
 * @param ledgerLastSeq `orders.last_seq` of the live orders without an open lock (see
 *   liveOrdersWithoutOpenLock); an order missing from it has no row in the ledger.
 */
export function compareLocks(
  locks: OpenLock[],
  snapshots: SnapshotView[],
  ledgerLastSeq: ReadonlyMap<number, number>,
  graceMs: number = LOCK_GRACE_MS,
): LockComparison {
  const markets = byMarket(snapshots);
  const result: LockComparison = {
    orphanLocks: [],
    unlockedLiveOrders: [],
    uncheckedLocks: 0,
    newerThanSnapshot: 0,
    closedSinceSnapshot: 0,
  };
  const locked = new Set<number>();
  for (const lock of locks) {
    locked.add(lock.orderId);
    const market = markets.get(lock.market);
    if (!market) {
      result.uncheckedLocks++;
      continue;
    }
    if (market.live.has(lock.orderId)) continue;
    if (lock.createdAtMs >= market.takenAtMs - graceMs || lock.lastSeq > market.seq) {
      result.newerThanSnapshot++;
      continue;
    }
    result.orphanLocks.push({ orderId: lock.orderId, market: lock.market, shard: market.shard });
  }
  for (const [symbol, market] of markets) {
    for (const orderId of market.live) {
      if (locked.has(orderId)) continue;
      const lastSeq = ledgerLastSeq.get(orderId);
      if (lastSeq !== undefined && lastSeq > market.seq) {
        result.closedSinceSnapshot++;
        continue;
      }
      result.unlockedLiveOrders.push({ orderId, market: symbol, shard: market.shard });
    }
  }
  return result;
}
