// The engine-event stream's consumers, as four event source mappings are in AWS: settlement (data
// processor), the read models, the WebSocket fan-out and the search indexer, each behind its own Kinesis poller
// (its own position, checkpoints and retries); the four share one GetRecords reader per shard
// (local/triggers/shard-feed.ts). Two more pollers feed the WebSocket fan-out and the search indexer the
// wallet-event stream (balance events: docs/wallets.md#balance-events), as their second event source
// mappings do in AWS.
//
// `npm start` runs them in a process of their own (local/consumers-main.ts), supervised here: their work
// (settlement transactions, read-model writes, fan-out) then never queues in the event loop that answers
// the REST API, and the machine's second core is used (docs/performance.md). They run in the exchange's
// own process when the database is the embedded pglite (it serves one connection's session only) or when a
// test wraps a handler to inject faults.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { requiredEnv } from '@lambdas/shared/clients';
import { withDatabaseUrl } from '@lambdas/shared/db';
import type { DatabaseRole } from '@contracts/migrations';
import { EVENT_STREAM, STREAM_CONSUMERS, WALLET_EVENT_STREAM } from '@contracts/resources';
import type { LogRouter } from './logs';
import { runAs } from './logs';
import { killWithParent, stopChild } from './standins/ports';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesisPoller, type KinesisPoller } from './triggers/kinesis-poller';
import { ShardFeeds } from './triggers/shard-feed';

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | void>;

export interface ConsumerOptions {
  dataDir: string;
  streamName: string;
  /** Lambda's function timeout for the stream consumers (default 60 s). */
  consumerTimeoutMs?: number;
  /** Fault injection for tests: wraps a stream consumer's handler (e.g. to make it hang or throw). */
  wrapConsumer?: (name: string, handler: ConsumerHandler) => ConsumerHandler;
  log: (line: string) => void;
}

export interface Consumers {
  /** Shard readers restarted after a crash, and (out of process) restarts of the consumers' process. */
  restarts(): number;
  /** Their process when they run in one (tests kill -9 it; it is restarted). */
  process(): ChildProcess | undefined;
  stop(): Promise<void>;
}

/** The four pollers in this process. */
export async function startConsumersHere(opts: ConsumerOptions): Promise<Consumers> {
  const { handler: processBatch } = await import('@lambdas/data-processor/handler');
  const { handler: projectBatch } = await import('@lambdas/read-models/handler');
  // Slow WebSocket clients never delay the other two: the fan-out is a consumer of its own.
  const { handler: fanOutBatch } = await import('@lambdas/ws-fanout/handler');
  // Search documents (OPENSEARCH_URL: the stand-in local/exchange.ts starts, or an OpenSearch of your own).
  const { handler: indexBatch } = await import('@lambdas/search-indexer/handler');
  const pollers: KinesisPoller[] = [];
  const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  const feeds = new ShardFeeds(kinesis, opts.streamName);
  const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${EVENT_STREAM.name}`;
  // Each consumer as its own database role when the exchange created the logins (local/exchange.ts).
  type Urls = Partial<Record<DatabaseRole, string>>;
  const dbUrls = JSON.parse(process.env.CIRRUS_DATABASE_URLS ?? '{}') as Urls;
  const roleOf: Record<string, DatabaseRole | undefined> = {
    'data-processor': 'cirrus_processor',
    'read-models': 'cirrus_read_models',
    'ws-fanout': 'cirrus_ws_fanout',
    // Order rows, deposits and withdrawals, read-only.
    'search-indexer': 'cirrus_search_indexer',
  };
  const dbUrlOf = (name: string) => {
    const role = roleOf[name];
    return role && dbUrls[role];
  };
  try {
    for (const [name, handler, batching] of [
      ['data-processor', processBatch, STREAM_CONSUMERS.dataProcessor],
      ['read-models', projectBatch, STREAM_CONSUMERS.readModels],
      ['ws-fanout', fanOutBatch, STREAM_CONSUMERS.wsFanout],
      ['search-indexer', indexBatch, STREAM_CONSUMERS.searchIndexer],
    ] as const) {
      const invoke = opts.wrapConsumer?.(name, handler) ?? handler;
      pollers.push(
        await startKinesisPoller({
          name,
          streamName: opts.streamName,
          streamArn,
          checkpointFile: join(opts.dataDir, `${name}-checkpoints.json`),
          batchSize: batching.batchSize,
          batchingWindowMs: batching.batchingWindowSeconds * 1000,
          handlerTimeoutMs: opts.consumerTimeoutMs,
          handler: (event) =>
            withDatabaseUrl(dbUrlOf(name), () => runAs({ component: name }, () => invoke(event))),
          log: opts.log,
          feeds,
        }),
      );
    }
    // The wallet-event stream's two consumers (balanceUpdate; deposit and withdrawal documents), as the
    // fan-out's and the indexer's second event source mappings are in AWS; they share one reader per shard.
    const walletStream = requiredEnv(WALLET_EVENT_STREAM.envVar);
    const walletFeeds = new ShardFeeds(kinesis, walletStream);
    for (const [name, role, handler, batching] of [
      ['ws-balances', 'ws-fanout', fanOutBatch, STREAM_CONSUMERS.wsFanout],
      ['search-wallet', 'search-indexer', indexBatch, STREAM_CONSUMERS.searchIndexer],
    ] as const) {
      const invoke = opts.wrapConsumer?.(name, handler) ?? handler;
      pollers.push(
        await startKinesisPoller({
          name,
          streamName: walletStream,
          // The functions tell their two sources apart by the stream's ARN, as in AWS.
          streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${walletStream}`,
          checkpointFile: join(opts.dataDir, `${name}-checkpoints.json`),
          batchSize: batching.batchSize,
          batchingWindowMs: batching.batchingWindowSeconds * 1000,
          handlerTimeoutMs: opts.consumerTimeoutMs,
          handler: (event) =>
            withDatabaseUrl(dbUrlOf(role), () => runAs({ component: role }, () => invoke(event))),
          log: opts.log,
          feeds: walletFeeds,
        }),
      );
    }
  } catch (err) {
    await Promise.all(pollers.map((p) => p.stop()));
    kinesis.destroy();
    throw err;
  }
  return {
    restarts: () => pollers.reduce((n, p) => n + p.restarts(), 0),
    process: () => undefined,
    async stop() {
      await Promise.all(pollers.map((p) => p.stop()));
      kinesis.destroy();
    },
  };
}

