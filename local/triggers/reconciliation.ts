// The local stand-in for the reconciliation job's EventBridge schedule: the same reconcile() the Lambda runs
// (conservation, ledger locks against the engine's latest snapshot, quarantine and outbox backlog, one
// audit_log row), every minute against the local stand-ins. One console line when it finds a problem.
import { S3Client } from '@aws-sdk/client-s3';
import { S3SnapshotStore } from '@engine/service/adapters/s3-snapshot-store';
import { dbPool } from '@lambdas/shared/db';
import { reconcile } from '@lambdas/reconciliation/reconcile';
import { every } from './every';

export function startReconciliation(opts: {
  snapshotBucket: string;
  shards: string[];
  log: (line: string) => void;
  everyMs?: number;
}): { stop(): Promise<void> } {
  const s3 = new S3Client({ forcePathStyle: true });
  const snapshots = new S3SnapshotStore(s3, opts.snapshotBucket);
  const schedule = every(
    opts.everyMs ?? 60_000,
    async () => {
      const report = await reconcile({ pool: dbPool(), snapshots, shards: opts.shards });
      if (!report.ok)
        opts.log(`reconcile    ${report.problems.length} problems: ${report.problems.join('; ')}`);
    },
    (err) => opts.log(`reconcile    run failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  return {
    async stop() {
      await schedule.stop();
      s3.destroy();
    },
  };
}
