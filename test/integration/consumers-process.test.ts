// The stream consumers run in a process of their own (local/consumers.ts), as `npm start` runs them. Killed
// (-9) twice at seeded moments of an order flow, the process is restarted by its supervisor and resumes from
// its checkpoints: every accepted order gets the engine's answer, every trade is settled once (the ledger,
// the candles and the users' trade read model agree one to one) and conservation is clean. FAULT_SEED=<n>
// reproduces a run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startLocalExchange, type LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { prng } from '../support/engine-flow';
import { checkConservation, eventually, everyOrderFinal } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const random = prng(SEED);
const ORDERS = 100;
const lines: string[] = [];
let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;

beforeAll(async () => {
  console.log(`consumers process test FAULT_SEED=${SEED}`);
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-consumers-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    log: (line) => lines.push(line),
  });
  api = new BinanceTestClient(ex.restUrl);
  [alice, bob] = ex.seeded.demoKeys;
});

afterAll(async () => {
  await ex?.stop();
  await pg?.stop();
});

test(`the consumers' process killed -9 twice mid-flow is restarted and settles everything once (seed ${SEED})`, async () => {
  const first = ex.consumersProcess();
  expect(first?.pid).toBeGreaterThan(0);
  const kills = new Set<number>();
  while (kills.size < 2) kills.add(10 + Math.floor(random() * (ORDERS - 20)));

  const accepted: number[] = [];
  const inflight: Array<Promise<void>> = [];
  let killed = 0;
  for (let i = 0; i < ORDERS; i++) {
    if (kills.has(i)) {
      // Each kill hits a running process: the previous one has been restarted.
      const restarted = killed;
      await eventually(async () => expect(ex.restarts().consumers).toBe(restarted), 60_000);
      ex.consumersProcess()?.kill('SIGKILL');
      killed++;
    }
    const maker = i % 2 === 0;
    inflight.push(
      api
        .signed<{ orderId: number }>('POST', '/api/v3/order', maker ? alice : bob, {
          symbol: 'BTCUSDT',
          side: maker ? 'SELL' : 'BUY',
          type: 'LIMIT',
          timeInForce: maker ? 'GTC' : 'IOC',
          quantity: '0.01',
          price: maker ? String(30_000 + (i % 7) * 10) : String(30_000 + (i % 5) * 15),
          newOrderRespType: 'ACK',
        })
        .then((res) => {
          expect(res.status).toBe(200);
          accepted.push(res.body.orderId);
        }),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(inflight);
  expect(accepted).toHaveLength(ORDERS);

  await eventually(async () => expect(ex.restarts().consumers).toBe(2), 60_000);
  expect(ex.consumersProcess()?.pid).not.toBe(first?.pid);
  expect(lines.filter((l) => l.startsWith('consumers    exited (SIGKILL)'))).toHaveLength(2);
  expect(lines.filter((l) => l.startsWith('consumers    restarted'))).toHaveLength(2);

  const pool = new Pool({ connectionString: pg.url, max: 2 });
  try {
    // Every order answered by the engine (settled by the restarted consumers), then the makers cancelled.
    await eventually(async () => {
      const r = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM orders WHERE order_id = ANY($1::bigint[]) AND last_seq = 0',
        [accepted],
      );
      expect(Number(r.rows[0].n)).toBe(0);
    }, 60_000);
    const cancel = await api.signed('DELETE', '/api/v3/openOrders', alice, { symbol: 'BTCUSDT' });
    expect([200, 400]).toContain(cancel.status); // 400 -2011 when nothing was left open
    await everyOrderFinal(pool, accepted, 60_000);

    // Nothing applied twice: candles and the taker's trade read model count each ledger trade once.
    const settled = await pool.query<{ trade_id: string }>(
      "SELECT trade_id::text FROM settled_trades WHERE market = 'BTCUSDT'",
    );
    const ledgerTradeIds = settled.rows.map((r) => Number(r.trade_id)).sort((a, b) => a - b);
    expect(ledgerTradeIds.length).toBeGreaterThan(0);
    await eventually(async () => {
      const klines = await api.public<Array<Array<string | number>>>('GET', '/api/v3/klines', {
        symbol: 'BTCUSDT',
        interval: '1m',
        limit: '1000',
      });
      expect(klines.body.reduce((n, k) => n + Number(k[8]), 0)).toBe(ledgerTradeIds.length);
    }, 30_000);
    await eventually(async () => {
      const trades = await api.signed<Array<{ id: number }>>('GET', '/api/v3/myTrades', bob, {
        symbol: 'BTCUSDT',
        limit: 1000,
      });
      expect(trades.body.map((t) => t.id).sort((a, b) => a - b)).toEqual(ledgerTradeIds);
    }, 30_000);
  } finally {
    await pool.end();
  }
  await checkConservation(pg.url);
}, 240_000);
