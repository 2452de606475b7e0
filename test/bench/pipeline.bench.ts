// npm run bench:pipeline — open-loop load through signed REST on the local exchange.
// For each target rate: orders are sent on a fixed schedule whatever the responses (no coordinated
// omission: latency is measured from the scheduled send time), then the run is reconciled: every accepted
// order must reach the engine and every trade must be settled in the ledger (lost = 0).
// Env: BENCH_RATES="100,250,500,1000,1500" BENCH_SECONDS=8 BENCH_PG=embedded|real BENCH_WARMUP_SECONDS=5
// A warm-up step at 50 orders/s runs first and is not reported (JIT, the DynamoDB Local JVM, connections).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'pg';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '@contracts/resources';
import { requiredEnv } from '@lambdas/shared/clients';
import { MarketDataStore } from '@lambdas/shared/stores/market-data';
import { CpuAccounting } from './cpu-accounting';
import { CostCounter } from './request-counter';
import { startLocalExchange } from '@local/exchange';
import { findPostgresBin } from '@local/standins/postgres-server';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually, registerFundedUser } from '../support/exchange-helpers';
import { runLoad } from '../support/load-generator';
import { startPostgres } from '../support/postgres';

const RATES = (process.env.BENCH_RATES ?? '100,250,500,1000,1500').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const TRADERS = 20;
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

interface StepResult {
  rate: number;
  sent: number;
  accepted: number;
  rejected: number;
  /** Binance error code → count, for the rejected requests. */
  rejectedCodes: Record<string, number>;
  errors: number;
  /** Refused with 503 / -1008 (overloaded): an answer, not an error. */
  shed: number;
  /** Trades the engine made (its latest trade id) that the ledger has not settled, at the end of the step. */
  unsettledTrades: number;
  acceptedPerSec: number;
  acceptP50ms: number;
  acceptP99ms: number;
  fullP50ms: number;
  fullP99ms: number;
  /** Requests (and items) per accepted order, counted in the process that runs the API and processor. */
  perOrder?: Record<string, number>;
  /** Calls and mean time of each pipeline step during the step. */
  stepTimes?: Record<string, string>;
  settleP50ms: number;
  settleP99ms: number;
  lost: number;
  clientLagMs?: number;
  /** The exchange process's event loop delay while the load ran (ms; resolution 5 ms). */
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  /** When the public trades view (DynamoDB) showed the step's last settled trade, after its last request. */
  readModelsCaughtUpMs?: number;
  /** CPU-ms per accepted order by component, from /proc (test/bench/cpu-accounting.ts). */
  cpuPerOrder?: Record<string, number | string>;
}

