// The local exchange: the stand-ins, the resources provisioned from contracts/resources.ts, the engine service
// as a supervised child process (the same code the Fargate task runs), the stream consumers (settlement,
// read models, WebSocket fan-out) in a supervised process of their own (local/consumers.ts), and the REST
// and WebSocket APIs behind local API Gateways. `npm start` runs it; tests and benchmarks start it too.
// Restarts, logs and overload: docs/operations.md.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { closeDbPool, withDatabaseUrl } from '@lambdas/shared/db';
import { engineEnvironment } from '@contracts/engine-environment';
import { DEFAULT_ENGINE_SHARDS } from '@contracts/resources';
import { startRestApi } from './apigw/rest';
import { startLocalChain, type LocalChainOptions } from './chain';
import { startChainListener } from './chain-listener';
import { startWithdrawalSender } from './chain-withdrawals';
import { startWebSocketApi } from './apigw/websocket';
import { startConsumersHere, startConsumersProcess, type ConsumerHandler } from './consumers';
import { EngineProcess } from './engine-process';
import { LogRouter, runAs } from './logs';
import { provision } from './provision';
import { startOutboxRelay } from './triggers/outbox-relay';
import { startReconciliation } from './triggers/reconciliation';
import { restRoutes } from './routes';
import { placeDemoLiquidity } from './demo-liquidity';
import { seed, type SeedResult } from './seed';
import { startStandins, type PostgresMode } from './standins';
import { claimPort } from './standins/ports';
import { startSearchProcess } from './standins/search-process';

export interface LocalExchangeOptions {
  /** Where data lives between runs. */
  dataDir: string;
  /** Start from empty state. */
  fresh?: boolean;
  /** Everything in memory (tests, benchmarks). */
  inMemory?: boolean;
  restPort?: number;
  /** The WebSocket API's port (default 8081, or a free one when restPort is 0 as in tests; 0 picks a free one). */
  wsPort?: number;
  /** Fund two demo users and write their keys. */
  demoUsers?: boolean;
  demoLiquidity?: boolean;
  /** An existing PostgreSQL instead of the embedded one. */
  databaseUrl?: string;
  /** Which local PostgreSQL to run when no databaseUrl is given (local/standins/postgres-server.ts). */
  postgres?: PostgresMode;
  log?: (line: string) => void;
  /** Snapshot cadence of the engine (commands). */
  snapshotEveryCommands?: number;
  /** Route this process's own stdout/stderr through the log router (`npm start`; not in tests). */
  captureOutput?: boolean;
  /** Lambda's function timeout for the stream consumers (default 60 s). */
  consumerTimeoutMs?: number;
  /** Fault injection for tests: wraps a stream consumer's handler (e.g. to make it hang or throw). */
  wrapConsumer?: (name: string, handler: ConsumerHandler) => ConsumerHandler;
  /** Engine supervision timings (tests shorten them). */
  engineSupervision?: { initialBackoffMs?: number; healthIntervalMs?: number; unhealthyAfter?: number };
  /** The local chain and its deposit listener (docs/wallets.md). */
  chain?: LocalChainOptions;
}

export type { ConsumerHandler };

export interface LocalExchange {
  restUrl: string;
  /** The WebSocket API (market streams): ws://127.0.0.1:<port>. */
  wsUrl: string;
  env: Record<string, string>;
  /** The engine shard's dead-letter queue. */
  dlqUrl: string;
  seeded: SeedResult;
  /** The chain node's JSON-RPC URL and the test USDT contract (docs/wallets.md). */
  chain: { rpcUrl: string; usdt: string; hotWallet: string };
  /** The engine child process (tests kill -9 it; the supervisor restarts it). */
  engine(): ChildProcess;
  /** The stream consumers' process, when they run in one (tests kill -9 it; the supervisor restarts it). */
  consumersProcess(): ChildProcess | undefined;
  /** Restarts after a crash or a failed health check, of the engine and of the stream consumers. */
  restarts(): { engine: number; consumers: number };
  restartEngine(): Promise<void>;
  stop(): Promise<void>;
}

const STAGE = 'local';

