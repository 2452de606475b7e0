// The local exchange: the stand-ins, the resources provisioned from lib/resources.ts, the engine service
// as a child process (the same code the Fargate task runs), the data processor behind a Kinesis poller,
// and the REST API behind a local API Gateway. `npm start` runs it; tests and benchmarks start it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ENGINE_SHARDS, EVENT_STREAM } from '../lib/resources';
import { startRestApi } from './apigw/rest';
import { provision } from './provision';
import { startOutboxRelay } from './triggers/outbox-relay';
import { startReconciliation } from './triggers/reconciliation';
import { restRoutes } from './routes';
import { placeDemoLiquidity } from './demo-liquidity';
import { seed, type SeedResult } from './seed';
import { startStandins } from './standins';
import { stopChild } from './standins/ports';
import { startKinesisPoller } from './triggers/kinesis-poller';

export interface LocalExchangeOptions {
  /** Where data lives between runs. */
  dataDir: string;
  /** Start from empty state. */
  fresh?: boolean;
  /** Everything in memory (tests, benchmarks). */
  inMemory?: boolean;
  restPort?: number;
  /** Fund two demo users and write their keys. */
  demoUsers?: boolean;
  demoLiquidity?: boolean;
  /** An existing PostgreSQL instead of the embedded one. */
  databaseUrl?: string;
  log?: (line: string) => void;
  /** Snapshot cadence of the engine (commands). */
  snapshotEveryCommands?: number;
}

export interface LocalExchange {
  restUrl: string;
  env: Record<string, string>;
  /** The engine shard's dead-letter queue. */
  dlqUrl: string;
  seeded: SeedResult;
  /** The engine child process (tests kill -9 it and call restartEngine). */
  engine(): ChildProcess;
  restartEngine(): Promise<void>;
  stop(): Promise<void>;
}

const STAGE = 'local';

export async function startLocalExchange(opts: LocalExchangeOptions): Promise<LocalExchange> {
  const log = opts.log ?? ((line: string) => console.log(line));
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });

  const standins = await startStandins({
    dataDir: opts.dataDir,
    inMemory: opts.inMemory,
    databaseUrl: opts.databaseUrl,
    log,
  });
  const stops: Array<() => Promise<void>> = [() => standins.stop()];
  try {
    Object.assign(process.env, standins.env);
    const resources = await provision(STAGE, standins.env);
    const env: Record<string, string> = { ...standins.env, ...resources.env, STAGE };
    Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' });
    // pglite serves every socket from one session: concurrent extended-protocol queries from several
    // connections interleave and break, so the handlers share a single connection to it.
    if (!opts.databaseUrl) process.env.DB_POOL_MAX = '1';

    const seeded = await seed({ demoUsers: opts.demoUsers ?? false, dataDir: opts.dataDir });
    log(`ledger       ready (${seeded.migrations} migrations, markets ${seeded.markets.join(', ')})`);

    const shard = DEFAULT_ENGINE_SHARDS[0];
    const engineEnv: Record<string, string> = {
      ...env,
      ENGINE_SHARD: shard.id,
      ENGINE_MARKETS: shard.markets.join(','),
      ORDER_QUEUE_URL: resources.queueUrls[shard.id],
      EVENT_STREAM_NAME: resources.streamName,
      SNAPSHOT_BUCKET: resources.snapshotBucket,
      SNAPSHOT_EVERY_COMMANDS: String(opts.snapshotEveryCommands ?? 10_000),
      HEALTH_PORT: '0',
      RECEIVERS: '4',
      // No CloudWatch stand-in: the heartbeat metric is an AWS alarm input only.
      ENGINE_HEARTBEAT: 'off',
    };
    let engineChild = await spawnEngine(engineEnv, log);
    stops.unshift(() => stopChild(engineChild, 10_000));
    // The outbox relay also re-sends what the in-memory local queue lost across a restart.
    const relay = startOutboxRelay({ log });
    stops.unshift(() => relay.stop());
    log('relay        outbox relay delivering commands the API could not send');
    const reconciliation = startReconciliation({
      snapshotBucket: resources.snapshotBucket,
      shards: DEFAULT_ENGINE_SHARDS.map((s) => s.id),
      log,
    });
    stops.unshift(() => reconciliation.stop());

    // Two consumers of the stream, as two event source mappings in AWS: settlement and the read models.
    const { handler: processBatch } = await import('../lambdas/data-processor/handler');
    const { handler: projectBatch } = await import('../lambdas/read-models/handler');
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${EVENT_STREAM.name}`;
    for (const [name, handler] of [
      ['data-processor', processBatch],
      ['read-models', projectBatch],
    ] as const) {
      const poller = await startKinesisPoller({
        streamName: resources.streamName,
        streamArn,
        checkpointFile: join(opts.dataDir, `${name}-checkpoints.json`),
        batchSize: 100,
        handler,
        log,
      });
      stops.unshift(() => poller.stop());
    }
    log('processor    data-processor (settlement) and read-models consuming engine events');

    const rest = await startRestApi({ port: opts.restPort ?? 8080, routes: await restRoutes(), log });
    stops.unshift(() => rest.stop());
    log(`rest api     ${rest.url}`);
    if (opts.demoLiquidity) {
      const placed = await placeDemoLiquidity(rest.url, opts.dataDir);
      log(`liquidity    ${placed} resting demo orders from the market-maker user`);
    }

    return {
      restUrl: rest.url,
      env: engineEnv,
      dlqUrl: resources.dlqUrls[shard.id],
      seeded,
      engine: () => engineChild,
      async restartEngine() {
        await stopChild(engineChild, 10_000);
        engineChild = await spawnEngine(engineEnv, log);
      },
      async stop() {
        for (const stop of stops) await stop().catch((err: unknown) => log(`stop failed: ${String(err)}`));
      },
    };
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
}

/** Runs engine/service/main.ts (TypeScript through tsx's loader) as its own process, and waits until it runs. */
async function spawnEngine(env: Record<string, string>, log: (line: string) => void): Promise<ChildProcess> {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild, which a kill -9 of the
  // child would leave running (a second writer on the shard). Here the child is the engine itself.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '..', 'engine', 'service', 'main.ts')],
    {
      // Same young-generation size as the Fargate task (engine/Dockerfile); tsx passes NODE_OPTIONS on.
      env: {
        ...process.env,
        ...env,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-semi-space-size=64'].filter(Boolean).join(' '),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('engine running')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) =>
      reject(new Error(`engine exited with ${code} before it was ready:\n${out.slice(-2000)}`)),
    );
  });
  child.stdout?.resume();
  child.stderr?.resume();
  log(`engine       running (pid ${child.pid})`);
  return child;
}