async function main(): Promise<void> {
  // The bench is one client IP far above Binance's 6,000 request weight a minute, and 20 accounts far above
  // 100 orders per 10 s: measure the pipeline, not the limits (docs/operations.md#overload-and-rate-limits).
  process.env.API_WEIGHT_PER_MINUTE ??= '100000000';
  process.env.ORDER_LIMIT_10S ??= '100000000';
  // BENCH_PG: auto (default, as `npm start` runs: a PostgreSQL server when installed, else pglite),
  // embedded, server, or real (the tests' throw-away server with fsync off).
  const pgMode = process.env.BENCH_PG ?? 'auto';
  // BENCH_PG_STATEMENTS=1: the PostgreSQL server's statements per step, from pg_stat_statements.
  if (PG_STATEMENTS)
    process.env.PG_SERVER_OPTIONS = [
      process.env.PG_SERVER_OPTIONS,
      '-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all',
    ]
      .filter(Boolean)
      .join(' ');
  const realPg = pgMode === 'real' ? await startPostgres() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cirrus-bench-'));
  // The consumers' and the engine's processes count their own requests into files the bench adds
  // (request-counter.ts, count-in-engine.ts).
  process.env.BENCH_COUNTS_FILE = join(dataDir, 'consumer-counts.json');
  addNodeImport('CONSUMERS_NODE_ARGS', 'count-in-consumers.ts');
  process.env.BENCH_ENGINE_COUNTS_FILE = join(dataDir, 'engine-counts.json');
  addNodeImport('ENGINE_NODE_ARGS', 'count-in-engine.ts');
  const ex = await startLocalExchange({
    dataDir,
    fresh: true,
    // DynamoDB Local and kinesalite on disk, as `npm start` runs them (BENCH_IN_MEMORY=1 for in-memory).
    inMemory: process.env.BENCH_IN_MEMORY === '1',
    restPort: 0,
    demoUsers: false,
    databaseUrl: realPg?.url,
    postgres: pgMode === 'embedded' || pgMode === 'server' ? pgMode : 'auto',
    log: () => undefined,
  });
  const databaseUrl = realPg?.url ?? ex.env.DATABASE_URL;
  const api = new BinanceTestClient(ex.restUrl);
  const traders: Array<ApiKey & { userId: number }> = [];
  for (let i = 0; i < TRADERS; i++) {
    traders.push(await registerFundedUser(api, databaseUrl, `bench${i}`, { BTC: '1000', USDT: '100000000' }));
  }
  console.log(
    `local exchange up (${realPg ? 'PostgreSQL server, fsync off' : pgMode === 'embedded' || (pgMode === 'auto' && !findPostgresBin()) ? 'embedded pglite' : 'PostgreSQL server'}), ${TRADERS} funded traders`,
  );

  const results: StepResult[] = [];
  if (WARMUP_SECONDS > 0) {
    const warm = await runStep(api, traders, 50, databaseUrl, WARMUP_SECONDS, 'warm');
    console.log(`warm-up (not reported): ${warm.acceptedPerSec.toFixed(0)} accepted/s, lost ${warm.lost}`);
  }
  for (const rate of RATES) results.push(await runStep(api, traders, rate, databaseUrl));

  console.log(
    '\n| target orders/s | sent | accepted/s | rejected | shed (503) | errors | ACK p50 ms | ACK p99 ms | FULL p50 ms | FULL p99 ms | order→settled p50 ms | order→settled p99 ms | lost |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.rate} | ${r.sent} | ${r.acceptedPerSec.toFixed(0)} | ${r.rejected} | ${r.shed} | ${r.errors} | ${r.acceptP50ms.toFixed(1)} | ${r.acceptP99ms.toFixed(1)} | ${r.fullP50ms.toFixed(1)} | ${r.fullP99ms.toFixed(1)} | ${r.settleP50ms.toFixed(1)} | ${r.settleP99ms.toFixed(1)} | ${r.lost} |`,
    );
  }
  console.log('\nPer accepted order (exchange, consumer and engine processes):');
  for (const r of results) console.log(`- ${r.rate}/s: ${JSON.stringify(r.perOrder)}`);
  console.log('\nCPU-ms per accepted order, by component (the whole machine shares its cores):');
  for (const r of results) console.log(`- ${r.rate}/s: ${JSON.stringify(r.cpuPerOrder ?? 'n/a (no /proc)')}`);
  console.log("\nThe exchange process's event loop delay during the load (ms, 5 ms resolution):");
  for (const r of results) console.log(`- ${r.rate}/s: ${JSON.stringify(r.eventLoopDelayMs)}`);
  console.log('\nRead models (the public trades view) caught up, ms after the last request of the step:');
  for (const r of results) console.log(`- ${r.rate}/s: ${r.readModelsCaughtUpMs ?? 'not within 120 s'}`);
  console.log('\nTime per pipeline step (calls × mean):');
  for (const r of results) console.log(`- ${r.rate}/s: ${JSON.stringify(r.stepTimes)}`);
  await checkConservation(databaseUrl);
  await ex.stop();
  await realPg?.stop();
  // Sustained = the best step that kept up with its target rate (≥ 90 % accepted per second), nothing lost.
  const best = results
    .filter((r) => r.lost === 0 && r.errors === 0 && r.acceptedPerSec >= 0.9 * r.rate)
    .sort((a, b) => b.acceptedPerSec - a.acceptedPerSec)[0];
  console.log(
    JSON.stringify({
      sustained_orders_per_s: best ? Math.round(best.acceptedPerSec) : 0,
      accept_p99_ms: best ? Number(best.acceptP99ms.toFixed(1)) : null,
      settle_p99_ms: best ? Number(best.settleP99ms.toFixed(1)) : null,
      lost: results.reduce((n, r) => n + r.lost, 0),
    }),
  );
}

