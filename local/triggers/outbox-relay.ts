// The local stand-in for the relay's EventBridge schedule: the same OutboxRelay the Lambda runs, one pass a
// second, against the local PostgreSQL and SQS stand-ins. Prints one line when it sends what the API had
// not (a failed send, or a command lost with the in-memory local queue across a restart). Each pass also
// publishes the ledger's balance events to the wallet-event stream (kinesalite), as the Lambda does.
import { WALLET_EVENT_STREAM } from '@contracts/resources';
import { kinesisClient, requiredEnv, sqsClient } from '@lambdas/shared/clients';
import { dbPool } from '@lambdas/shared/db';
import { BalanceEventRelay } from '@lambdas/shared/outbox/balance-events';
import { KinesisBalanceSink } from '@lambdas/shared/outbox/kinesis-balance-sink';
import { OutboxRelay } from '@lambdas/shared/outbox/relay';
import { SqsCommandSender } from '@lambdas/shared/outbox/sqs-sender';
import { every } from './every';

export function startOutboxRelay(opts: {
  log: (line: string) => void;
  everyMs?: number;
  relay?: OutboxRelay;
}): { stop(): Promise<void>; pass(): Promise<void> } {
  const relay = opts.relay ?? new OutboxRelay(dbPool(), new SqsCommandSender(sqsClient()));
  const balances = new BalanceEventRelay(
    dbPool(),
    new KinesisBalanceSink(kinesisClient(), requiredEnv(WALLET_EVENT_STREAM.envVar)),
  );
  let passes = 0;
  const pass = async () => {
    if (passes++ % 60 === 0) await Promise.all([relay.cleanup(), balances.cleanup()]);
    const b = await balances.publishDue();
    if (b.failed > 0) opts.log(`relay        ${b.failed} balance events not published (retried next pass)`);
    const r = await relay.deliverDue();
    if (r.sent > 0 || r.failed > 0)
      opts.log(
        `relay        sent ${r.sent} commands the API had not (${r.failed} failed, retried next pass)`,
      );
  };
  const schedule = every(opts.everyMs ?? 1_000, pass, (err) =>
    opts.log(`relay        pass failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  return {
    stop: () => schedule.stop(),
    pass,
  };
}
