// Binance's ORDERS limit per account over REST (docs/operations.md#overload-and-rate-limits): every accepted
// order reports the account's counts in X-MBX-ORDER-COUNT-10S / -1D; past 100 orders in a 10-second window
// the answer is 429 / -1015 with Retry-After, and GET /api/v3/rateLimit/order shows the same counts.
import { startTestExchange, type TestExchange } from '../support/exchange-helpers';

let t: TestExchange;

beforeAll(async () => {
  t = await startTestExchange(1_000);
});

afterAll(async () => {
  await t?.stop();
});

test('the 101st order of a 10-second window is refused with 429 / -1015', async () => {
  const counts: number[] = [];
  let refusal: { status: number; body: unknown; headers?: Record<string, string> } | undefined;
  // Windows are whole 10-second periods: if the run straddles one, the count restarts and we keep going.
  for (let i = 0; i < 300 && !refusal; i++) {
    const res = await t.api.signed<{ orderId: number }>('POST', '/api/v3/order', t.alice, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'IOC',
      quantity: '0.01',
      price: '1000',
      newOrderRespType: 'ACK',
      newClientOrderId: `rl-${i}`,
    });
    if (res.status === 200) counts.push(Number(res.headers?.['x-mbx-order-count-10s']));
    else refusal = res;
  }
  expect(refusal).toMatchObject({
    status: 429,
    body: { code: -1015, msg: 'Too many new orders; current limit is 100 orders per 10 SECOND.' },
  });
  const retryAfter = Number(refusal?.headers?.['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(10);
  expect(refusal?.headers?.['x-mbx-order-count-10s']).toBe('100');
  // The window that ended in the refusal counted 1, 2, …, 100.
  const last = counts.slice(counts.lastIndexOf(1));
  expect(last).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

  const limits = await t.api.signed<Array<{ interval: string; count: number; limit: number }>>(
    'GET',
    '/api/v3/rateLimit/order',
    t.alice,
  );
  const per10s = limits.body.find((l) => l.interval === 'SECOND');
  const perDay = limits.body.find((l) => l.interval === 'DAY');
  expect(perDay?.count).toBe(counts.length);
  // Still in the same window, unless it has just rolled over.
  expect([100, 0]).toContain(per10s?.count);
});