/**
 * The pollers in a child process (local/consumers-main.ts) with this process's environment, restarted with
 * backoff (1 s doubling to 30 s) if it exits unasked. Resolves once the child's pollers have started.
 */
export async function startConsumersProcess(
  opts: Omit<ConsumerOptions, 'wrapConsumer'> & { logs: LogRouter },
): Promise<Consumers> {
  let child: ChildProcess | undefined;
  let release: () => void = () => undefined;
  let stopping = false;
  let restarts = 0;
  let failures = 0;

  const spawnReady = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          // CONSUMERS_NODE_ARGS: extra node flags for this process alone (`--cpu-prof`; the bench's counters).
          ...(process.env.CONSUMERS_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          join(__dirname, 'consumers-main.ts'),
        ],
        {
          env: {
            ...process.env,
            CONSUMERS_SPEC: JSON.stringify({
              dataDir: opts.dataDir,
              streamName: opts.streamName,
              consumerTimeoutMs: opts.consumerTimeoutMs,
            }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      release = killWithParent(c);
      // The child prints its console lines ready-made (its own log router writes the JSON files).
      let rest = '';
      let ready = false;
      c.stdout?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!ready && line === 'consumers ready') {
            ready = true;
            resolve(c);
          } else if (line.trim()) opts.log(line);
        }
      });
      opts.logs.pipe('consumers', c.stderr, true);
      c.once('exit', (code, signal) => {
        if (!ready)
          return reject(new Error(`consumers exited (${signal ?? `code ${code}`}) before they started`));
        if (stopping || child !== c) return;
        void restart(`exited (${signal ?? `code ${code}`})`);
      });
    });

  const restart = async (why: string) => {
    for (;;) {
      const delay = Math.min(1_000 * 2 ** failures++, 30_000);
      opts.log(`consumers    ${why}; restarting in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, delay));
      if (stopping) return;
      try {
        child = await spawnReady();
        restarts++;
        opts.log(`consumers    restarted (pid ${child.pid})`);
        return;
      } catch (err) {
        why = `did not start (${err instanceof Error ? err.message : String(err)})`;
      }
    }
  };

  child = await spawnReady();
  // A run that stayed up a while clears the backoff.
  const calm = setInterval(() => (failures = 0), 60_000);
  calm.unref();
  return {
    restarts: () => restarts,
    process: () => child,
    async stop() {
      stopping = true;
      clearInterval(calm);
      release();
      if (child) await stopChild(child, 10_000);
    },
  };
}
