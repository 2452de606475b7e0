// The stream consumers' own process (started and supervised by local/consumers.ts): the environment is the
// exchange's, the options come in CONSUMERS_SPEC. Logs go to the same per-component files as in the
// exchange's process; console lines are printed ready-made on stdout for the parent to show.
import { join } from 'node:path';
import { closeDbPool } from '@lambdas/shared/db';
import { startConsumersHere } from './consumers';
import { LogRouter } from './logs';

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.CONSUMERS_SPEC ?? '{}') as {
    dataDir: string;
    streamName: string;
    consumerTimeoutMs?: number;
  };
  const print = process.stdout.write.bind(process.stdout);
  const logs = new LogRouter({ dir: join(spec.dataDir, 'logs'), print: (line) => print(`${line}\n`) });
  const release = logs.captureProcess('consumers');
  const consumers = await startConsumersHere({ ...spec, log: (line) => print(`${line}\n`) });
  print('consumers ready\n');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await consumers.stop();
    await closeDbPool();
    release();
    await logs.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The exchange was killed (kill -9 runs no exit hook in it): do not outlive it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void stop(), 1_000).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`consumers failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
