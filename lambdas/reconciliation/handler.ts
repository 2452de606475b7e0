// Reconciliation (EventBridge schedule, every 5 minutes): ledger conservation, ledger locks against the
// engine snapshots, quarantined records and the outbox backlog (./reconcile.ts). Publishes one metric per
// finding (alarms: ConservationProblems, OrphanLocks, UnlockedLiveOrders) and logs problems at error level.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { S3SnapshotStore } from '@engine/service/adapters/s3-snapshot-store';
import { DEFAULT_ENGINE_SHARDS, SNAPSHOT_BUCKET } from '@contracts/resources';
import { z } from 'zod';
import { configOnce } from '../shared/config';
import { dbPool } from '../shared/db';
import { logger } from '../shared/powertools';
import { reconcile, type ReconciliationReport } from './reconcile';
import { lambdaHandler } from '../shared/handler';

export { reconcile, type ReconcileDeps, type ReconciliationReport } from './reconcile';

const metrics = new Metrics({ namespace: 'Cirrus', serviceName: 'reconciliation' });

/** Its configuration, once per container: the snapshot bucket and the shard ids to compare. */
const config = configOnce(
  'reconciliation',
  z.object({
    [SNAPSHOT_BUCKET.envVar]: z.string().min(1),
    /** ENGINE_SHARDS: a JSON list of shard ids (set by CDK), else the default shards. */
    ENGINE_SHARDS: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return DEFAULT_ENGINE_SHARDS.map((shard) => shard.id);
        const ids = z.array(z.string().min(1)).safeParse(JSON.parse(s));
        if (ids.success) return ids.data;
        ctx.addIssue({ code: 'custom', message: 'ENGINE_SHARDS must be a JSON list of shard ids' });
        return z.NEVER;
      }),
    AWS_ENDPOINT_URL_S3: z.string().optional(),
  }),
);

export function publishReport(m: Metrics, report: ReconciliationReport): void {
  m.addMetric('ConservationProblems', MetricUnit.Count, report.conservationProblems.length);
  m.addMetric('OrphanLocks', MetricUnit.Count, report.orphanLocks.length);
  m.addMetric('UnlockedLiveOrders', MetricUnit.Count, report.unlockedLiveOrders.length);
  m.addMetric('QuarantinedRecords', MetricUnit.Count, report.quarantinedRecords);
  m.addMetric('StaleOutboxRows', MetricUnit.Count, report.staleOutboxRows);
  m.publishStoredMetrics();
}

let snapshots: S3SnapshotStore | undefined;

const handle = async (): Promise<void> => {
  snapshots ??= new S3SnapshotStore(
    new S3Client({ forcePathStyle: !!config().AWS_ENDPOINT_URL_S3 }),
    config()[SNAPSHOT_BUCKET.envVar],
  );
  const report = await reconcile({ pool: dbPool(), snapshots, shards: config().ENGINE_SHARDS });
  if (report.shardsNotChecked.length > 0)
    logger.warn('reconciliation could not compare the locks of some shards', {
      shardsNotChecked: report.shardsNotChecked,
      uncheckedLocks: report.uncheckedLocks,
    });
  for (const problem of report.problems) logger.error(`reconciliation: ${problem}`);
  if (report.ok)
    logger.info('reconciliation found no problem', {
      snapshots: report.snapshots,
      shardsNotChecked: report.shardsNotChecked.length,
    });
  publishReport(metrics, report);
};

export const handler = lambdaHandler(handle);
