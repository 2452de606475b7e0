// One reconciliation run, without Lambda: the handler calls it on its schedule, the local runtime on an
// interval. Loads each shard's latest engine snapshot, then reads the ledger in one read-only, repeatable-
// read transaction (conservation, open locks, quarantine, outbox backlog all from one database snapshot),
// compares (./compare.ts), and records the summary in `audit_log`.
import type { Pool } from 'pg';
import type { SnapshotStore } from '@engine/service/ports';
import { LedgerRepository } from '../shared/ledger/repository';
import {
  compareLocks,
  liveOrdersWithoutOpenLock,
  LOCK_GRACE_MS,
  snapshotView,
  type LockFinding,
  type OpenLock,
  type SnapshotView,
} from './compare';

/** An outbox row unapplied for longer than this counts as stale (the relay resends after seconds). */
export const STALE_OUTBOX_MS = 60_000;
/** At most this many order ids per finding go into the audit row (the counts are always complete). */
const AUDIT_SAMPLE = 50;

export interface ReconcileDeps {
  pool: Pool;
  snapshots: Pick<SnapshotStore, 'loadLatest'>;
  /** Engine shard ids whose latest snapshot is compared. */
  shards: string[];
  graceMs?: number;
  staleOutboxMs?: number;
}

export interface ReconciliationReport {
  ok: boolean;
  /** One line per problem found (empty when ok): what the handler logs at error level. */
  problems: string[];
  conservationProblems: string[];
  orphanLocks: LockFinding[];
  unlockedLiveOrders: LockFinding[];
  /** `quarantined_records` not replayed. */
  quarantinedRecords: number;
  /** Outbox rows unapplied for more than staleOutboxMs. */
  staleOutboxRows: number;
  /** The snapshots compared: shard, the engine's `takenAt`, seq per market. */
  snapshots: Array<{ shard: string; takenAt: string; seqs: Record<string, number> }>;
  /** Shards whose locks were not compared, and why. */
  shardsNotChecked: Array<{ shard: string; reason: string }>;
  /** Open locks in markets of shards not checked. */
  uncheckedLocks: number;
}

