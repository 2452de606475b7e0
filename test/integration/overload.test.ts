// Overload is an answer, not a fault (docs/operations.md#overload-and-rate-limits): signed orders offered
// open-loop, from a process of their own, far past what this machine can accept. Every answer is an
// acceptance, Binance's 503 / -1008 (pipeline saturated) or 429 / -1003 (request weight), each refusal with
// Retry-After; never a 500, never a -1021 because a request waited in the exchange past its recvWindow.
// Afterwards every accepted order is final and the ledger's conservation check is clean.
import { Pool } from 'pg';
import type { ApiKey } from '../support/binance-client';
import {
  checkConservation,
  everyOrderFinal,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';
import { runLoad } from '../support/load-generator';

const OFFERED_PER_SECOND = 400;
const SECONDS = 5;

let t: TestExchange;
const traders: ApiKey[] = [];

beforeAll(async () => {
  // Two accounts far past Binance's 100 orders per 10 s: this test is about the pipeline's capacity, so the
  // per-account ORDERS limit is raised (test/integration/order-rate-limit.test.ts covers it).
  process.env.ORDER_LIMIT_10S = '1000000';
  t = await startTestExchange(1_000);
  // Funded far beyond what the run can lock, so refusals come from capacity, not from balances.
  for (let i = 0; i < 10; i++)
    traders.push(await registerFundedUser(t.api, t.pg.url, `ovl${i}`, { BTC: '1000', USDT: '100000000' }));
});

afterAll(async () => {
  await t?.stop();
});

test(`${OFFERED_PER_SECOND} orders/s offered for ${SECONDS} s: only acceptances and overload answers`, async () => {
  const result = await runLoad({
    url: t.ex.restUrl,
    users: traders,
    ratePerSecond: OFFERED_PER_SECOND,
    seconds: SECONDS,
    symbol: 'BTCUSDT',
    price: 30_000,
    quantity: '0.001',
    runId: `ovl${Date.now()}`,
  });
  const { answers, accepted } = result;
  console.log(
    `overload: offered ${OFFERED_PER_SECOND}/s for ${result.elapsedSeconds.toFixed(1)} s (generator lag ≤ ${result.maxSendLagMs} ms); accepted ${(accepted.length / result.elapsedSeconds).toFixed(0)}/s; answers ${JSON.stringify(answers)}; -1021 by where the time went ${JSON.stringify(result.stale)}`,
  );

  // A -1021 is Binance's answer for a request past its recvWindow. Each one is sorted by where the time went:
  // `client` (it left the generator with under a second of its window left: a starved client, which Binance
  // refuses too) or `gateway` (it left fresh and reached the exchange stale: the exchange's queue, which must
  // be shed with 503 before the window runs out, docs/operations.md#overload-and-rate-limits).
  const allowed = new Set(['200', '503/-1008', '429/-1003', '418/-1003', '400/-1021']);
  expect(Object.keys(answers).filter((k) => !allowed.has(k))).toEqual([]);
  expect(result.stale.client + result.stale.gateway).toBe(answers['400/-1021'] ?? 0);
  expect(result.stale.gateway).toBe(0);
  expect(result.missingRetryAfter).toBe(0);
  expect(accepted.length).toBeGreaterThan(0);
  // Past this machine's capacity something must have been refused; otherwise the test did not overload.
  expect((answers['503/-1008'] ?? 0) + (answers['429/-1003'] ?? 0)).toBeGreaterThan(0);

  // Every accepted order reaches a final state (IOC: filled or expired once the engine answers).
  const pool = new Pool({ connectionString: t.pg.url, max: 2 });
  try {
    await everyOrderFinal(pool, accepted, 90_000);
  } finally {
    await pool.end();
  }
  await checkConservation(t.pg.url);
});