/** Accepted orders the engine has not answered yet (their live row in PostgreSQL has no engine seq). */
async function ordersNotYetProcessed(pool: Pool, ids: number[]): Promise<number> {
  const res = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM orders WHERE order_id = ANY($1::bigint[]) AND last_seq = 0',
    [ids],
  );
  return Number(res.rows[0].n);
}

async function runStep(
  api: BinanceTestClient,
  traders: Array<ApiKey & { userId: number }>,
  rate: number,
  databaseUrl: string,
  seconds = SECONDS,
  label = String(rate),
): Promise<StepResult> {
  const accept = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const full = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const sentAt = new Map<number, number>(); // orderId → scheduled send time (wall clock, ms)
  let accepted = 0;
  let rejected = 0;
  const rejectedCodes: Record<string, number> = {};
  let errors = 0;
  let shed = 0;
  if (PG_STATEMENTS) await resetStatements(databaseUrl);
  const costs = CostCounter.start();
  const cpu = CpuAccounting.start();
  // The exchange's event loop (this process serves REST): a stall there is a wait for every request.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  // The client runs in a process of its own (test/support/load-generator.ts): its signing and its clock
  // stay out of the exchange's event loop, as a real client's would.
  const load = await runLoad({
    url: api.baseUrl,
    users: traders,
    ratePerSecond: rate,
    seconds,
    symbol: 'BTCUSDT',
    price: 30_000,
    quantity: '0.01',
    runId: `b${label}-${Date.now()}`,
    shape: 'book-mix',
    detail: true,
  });
  const loadEnded = Date.now();
  loopDelay.disable();
  // The machine's share of its cores used while the load ran (the figures below run until the catch-up).
  const busyDuringLoad = cpu.machineShare({ 'load generator (client)': load.cpuMs });
  const sent = load.requests?.length ?? 0;
  // BENCH_DUMP=<dir>: every request of the step as JSON lines, to look at latency over time.
  if (process.env.BENCH_DUMP)
    writeFileSync(
      join(process.env.BENCH_DUMP, `requests-${label}.jsonl`),
      (load.requests ?? []).map((r) => JSON.stringify(r)).join('\n'),
    );
  for (const [i, status, code, latencyUs, orderId, scheduledMs] of load.requests ?? []) {
    (i % 4 === 3 ? full : accept).recordValue(latencyUs);
    if (status === 200) {
      accepted++;
      sentAt.set(orderId, scheduledMs);
    } else if (status === 503) shed++;
    else if (status > 0 && status < 500) {
      rejected++;
      rejectedCodes[String(code || status)] = (rejectedCodes[String(code || status)] ?? 0) + 1;
    } else errors++;
  }
  errors += Object.entries(load.answers)
    .filter(([k]) => k.startsWith('transport'))
    .reduce((n, [, v]) => n + v, 0);
  const elapsed = load.elapsedSeconds;

  // Reconcile: every accepted order reached the engine (its lock row shows a final or open engine state)
  // and every trade of these orders is settled; settlement latency from the ledger's own timestamps.
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('connect', (c) => CostCounter.exclude(c));
  let lost = 0;
  let unsettledTrades = 0;
  let readModelsCaughtUpMs: number | undefined;
  let perOrder: Record<string, number> = {};
  let stepTimes: Record<string, string> = {};
  let stageTimes = '';
  let cpuPerOrder: Record<string, number | string> | undefined;
  const settle = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  try {
    const ids = [...sentAt.keys()];
    // Every accepted order must show the engine's answer in the order view (lastSeq > 0): lost = 0.
    await eventually(
      async () => {
        lost = await ordersNotYetProcessed(pool, ids);
        if (lost > 0) throw new Error(`${lost} orders not yet processed`);
      },
      120_000,
      250,
    ).catch(() => undefined);
    // The read models (DynamoDB) trail the ledger: how long after the step's last request the public trades
    // view shows the step's last settled trade. Read with a client of the bench's own, which is not counted.
    const latestSettled = await pool.query<{ max: string | null }>(
      'SELECT max(trade_id) AS max FROM settled_trades WHERE market = $1',
      ['BTCUSDT'],
    );
    const target = Number(latestSettled.rows[0].max ?? 0);
    await eventually(
      async () => {
        const latest = await benchMarketData().recentTrades('BTCUSDT', 1);
        if ((latest[0]?.id ?? 0) < target) throw new Error('read models behind');
        readModelsCaughtUpMs = Date.now() - loadEnded;
      },
      120_000,
      100,
    ).catch(() => undefined);
    // The step's costs end here, with the work processes deferred past the load (the read models catching
    // up) counted: the checks below read through the API themselves.
    perOrder = costs.perOrder(accepted);
    stepTimes = costs.stepTimes();
    cpuPerOrder = cpu.perOrder(accepted, { 'load generator (client)': load.cpuMs });
    if (cpuPerOrder) cpuPerOrder.machine = `${busyDuringLoad} during the load`;
    if (PG_STATEMENTS) await printStatements(pool, accepted, label);
    // Lost also counts trades the engine made but the ledger never settled: per market, trade ids are
    // gap-free from 1, so the engine's latest id (the public trades read model) minus the ledger's count.
    await eventually(
      async () => {
        unsettledTrades = 0;
        for (const symbol of ['BTCUSDT']) {
          const latest = await api.public<Array<{ id: number }>>('GET', '/api/v3/trades', {
            symbol,
            limit: 1,
          });
          const engineLatest = latest.body[0]?.id ?? 0;
          const ledger = await pool.query<{ n: string; max: string | null }>(
            'SELECT count(*) AS n, max(trade_id) AS max FROM settled_trades WHERE market = $1',
            [symbol],
          );
          unsettledTrades +=
            Math.max(engineLatest, Number(ledger.rows[0].max ?? 0)) - Number(ledger.rows[0].n);
        }
        if (unsettledTrades > 0) throw new Error(`${unsettledTrades} trades not settled`);
      },
      60_000,
      250,
    ).catch(() => undefined);
    lost += unsettledTrades;
    const trades = await pool.query<{ taker_order_id: string; settled_ms: string }>(
      `SELECT taker_order_id, (extract(epoch from settled_at) * 1000)::bigint AS settled_ms
         FROM settled_trades WHERE taker_order_id = ANY($1::bigint[])`,
      [ids],
    );
    for (const t of trades.rows) {
      const sentMs = sentAt.get(Number(t.taker_order_id));
      if (sentMs !== undefined) settle.recordValue(Math.max(1, (Number(t.settled_ms) - sentMs) * 1000));
    }
    // Where an order's time goes after its commit: to the engine (SQS and the engine's own queue: the
    // engine's time of the order minus the API's), then to its answer in the ledger (Kinesis and settlement).
    const stages = await pool.query<{ to_engine: number[] | null; to_ledger: number[] | null }>(
      `SELECT percentile_disc(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY o.working_ms - o.created_ms) AS to_engine,
              percentile_disc(ARRAY[0.5, 0.99]) WITHIN GROUP (
                ORDER BY (extract(epoch FROM x.applied_at) * 1000)::bigint - o.working_ms) AS to_ledger
         FROM orders o JOIN outbox x ON x.cmd_id = 'p-' || o.order_id
        WHERE o.order_id = ANY($1::bigint[]) AND o.working_ms > 0 AND x.applied_at IS NOT NULL`,
      [ids],
    );
    const [e, l] = [stages.rows[0]?.to_engine, stages.rows[0]?.to_ledger];
    if (e && l)
      stageTimes = `commit→engine p50/p99 ${e[0]}/${e[1]} ms, engine→ledger p50/p99 ${l[0]}/${l[1]} ms`;
  } finally {
    await pool.end();
  }
  const result: StepResult = {
    rate,
    sent,
    accepted,
    rejected,
    rejectedCodes,
    errors,
    shed,
    unsettledTrades,
    acceptedPerSec: accepted / elapsed,
    acceptP50ms: accept.getValueAtPercentile(50) / 1000,
    acceptP99ms: accept.getValueAtPercentile(99) / 1000,
    fullP50ms: full.getValueAtPercentile(50) / 1000,
    fullP99ms: full.getValueAtPercentile(99) / 1000,
    settleP50ms: settle.totalCount ? settle.getValueAtPercentile(50) / 1000 : NaN,
    settleP99ms: settle.totalCount ? settle.getValueAtPercentile(99) / 1000 : NaN,
    lost,
  };
  // The client's own lag behind its schedule, at worst: above a few ms the figures above include it.
  result.clientLagMs = load.maxSendLagMs;
  result.eventLoopDelayMs = {
    p50: Math.round(loopDelay.percentile(50) / 1e5) / 10,
    p99: Math.round(loopDelay.percentile(99) / 1e5) / 10,
    max: Math.round(loopDelay.max / 1e5) / 10,
  };
  result.readModelsCaughtUpMs = readModelsCaughtUpMs;
  result.perOrder = perOrder;
  result.cpuPerOrder = cpuPerOrder;
  result.stepTimes = { ...stepTimes, ...(stageTimes ? { stages: stageTimes } : {}) };
  console.log(`rate ${rate}/s: ${JSON.stringify(result)}`);
  return result;
}