async function loadSnapshots(deps: ReconcileDeps) {
  const views: SnapshotView[] = [];
  const notChecked: ReconciliationReport['shardsNotChecked'] = [];
  for (const shard of deps.shards) {
    try {
      const snapshot = await deps.snapshots.loadLatest(shard);
      if (snapshot) views.push(snapshotView(snapshot));
      else notChecked.push({ shard, reason: 'no snapshot yet' });
    } catch (err) {
      // In AWS a missing object reads as AccessDenied (the function may not list the bucket).
      notChecked.push({
        shard,
        reason: `snapshot not readable: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  return { views, notChecked };
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconciliationReport> {
  // Snapshots first: the ledger read afterwards is at least as new as every snapshot, which is what the
  // comparison's exclusions assume.
  const { views, notChecked } = await loadSnapshots(deps);
  const client = await deps.pool.connect();
  let conservation: { problems: string[] };
  let locks: OpenLock[];
  let ledgerLastSeq: Map<number, number>;
  let quarantinedRecords: number;
  let staleOutboxRows: number;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // checkConservation only issues queries; on this client they all read the transaction's snapshot, so
    // a funds lock committing between its statements cannot show up as `locked ≠ open order locks`.
    conservation = await new LedgerRepository(client as unknown as Pool).checkConservation();
    const open = await client.query<{
      order_id: string;
      market: string;
      created_ms: string;
      last_seq: string;
    }>(
      // An order list's lock (keyed by −list id, migration 17) stands for each of its open legs; with none
      // open (a lock the list's end should have released) for its first leg, judged at the list's own seq.
      `SELECT l.order_id, coalesce(o.market, l.market) AS market,
              (extract(epoch FROM l.created_at) * 1000)::float8 AS created_ms, coalesce(o.last_seq, 0) AS last_seq
         FROM order_locks l LEFT JOIN orders o ON o.order_id = l.order_id
        WHERE l.status = 'open' AND l.order_id > 0
       UNION ALL
       SELECT coalesce(leg.order_id, ol.order_ids[1]), ol.market,
              (extract(epoch FROM l.created_at) * 1000)::float8, coalesce(leg.last_seq, ol.last_seq)
         FROM order_locks l JOIN order_lists ol ON ol.list_id = -l.order_id
         LEFT JOIN LATERAL (SELECT o.order_id, o.last_seq FROM orders o
                             WHERE o.order_id = ANY(ol.order_ids) AND o.status IN ('NEW', 'PARTIALLY_FILLED')) leg
                ON true
        WHERE l.status = 'open' AND l.order_id < 0`,
    );
    locks = open.rows.map((r) => ({
      orderId: Number(r.order_id),
      market: r.market,
      createdAtMs: Number(r.created_ms),
      lastSeq: Number(r.last_seq),
    }));
    const unlocked = liveOrdersWithoutOpenLock(locks, views);
    const seqs =
      unlocked.length === 0
        ? { rows: [] }
        : await client.query<{ order_id: string; last_seq: string }>(
            'SELECT order_id, last_seq FROM orders WHERE order_id = ANY($1::bigint[])',
            [unlocked.map(String)],
          );
    ledgerLastSeq = new Map(seqs.rows.map((r) => [Number(r.order_id), Number(r.last_seq)]));
    const counts = await client.query<{ quarantined: string; stale_outbox: string }>(
      `SELECT (SELECT count(*) FROM quarantined_records WHERE replayed_at IS NULL) AS quarantined,
              (SELECT count(*) FROM outbox
                WHERE applied_at IS NULL
                  AND created_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)) AS stale_outbox`,
      [deps.staleOutboxMs ?? STALE_OUTBOX_MS],
    );
    quarantinedRecords = Number(counts.rows[0].quarantined);
    staleOutboxRows = Number(counts.rows[0].stale_outbox);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }

  const compared = compareLocks(locks, views, ledgerLastSeq, deps.graceMs ?? LOCK_GRACE_MS);
  const ids = (findings: LockFinding[]) => findings.map((f) => f.orderId).slice(0, AUDIT_SAMPLE);
  const problems = [
    ...conservation.problems.map((p) => `conservation: ${p}`),
    ...(compared.orphanLocks.length > 0
      ? [
          `${compared.orphanLocks.length} open order locks with no live order in the engine: ${ids(compared.orphanLocks).join(', ')}`,
        ]
      : []),
    ...(compared.unlockedLiveOrders.length > 0
      ? [
          `${compared.unlockedLiveOrders.length} live engine orders with no open lock: ${ids(compared.unlockedLiveOrders).join(', ')}`,
        ]
      : []),
    ...(quarantinedRecords > 0 ? [`${quarantinedRecords} quarantined event records not replayed`] : []),
    ...(staleOutboxRows > 0 ? [`${staleOutboxRows} outbox commands unapplied for more than a minute`] : []),
  ];
  const report: ReconciliationReport = {
    ok: problems.length === 0,
    problems,
    conservationProblems: conservation.problems,
    orphanLocks: compared.orphanLocks,
    unlockedLiveOrders: compared.unlockedLiveOrders,
    quarantinedRecords,
    staleOutboxRows,
    snapshots: views.map((v) => ({
      shard: v.shard,
      takenAt: new Date(v.takenAtMs).toISOString(),
      seqs: Object.fromEntries(v.markets.map((m) => [m.symbol, m.seq])),
    })),
    shardsNotChecked: notChecked,
    uncheckedLocks: compared.uncheckedLocks,
  };
  await deps.pool.query(
    "INSERT INTO audit_log (actor, action, detail) VALUES ('reconciliation', 'reconcile', $1)",
    [
      JSON.stringify({
        ok: report.ok,
        problems: report.problems,
        orphanLocks: compared.orphanLocks.length,
        unlockedLiveOrders: compared.unlockedLiveOrders.length,
        quarantinedRecords,
        staleOutboxRows,
        openLocks: locks.length,
        uncheckedLocks: compared.uncheckedLocks,
        newerThanSnapshot: compared.newerThanSnapshot,
        closedSinceSnapshot: compared.closedSinceSnapshot,
        snapshots: report.snapshots,
        shardsNotChecked: notChecked,
      }),
    ],
  );
  return report;
}
