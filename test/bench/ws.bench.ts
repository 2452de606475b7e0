// npm run bench:ws — market-stream fan-out on the local exchange while orders flow.
// For each number of subscribers (BENCH_WS_CLIENTS, default 100,1000): that many WebSocket clients, in a
// process of their own (test/bench/ws-clients.ts), subscribe to btcusdt@trade and btcusdt@depth; then for
// each order rate (BENCH_WS_RATES, default 100,250 orders/s, BENCH_SECONDS each) signed orders go in open loop
// from the load generator's process (the pipeline bench's book-mix: GTC and IOC orders straddling the price,
// a few percent crossing). Per step: the trades the ledger settled in it, each trade's frame at each client
// (delivered and dropped), trade → delivered latency (arrival minus the trade's own time `T`), and frames
// delivered per second (trade and depth). Stand-ins as `npm start` runs them (BENCH_IN_MEMORY=1: in memory).
// Target (docs/performance.md): p99 ≤ 100 ms at 1,000 subscribers and 250 orders/s, dropped 0.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startLocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { checkConservation, eventually, registerFundedUser } from '../support/exchange-helpers';
import { runLoad } from '../support/load-generator';

const CLIENTS = (process.env.BENCH_WS_CLIENTS ?? '100,1000').split(',').map(Number);
const RATES = (process.env.BENCH_WS_RATES ?? '100,250').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const TRADERS = 20;

interface ClientReport {
  expected: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  frames: number;
  closedConnections: number;
  malformed: number;
  /** Every frame received so far, by event type (trade, depthUpdate). */
  byType: Record<string, number>;
  cpuMs: number;
}

function startClients(wsUrl: string, n: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'ws-clients.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        WS_URL: wsUrl,
        WS_PATH: '/ws/btcusdt@trade/btcusdt@depth',
        WS_CLIENTS: String(n),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m: { type: string }) =>
      m.type === 'ready' ? resolve(child) : reject(new Error(String(m))),
    );
    child.once('exit', (code) => reject(new Error(`ws clients exited with ${code}`)));
  });
}

function report(
  child: ChildProcess,
  tradeIds: number[],
  since: number,
  until: number,
): Promise<ClientReport> {
  return new Promise((resolve) => {
    child.once('message', (m: ClientReport) => resolve(m));
    child.send({ type: 'report', tradeIds, since, until });
  });
}

async function main(): Promise<void> {
  process.env.API_WEIGHT_PER_MINUTE ??= '100000000';
  process.env.ORDER_LIMIT_10S ??= '100000000';
  const dataDir = mkdtempSync(join(tmpdir(), 'cirrus-ws-bench-'));
  const ex = await startLocalExchange({
    dataDir,
    fresh: true,
    inMemory: process.env.BENCH_IN_MEMORY === '1',
    restPort: 0,
    demoUsers: false,
    // As `npm start` runs: a PostgreSQL server when the machine has one (then the consumers get a process).
    postgres: 'auto',
    log: () => undefined,
  });
  const databaseUrl = ex.env.DATABASE_URL;
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const api = new BinanceTestClient(ex.restUrl);
  const traders: ApiKey[] = [];
  for (let i = 0; i < TRADERS; i++)
    traders.push(await registerFundedUser(api, databaseUrl, `ws${i}`, { BTC: '1000', USDT: '100000000' }));
  console.log(`local exchange up; WebSocket API ${ex.wsUrl}; ${TRADERS} funded traders`);

  const maxTrade = async () =>
    Number(
      (
        await pool.query<{ n: string }>(
          "SELECT coalesce(max(trade_id), 0) AS n FROM settled_trades WHERE market = 'BTCUSDT'",
        )
      ).rows[0].n,
    );
  const rows: string[] = [];
  let warmed = false;
  for (const n of CLIENTS) {
    const clients = await startClients(ex.wsUrl, n);
    console.log(`${n} subscribers connected`);
    if (!warmed) {
      // JIT, the DynamoDB Local JVM and the connections: not reported.
      await runLoad({
        url: ex.restUrl,
        users: traders,
        ratePerSecond: 50,
        seconds: 3,
        symbol: 'BTCUSDT',
        price: 30_000,
        quantity: '0.001',
        runId: `warm${Date.now()}`,
        shape: 'book-mix',
      });
      warmed = true;
    }
    for (const rate of RATES) {
      await new Promise((r) => setTimeout(r, 1_000));
      const before = await maxTrade();
      const since = Date.now();
      const load = await runLoad({
        url: ex.restUrl,
        users: traders,
        ratePerSecond: rate,
        seconds: SECONDS,
        symbol: 'BTCUSDT',
        price: 30_000,
        quantity: '0.001',
        runId: `ws${n}-${rate}-${Date.now()}`,
        shape: 'book-mix',
      });
      const until = Date.now();
      // Settled: the ledger's last trade id stops moving for a second.
      let last = -1;
      await eventually(
        async () => {
          const now = await maxTrade();
          const stable = now === last;
          last = now;
          if (!stable) throw new Error('still settling');
        },
        60_000,
        1_000,
      );
      const tradeIds = (
        await pool.query<{ trade_id: string }>(
          "SELECT trade_id FROM settled_trades WHERE market = 'BTCUSDT' AND trade_id > $1 ORDER BY trade_id",
          [before],
        )
      ).rows.map((r) => Number(r.trade_id));
      // Delivered: every client has every trade's frame, or 10 s have passed since settlement.
      let r = await report(clients, tradeIds, since, until);
      const deadline = Date.now() + 10_000;
      while (r.delivered < r.expected && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 250));
        r = await report(clients, tradeIds, since, until);
      }
      const accepted = load.answers['200'] ?? 0;
      const seconds = (until - since) / 1000;
      const line = {
        subscribers: n,
        ordersPerSec: rate,
        accepted,
        refused: load.answers,
        trades: tradeIds.length,
        tradeFramesExpected: r.expected,
        tradeFramesDelivered: r.delivered,
        dropped: r.expected - r.delivered,
        tradeToDeliveredMs: { p50: r.p50, p99: r.p99, max: r.max },
        framesPerSec: Math.round(r.frames / seconds),
        closedConnections: r.closedConnections,
        framesByTypeSoFar: r.byType,
        clientsCpuMs: r.cpuMs,
      };
      console.log(JSON.stringify(line));
      rows.push(
        `| ${n} | ${rate} | ${accepted} | ${line.trades} | ${r.delivered} / ${r.expected} | ${line.dropped} | ${r.p50} | ${r.p99} | ${r.max} | ${line.framesPerSec} |`,
      );
    }
    clients.send({ type: 'close' });
    await new Promise((res) => clients.once('exit', res));
  }
  console.log(
    '\n| subscribers | orders/s offered | accepted | trades | trade frames delivered | dropped | trade → delivered p50 ms | p99 ms | max ms | frames/s delivered |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  await pool.end();
  await checkConservation(databaseUrl);
  await ex.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