let marketData: MarketDataStore | undefined;
/** The public trades view through a DynamoDB client of the bench's own (the counted one is the exchange's). */
function benchMarketData(): MarketDataStore {
  marketData ??= new MarketDataStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  return marketData;
}

/** Adds `--import <file beside this one>` to a child process's extra node flags (local/consumers.ts, engine-process.ts). */
function addNodeImport(envVar: string, file: string): void {
  process.env[envVar] = [process.env[envVar], `--import ${pathToFileURL(join(__dirname, file)).href}`]
    .filter(Boolean)
    .join(' ');
}

/** Creates pg_stat_statements (as the server's superuser) and clears it for the next step. */
async function resetStatements(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  url.username = 'postgres';
  url.password = '';
  const admin = new Pool({ connectionString: url.href, max: 1 });
  admin.on('connect', (c) => CostCounter.exclude(c));
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await admin.query('SELECT pg_stat_statements_reset()');
  } finally {
    await admin.end();
  }
}

/** The step's statements by total execution time: calls and ms per accepted order, mean ms per call. */
async function printStatements(pool: Pool, accepted: number, label: string): Promise<void> {
  const res = await pool.query<{
    query: string;
    calls: string;
    total: number;
    mean: number;
    toplevel: boolean;
  }>(
    `SELECT query, calls, total_exec_time AS total, mean_exec_time AS mean, toplevel FROM pg_stat_statements
      ORDER BY total_exec_time DESC LIMIT 25`,
  );
  console.log(`PostgreSQL statements, step ${label} (calls / ms per accepted order, mean ms):`);
  for (const r of res.rows)
    console.log(
      `  ${(Number(r.calls) / accepted).toFixed(2)} / ${(r.total / accepted).toFixed(3)} ms, mean ${r.mean.toFixed(3)}${r.toplevel ? '' : ' (nested)'}: ${r.query.replace(/\s+/g, ' ').slice(0, 140)}`,
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
