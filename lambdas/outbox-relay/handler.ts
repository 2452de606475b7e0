// Outbox relay (EventBridge schedule, every minute): passes once a second for most of the minute, so a
// command whose send after commit failed reaches the engine within seconds, not a minute. Each pass also
// publishes the ledger's balance events to the wallet-event stream (docs/wallets.md#balance-events).
// Publishes the age of the oldest unapplied command (alarm: docs/deploy.md#alarms-and-the-first-thing-to-check).
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { WALLET_EVENT_STREAM } from '@contracts/resources';
import { kinesisClient, requiredEnv, sqsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { BalanceEventRelay } from '../shared/outbox/balance-events';
import { KinesisBalanceSink } from '../shared/outbox/kinesis-balance-sink';
import { OutboxRelay } from '../shared/outbox/relay';
import { SqsCommandSender } from '../shared/outbox/sqs-sender';
import { logger } from '../shared/powertools';
import { lambdaHandler } from '../shared/handler';

const metrics = new Metrics({ namespace: 'Cirrus', serviceName: 'outbox-relay' });
const PASS_EVERY_MS = 1_000;
/** Leave the rest of the minute (and the function's timeout) for the last pass and the metric flush. */
const RUN_FOR_MS = 50_000;

let relay: OutboxRelay | undefined;
let balances: BalanceEventRelay | undefined;

export async function runRelay(
  r: OutboxRelay,
  runForMs: number,
  passEveryMs = PASS_EVERY_MS,
  balanceEvents?: BalanceEventRelay,
): Promise<{
  sent: number;
  failed: number;
  oldestUnappliedSeconds: number;
  balanceEventsPublished: number;
  balanceEventsFailed: number;
}> {
  const until = Date.now() + runForMs;
  let sent = 0;
  let failed = 0;
  let oldest = 0;
  let published = 0;
  let publishFailures = 0;
  await r.cleanup();
  await balanceEvents?.cleanup();
  do {
    const pass = await r.deliverDue();
    sent += pass.sent;
    failed += pass.failed;
    oldest = Math.max(oldest, pass.oldestUnappliedSeconds);
    if (balanceEvents) {
      const b = await balanceEvents.publishDue();
      published += b.published;
      publishFailures += b.failed;
    }
    if (Date.now() + passEveryMs >= until) break;
    await new Promise((resolve) => setTimeout(resolve, passEveryMs));
  } while (Date.now() < until);
  return {
    sent,
    failed,
    oldestUnappliedSeconds: oldest,
    balanceEventsPublished: published,
    balanceEventsFailed: publishFailures,
  };
}

const handle = async (): Promise<void> => {
  relay ??= new OutboxRelay(dbPool(), new SqsCommandSender(sqsClient()));
  balances ??= new BalanceEventRelay(
    dbPool(),
    new KinesisBalanceSink(kinesisClient(), requiredEnv(WALLET_EVENT_STREAM.envVar)),
  );
  const result = await runRelay(relay, RUN_FOR_MS, PASS_EVERY_MS, balances);
  if (result.sent > 0 || result.failed > 0) logger.warn('outbox relay sent commands the API had not', result);
  if (result.balanceEventsFailed > 0) logger.warn('balance events not published; retried next pass', result);
  metrics.addMetric('OutboxOldestUnappliedAge', MetricUnit.Seconds, result.oldestUnappliedSeconds);
  metrics.addMetric('OutboxRelaySent', MetricUnit.Count, result.sent);
  metrics.addMetric('OutboxRelaySendFailures', MetricUnit.Count, result.failed);
  metrics.addMetric('BalanceEventsPublished', MetricUnit.Count, result.balanceEventsPublished);
  metrics.addMetric('BalanceEventPublishFailures', MetricUnit.Count, result.balanceEventsFailed);
  metrics.publishStoredMetrics();
};

export const handler = lambdaHandler(handle);
