// Market-stream fan-out on the local exchange: N WebSocket clients subscribed to btcusdt@trade and
// btcusdt@depth, M crossing order pairs placed over REST one after the other; for every trade, the delay from
// the taker's REST answer (ACK) to its trade frame at each client, and whether every client got every frame.
// Run: npx tsx test/bench/ws.bench.ts   Env: BENCH_WS_CLIENTS=50 BENCH_WS_TRADES=50
// Measured on a shared 2-core machine (everything in one process but the engine; others' runs alongside, so
// noisy), no frame ever missing. Fan-out concurrency 32: 1 client p50 240 ms / p95 630 ms, 50 clients p50 514 /
// p95 1345 ms, 200 clients p50 3007-3250 / p95 5247-5822 ms. Concurrency 64 (the default since): 50 clients p50
// 306 / p95 2074 ms, 200 clients p50 1932 / p95 4202 ms; 96: 200 clients p50 1758 / p95 3507 ms.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startLocalExchange } from '../../local/exchange';
import { BinanceTestClient } from '../support/binance-client';

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 50);
const TRADES = Number(process.env.BENCH_WS_TRADES ?? 50);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  process.env.API_WEIGHT_PER_MINUTE ??= '100000000';
  process.env.ORDER_LIMIT_10S ??= '100000000';
  const ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-ws-bench-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    log: () => undefined,
  });
  const api = new BinanceTestClient(ex.restUrl);
  const [alice, bob] = ex.seeded.demoKeys;
  // trade id -> arrival times at the clients
  const arrivals = new Map<number, number[]>();
  let depthFrames = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${ex.wsUrl}/ws/btcusdt@trade/btcusdt@depth`);
          ws.on('message', (data) => {
            const f = JSON.parse(String(data)) as { e?: string; t?: number };
            if (f.e === 'trade') {
              const list = arrivals.get(f.t!) ?? [];
              list.push(Date.now());
              arrivals.set(f.t!, list);
            } else if (f.e === 'depthUpdate') depthFrames++;
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  console.log(`local exchange up; ${CLIENTS} clients on ${ex.wsUrl}`);
  const answered = new Map<number, number>();
  for (let i = 1; i <= TRADES; i++) {
    const price = `${30000 + (i % 10)}.00`;
    const order = (key: typeof alice, side: string) =>
      api.signed('POST', '/api/v3/order', key, {
        symbol: 'BTCUSDT',
        side,
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.00100',
        price,
        newOrderRespType: 'ACK',
      });
    await order(bob, 'SELL');
    const taker = await order(alice, 'BUY');
    if (taker.status !== 200) throw new Error(`order refused: ${JSON.stringify(taker.body)}`);
    answered.set(i, Date.now());
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && [...answered.keys()].some((t) => (arrivals.get(t)?.length ?? 0) < CLIENTS))
    await new Promise((r) => setTimeout(r, 50));
  const delays: number[] = [];
  let missing = 0;
  for (const [t, at] of answered) {
    const got = arrivals.get(t) ?? [];
    missing += CLIENTS - got.length;
    for (const a of got) delays.push(a - at);
  }
  delays.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      clients: CLIENTS,
      trades: TRADES,
      tradeFrames: delays.length,
      missingTradeFrames: missing,
      depthFrames,
      ackToFrameMs: {
        p50: pct(delays, 50),
        p95: pct(delays, 95),
        p99: pct(delays, 99),
        max: delays[delays.length - 1],
      },
    }),
  );
  for (const ws of sockets) ws.close();
  await ex.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
