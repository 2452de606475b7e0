// The local runtime heals as AWS does (docs/operations.md#restarts): during an order flow the engine child
// is killed (-9) and frozen (SIGSTOP: it stops answering its health check) at seeded random moments, and
// the stream consumers hang at seeded random invocations (before or after doing their work, so a retry
// re-applies a batch). Nobody restarts anything by hand. At the end every accepted order is final, nothing
// is locked, nothing was applied twice (ledger trades and the users' trade read model agree one to one)
// and the ledger's conservation check is clean. FAULT_SEED=<n> reproduces a run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startLocalExchange, type ConsumerHandler, type LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import { prng } from '../support/engine-flow';
import { checkConservation, eventually, everyOrderFinal } from '../support/exchange-helpers';
import { startPostgres, type TestPostgres } from '../support/postgres';

const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);

const random = prng(SEED);
const ORDERS = 160;
const lines: string[] = [];
const hung = { before: 0, after: 0 };
let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;

/** Hangs about one invocation in eight, until the consumer's timeout abandons it; half after doing the work. */
function chaos(name: string, handler: ConsumerHandler): ConsumerHandler {
  return async (event) => {
    const roll = random();
    if (roll < 0.06) {
      hung.before++;
      return new Promise(() => undefined);
    }
    const result = await handler(event);
    if (roll < 0.12) {
      hung.after++;
      lines.push(`${name} hangs after applying ${event.Records.length} records`);
      return new Promise(() => undefined);
    }
    return result;
  };
}

beforeAll(async () => {
  console.log(`supervision test FAULT_SEED=${SEED}`);
  pg = await startPostgres();
  ex = await startLocalExchange({
    dataDir: mkdtempSync(join(tmpdir(), 'cirrus-supervision-')),
    fresh: true,
    inMemory: true,
    restPort: 0,
    demoUsers: true,
    databaseUrl: pg.url,
    snapshotEveryCommands: 40,
    consumerTimeoutMs: 1_500,
    wrapConsumer: chaos,
    engineSupervision: { initialBackoffMs: 200, healthIntervalMs: 300, unhealthyAfter: 3 },
    log: (line) => lines.push(line),
  });
  api = new BinanceTestClient(ex.restUrl);
  [alice, bob] = ex.seeded.demoKeys;
});

afterAll(async () => {
  await ex?.stop();
  await pg?.stop();
});

test(`engine and consumers fail at seeded moments; the exchange heals and ends consistent (seed ${SEED})`, async () => {
  // Faults at three distinct random points of the flow: two kills, one freeze.
  const points = new Set<number>();
  while (points.size < 3) points.add(20 + Math.floor(random() * (ORDERS - 40)));
  const freeze = [...points].sort((a, b) => a - b)[1];

  const accepted: number[] = [];
  const codes: Record<string, number> = {};
  const inflight: Array<Promise<void>> = [];
  let faults = 0;
  for (let i = 0; i < ORDERS; i++) {
    if (points.has(i)) {
      // Each fault hits a running engine: the previous one has been healed (orders keep flowing meanwhile).
      const healed = faults;
      await eventually(async () => expect(ex.restarts().engine).toBe(healed), 60_000);
      ex.engine().kill(i === freeze ? 'SIGSTOP' : 'SIGKILL');
      faults++;
    }
    const maker = i % 2 === 0;
    inflight.push(
      api
        .signed<{ orderId: number; code?: number }>('POST', '/api/v3/order', maker ? alice : bob, {
          symbol: 'BTCUSDT',
          side: maker ? 'SELL' : 'BUY',
          type: 'LIMIT',
          timeInForce: maker ? 'GTC' : 'IOC',
          quantity: '0.01',
          price: maker ? String(30_000 + (i % 7) * 10) : String(30_000 + (i % 5) * 15),
          newOrderRespType: 'ACK',
        })
        .then((res) => {
          const key = res.status === 200 ? '200' : `${res.status}/${String(res.body.code)}`;
          codes[key] = (codes[key] ?? 0) + 1;
          if (res.status === 200) accepted.push(res.body.orderId);
        }),
    );
    await new Promise((r) => setTimeout(r, 25));
  }
  await Promise.all(inflight);
  // Only acceptances, or the overload answer while the engine was down long enough to back the pipeline up.
  expect(Object.keys(codes).filter((c) => c !== '200' && c !== '503/-1008')).toEqual([]);
  // Orders before the first fault are always accepted; later ones may be shed while the engine is away.
  console.log(`supervision test: answers ${JSON.stringify(codes)}`);
  expect(accepted.length).toBeGreaterThanOrEqual(20);

  // The supervisor brought the engine back after each kill and after the freeze.
  await eventually(async () => expect(ex.restarts().engine).toBe(3), 60_000);
  expect(lines.filter((l) => l.includes('engine       exited')).length).toBeGreaterThanOrEqual(3);
  expect(lines.some((l) => l.includes('not answering its health check'))).toBe(true);
  expect(lines.filter((l) => l.includes('engine       restarted')).length).toBe(3);
  if (hung.before + hung.after > 0)
    expect(lines.some((l) => l.includes('timed out after 1500 ms'))).toBe(true);

  // Every order the engine has answered; then the resting makers are cancelled: all final.
  const pool = new Pool({ connectionString: pg.url, max: 2 });
  try {
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

    // Nothing locked: every balance's locked part is zero once no order is open.
    for (const user of [alice, bob]) {
      await eventually(async () => {
        const account = await api.signed<{ balances: Array<{ asset: string; locked: string }> }>(
          'GET',
          '/api/v3/account',
          user,
          {},
        );
        expect(account.body.balances.filter((b) => Number(b.locked) !== 0)).toEqual([]);
      }, 30_000);
    }

    // Nothing applied twice: the read model of each user's trades matches the ledger's trades one to one.
    const settled = await pool.query<{ trade_id: string }>(
      "SELECT trade_id::text FROM settled_trades WHERE market = 'BTCUSDT'",
    );
    const ledgerTradeIds = settled.rows.map((r) => Number(r.trade_id)).sort((a, b) => a - b);
    expect(ledgerTradeIds.length).toBeGreaterThan(0);
    // Candles count trades incrementally: a batch applied twice would count its trades twice.
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
      const ids = trades.body.map((t) => t.id).sort((a, b) => a - b);
      expect(ids).toEqual(ledgerTradeIds);
    }, 30_000);
  } finally {
    await pool.end();
  }
  await checkConservation(pg.url);
});
