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

const WINDOW_MS = 10_000;
const BURST = 105;

test('the 101st order of a 10-second window is refused with 429 / -1015', async () => {
  type Answer = { status: number; body: unknown; headers?: Record<string, string> };
  let placed = 0;
  let round: Answer[] | undefined;
  // 105 orders at the start of a 10-second window, all answered before it ends, so every one counts in that
  // window whatever the machine's load (sent one by one, a busy machine can take longer than a window for 100
  // orders). In waves of 25 at once, under the order admission's pending limit (64): a larger burst is itself
  // overload and meets 503 / -1008. A 503 is sent again (new client order id, so a new signature); a round
  // that straddles a window is tried again.
  const place = (id: string) =>
    t.api.signed<{ orderId: number }>('POST', '/api/v3/order', t.alice, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'IOC',
      quantity: '0.01',
      price: '1000',
      newOrderRespType: 'ACK',
      newClientOrderId: id,
    });
  const placeUntilAnswered = async (id: string): Promise<Answer> => {
    for (let tries = 0; ; tries++) {
      const answer = await place(`${id}-${tries}`);
      if (answer.status !== 503 || tries === 5) return answer;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (let attempt = 0; attempt < 4 && !round; attempt++) {
    await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 50));
    const window = Math.floor(Date.now() / WINDOW_MS);
    const answers: Answer[] = [];
    for (let wave = 0; wave < BURST; wave += 25) {
      const size = Math.min(25, BURST - wave);
      answers.push(
        ...(await Promise.all(
          Array.from({ length: size }, (_, i) => placeUntilAnswered(`rl-${attempt}-${wave + i}`)),
        )),
      );
    }
    placed += answers.filter((a) => a.status === 200).length;
    const sameWindow = Math.floor(Date.now() / WINDOW_MS) === window;
    if (sameWindow && answers.every((a) => a.status === 200 || a.status === 429)) round = answers;
  }
  if (!round) throw new Error('no burst fitted in one 10-second window in 4 tries');

  // Exactly 100 accepted, counted 1…100 in the window; the rest refused with -1015 and Retry-After.
  const accepted = round.filter((a) => a.status === 200);
  const refused = round.filter((a) => a.status !== 200);
  expect(accepted).toHaveLength(100);
  expect(accepted.map((a) => Number(a.headers?.['x-mbx-order-count-10s'])).sort((a, b) => a - b)).toEqual(
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  expect(refused).toHaveLength(BURST - 100);
  for (const refusal of refused) {
    expect(refusal).toMatchObject({
      status: 429,
      body: { code: -1015, msg: 'Too many new orders; current limit is 100 orders per 10 SECOND.' },
    });
    const retryAfter = Number(refusal.headers?.['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(refusal.headers?.['x-mbx-order-count-10s']).toBe('100');
  }

  const limits = await t.api.signed<Array<{ interval: string; count: number; limit: number }>>(
    'GET',
    '/api/v3/rateLimit/order',
    t.alice,
  );
  const per10s = limits.body.find((l) => l.interval === 'SECOND');
  const perDay = limits.body.find((l) => l.interval === 'DAY');
  expect(perDay?.count).toBe(placed);
  // Still in the same window, unless it has just rolled over.
  expect([100, 0]).toContain(per10s?.count);
});