export async function startLocalExchange(opts: LocalExchangeOptions): Promise<LocalExchange> {
  const log = opts.log ?? ((line: string) => console.log(line));
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  // Full JSON logs per component under <dataDir>/logs; warnings and errors as one console line each.
  const logs = new LogRouter({ dir: join(opts.dataDir, 'logs'), print: log });
  const logLevel = (process.env.LOG_LEVEL ?? (opts.captureOutput ? 'INFO' : 'WARN')).toUpperCase();
  const releaseOutput = opts.captureOutput ? logs.captureProcess('exchange') : () => undefined;

  const standins = await startStandins({
    dataDir: opts.dataDir,
    inMemory: opts.inMemory,
    databaseUrl: opts.databaseUrl,
    postgres: opts.postgres,
    log,
  });
  const stops: Array<() => Promise<void>> = [
    async () => {
      // The in-process handlers' pool first, so the database's shutdown is not logged as lost connections.
      await closeDbPool();
      await standins.stop();
    },
    async () => {
      releaseOutput();
      await logs.close();
    },
  ];
  try {
    Object.assign(process.env, standins.env);
    const resources = await provision(STAGE, standins.env);
    const env: Record<string, string> = { ...standins.env, ...resources.env, STAGE };
    Object.assign(process.env, env, {
      POWERTOOLS_LOG_LEVEL: logLevel,
      // No CloudWatch here: EMF metric lines would only fill the console.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });
    // pglite serves every socket from one session: concurrent extended-protocol queries from several
    // connections interleave and break, so the handlers share a single connection to it.
    if (standins.postgres === 'embedded') process.env.DB_POOL_MAX = '1';

    const seeded = await seed({
      demoUsers: opts.demoUsers ?? false,
      dataDir: opts.dataDir,
      databaseRoles: standins.postgres !== 'embedded',
    });
    log(`ledger       ready (${seeded.migrations} migrations, markets ${seeded.markets.join(', ')})`);
    // Each function family as its own database role, as in AWS (docs/architecture.md#database-roles): the
    // API (and the demo liquidity, which goes through it) by default, the other families scoped below, the
    // consumers' process per consumer (local/consumers.ts). The returned env keeps the owner's URL.
    const dbUrls = seeded.databaseUrls;
    if (dbUrls) {
      process.env.DATABASE_URL = dbUrls.cirrus_api;
      process.env.CIRRUS_DATABASE_URLS = JSON.stringify(dbUrls);
      log('ledger       each component connects as its own database role');
    }

    const shard = DEFAULT_ENGINE_SHARDS[0];
    const engineEnv: Record<string, string> = {
      ...env,
      ...engineEnvironment({
        shard,
        orderQueueUrl: resources.queueUrls[shard.id],
        eventStreamName: resources.streamName,
        snapshotBucket: resources.snapshotBucket,
        snapshotEveryCommands: opts.snapshotEveryCommands ?? 10_000,
        receivers: Number(process.env.ENGINE_RECEIVERS ?? 4),
        // No CloudWatch stand-in: the heartbeat metric is an AWS alarm input only.
        heartbeat: false,
      }),
      POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL?.toUpperCase() ?? 'INFO',
    };
    const engine = new EngineProcess({
      env: engineEnv,
      healthPort: await claimPort(0, 'engine health check'),
      logs,
      log,
      ...opts.engineSupervision,
    });
    await engine.start();
    stops.unshift(() => engine.stop());
    // The outbox relay also re-sends what the in-memory local queue lost across a restart.
    const relay = withDatabaseUrl(dbUrls?.cirrus_relay, () => startOutboxRelay({ log }));
    stops.unshift(() => relay.stop());
    log('relay        outbox relay delivering commands the API could not send');
    const reconciliation = withDatabaseUrl(dbUrls?.cirrus_reconciliation, () =>
      startReconciliation({
        snapshotBucket: resources.snapshotBucket,
        shards: DEFAULT_ENGINE_SHARDS.map((s) => s.id),
        log,
      }),
    );
    stops.unshift(() => reconciliation.stop());

    // The WebSocket API before the fan-out, which posts to its callback URL (the stage's in AWS).
    const ws = await startWebSocketApi({
      port: opts.wsPort ?? (opts.restPort === 0 ? 0 : 8081),
      connect: (await import('@lambdas/ws/connect')).handler,
      disconnect: (await import('@lambdas/ws/disconnect')).handler,
      messages: (await import('@lambdas/ws/messages')).handler,
      invoke: (route, fn) => runAs({ component: `ws ${route}` }, fn),
      log,
    });
    stops.unshift(() => ws.stop());
    process.env.WS_CALLBACK_URL = ws.callbackUrl;

    // Search: OpenSearch's protocol over the embedded index, unless OPENSEARCH_URL names an OpenSearch.
    if (!process.env.OPENSEARCH_URL) {
      const search = await startSearchProcess({
        port: 0,
        stateFile: opts.inMemory ? undefined : join(opts.dataDir, 'search', 'journal.jsonl'),
        legacyStateFile: opts.inMemory ? undefined : join(opts.dataDir, 'search', 'documents.json'),
      });
      stops.unshift(async () => {
        if (process.env.OPENSEARCH_URL === search.endpoint) delete process.env.OPENSEARCH_URL;
        await search.stop();
      });
      process.env.OPENSEARCH_URL = search.endpoint;
      log(`search       OpenSearch stand-in (embedded index) at ${search.endpoint}`);
    }

    // The stream's consumers (settlement, read models, WebSocket fan-out, search indexer): local/consumers.ts.
    const consumerOpts = {
      dataDir: opts.dataDir,
      streamName: resources.streamName,
      consumerTimeoutMs: opts.consumerTimeoutMs,
      log,
    };
    const outOfProcess = !opts.wrapConsumer && standins.postgres !== 'embedded';
    const consumers = outOfProcess
      ? await startConsumersProcess({ ...consumerOpts, logs })
      : await startConsumersHere({ ...consumerOpts, wrapConsumer: opts.wrapConsumer });
    stops.unshift(() => consumers.stop());
    log(
      `consumers    data-processor (settlement), read-models, ws-fanout and search-indexer consuming engine events${outOfProcess ? ' (own process)' : ''}`,
    );

    // The chain (hardhat node, or RPC_URL) and the deposit listener on its interval: docs/wallets.md.
    const chain = await startLocalChain({
      dataDir: opts.dataDir,
      port: opts.restPort === 0 ? 0 : 8545,
      chain: opts.chain,
      log,
    });
    stops.unshift(() => chain.stop());
    Object.assign(process.env, chain.env);
    const listener = await withDatabaseUrl(dbUrls?.cirrus_chain_listener, () =>
      startChainListener({ everyMs: opts.chain?.listenerEveryMs, newChain: chain.ownNode, log }),
    );
    stops.unshift(() => listener.stop());
    const withdrawals = await withDatabaseUrl(dbUrls?.cirrus_wallet, () =>
      startWithdrawalSender({
        rpcUrl: chain.rpcUrl,
        usdt: chain.usdt,
        fund: chain.ownNode,
        everyMs: opts.chain?.listenerEveryMs,
        log,
      }),
    );
    stops.unshift(() => withdrawals.stop());

    const rest = await startRestApi({ port: opts.restPort ?? 8080, routes: await restRoutes(), log });
    stops.unshift(() => rest.stop());
    log(`rest api     ${rest.url}`);
    log(`ws api       ${ws.url}`);
    if (opts.demoLiquidity) {
      const placed = await placeDemoLiquidity(rest.url, opts.dataDir);
      log(`liquidity    ${placed} resting demo orders from the market-maker user`);
    }

    return {
      restUrl: rest.url,
      wsUrl: ws.url,
      env: engineEnv,
      dlqUrl: resources.dlqUrls[shard.id],
      seeded,
      chain: { rpcUrl: chain.rpcUrl, usdt: chain.usdt, hotWallet: withdrawals.hotWallet },
      engine: () => engine.current(),
      consumersProcess: () => consumers.process(),
      restarts: () => ({
        engine: engine.restarts,
        consumers: consumers.restarts(),
      }),
      restartEngine: () => engine.restart(),
      async stop() {
        for (const stop of stops) await stop().catch((err: unknown) => log(`stop failed: ${String(err)}`));
      },
    };
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
}
