// Overload and rate limits as Binance answers them (docs/operations.md#overload-and-rate-limits): the
// per-IP request-weight limiter (429 / -1003, then 418 bans) and the order admission (503 / -1008).
import { BinanceError } from '@lambdas/shared/http/binance-error';
import { BackgroundValue, OrderAdmission } from '@lambdas/shared/http/load-shedding';
import { RequestWeightLimiter, requestWeight } from '@lambdas/shared/http/request-weight';

const MINUTE = 60_000;

async function refusal(p: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof BinanceError) return [err.statusCode, err.code, err.headers] as const;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('request weight per IP and minute', () => {
  it('weighs endpoints as Binance does (depth by limit, tickers by symbols, unknown ones 1)', () => {
    const w = (resource: string, params: Record<string, string> = {}, method = 'GET') =>
      requestWeight({ method, resource, params });
    expect(w('/api/v3/depth')).toBe(5);
    expect(w('/api/v3/depth', { limit: '500' })).toBe(25);
    expect(w('/api/v3/depth', { limit: '1000' })).toBe(50);
    expect(w('/api/v3/depth', { limit: '5000' })).toBe(250);
    expect(w('/api/v3/ticker/24hr', { symbol: 'BTCUSDT' })).toBe(2);
    expect(w('/api/v3/ticker/24hr')).toBe(80);
    expect(w('/api/v3/ticker/24hr', { symbols: Array(50).fill('X').join(',') })).toBe(40);
    expect(w('/api/v3/openOrders', { symbol: 'BTCUSDT' })).toBe(6);
    expect(w('/api/v3/openOrders')).toBe(80);
    expect(w('/api/v3/exchangeInfo')).toBe(20);
    expect(w('/api/v3/order', {}, 'POST')).toBe(1);
    expect(w('/api/v3/order')).toBe(4);
    expect(w('/api/v3/ping')).toBe(1);
    expect(w('/cirrus/v1/search', { q: 'x' })).toBe(20);
  });

  it('counts per IP within the calendar minute, answers 429 / -1003 with Retry-After past the limit', async () => {
    let now = 10 * MINUTE + 45_000;
    const limiter = new RequestWeightLimiter({ limitPerMinute: 100, clock: () => now });
    expect(limiter.spend('1.1.1.1', 60)).toBe(60);
    expect(limiter.spend('2.2.2.2', 60)).toBe(60); // another IP has its own budget
    expect(limiter.spend('1.1.1.1', 40)).toBe(100);
    const [status, code, headers] = await refusal(() => limiter.spend('1.1.1.1', 1));
    expect([status, code]).toEqual([429, -1003]);
    expect(headers['Retry-After']).toBe('15'); // until the next minute starts
    now = 11 * MINUTE; // a new minute: a fresh budget
    expect(limiter.spend('1.1.1.1', 1)).toBe(1);
  });

  it('bans an IP that keeps sending after its 429s (418, Retry-After), and lifts the ban later', async () => {
    let now = 0;
    const limiter = new RequestWeightLimiter({
      limitPerMinute: 10,
      banAfter429s: 3,
      banMs: 120_000,
      clock: () => now,
    });
    limiter.spend('9.9.9.9', 10);
    for (let i = 0; i < 4; i++) expect((await refusal(() => limiter.spend('9.9.9.9', 1)))[0]).toBe(429);
    const [status, code, headers] = await refusal(() => limiter.spend('9.9.9.9', 1));
    expect([status, code, headers['Retry-After']]).toEqual([418, -1003, '120']);
    now = 61_000; // a new minute, still banned
    expect((await refusal(() => limiter.spend('9.9.9.9', 1)))[0]).toBe(418);
    now = 121_000;
    expect(limiter.spend('9.9.9.9', 1)).toBe(1);
  });

  it('tracks a bounded number of IPs; the rest share one budget', async () => {
    const limiter = new RequestWeightLimiter({ limitPerMinute: 5, maxTrackedIps: 2, clock: () => 0 });
    limiter.spend('a', 1);
    limiter.spend('b', 1);
    limiter.spend('c', 3);
    limiter.spend('d', 2); // shares c's bucket
    expect((await refusal(() => limiter.spend('e', 1)))[0]).toBe(429);
    expect(limiter.spend('a', 4)).toBe(5);
  });
});

describe('order admission', () => {
  const signals = { waiting: 0, backlog: 0 };
  const admission = (shed: string[] = []) =>
    new OrderAdmission(
      { maxPendingOrders: 2, maxDbWaiting: 5, maxBacklogSeconds: 5 },
      { dbWaiting: () => signals.waiting, backlogSeconds: () => signals.backlog },
      (reason) => shed.push(reason),
    );

  beforeEach(() => {
    signals.waiting = 0;
    signals.backlog = 0;
  });

  it('runs work while there is room and refuses the next with 503 / -1008, touching nothing', async () => {
    const shed: string[] = [];
    const a = admission(shed);
    const gates: Array<() => void> = [];
    const held = [1, 2].map(() => a.admit(() => new Promise<void>((r) => gates.push(r))));
    let ran = false;
    const [status, code, headers] = await refusal(a.admit(async () => void (ran = true)));
    expect([status, code, headers['Retry-After'], ran, shed]).toEqual([
      503,
      -1008,
      '1',
      false,
      ['pending-orders'],
    ]);
    gates.forEach((g) => g());
    await Promise.all(held);
    expect(a.pendingOrders).toBe(0);
    await expect(a.admit(async () => 'ok')).resolves.toBe('ok');
  });

  it('a failed accept frees its place', async () => {
    const a = admission();
    await expect(a.admit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(a.pendingOrders).toBe(0);
  });

  it('sheds on database pool waiters and on the engine backlog', async () => {
    const shed: string[] = [];
    const a = admission(shed);
    signals.waiting = 5;
    expect((await refusal(a.admit(async () => 1)))[1]).toBe(-1008);
    signals.waiting = 4;
    signals.backlog = 5.5;
    const [, , headers] = await refusal(a.admit(async () => 1));
    expect(headers['Retry-After']).toBe('5');
    signals.backlog = 5;
    await expect(a.admit(async () => 1)).resolves.toBe(1);
    expect(shed).toEqual(['db-waiting', 'backlog']);
  });
});

describe('background value', () => {
  it('never waits for its query, refreshes at most every interval and keeps the last value on failure', async () => {
    let now = 0;
    let calls = 0;
    let next: Promise<number> = Promise.resolve(7);
    const v = new BackgroundValue(
      () => (calls++, next),
      1_000,
      () => now,
    );
    expect(v.get()).toBe(0); // first read starts the query and answers at once
    await new Promise((r) => setImmediate(r));
    expect(v.get()).toBe(7);
    expect(calls).toBe(1); // within the interval: no new query
    now = 1_000;
    next = Promise.reject(new Error('db down'));
    v.get();
    await new Promise((r) => setImmediate(r));
    expect(v.get()).toBe(7);
    expect(calls).toBe(2);
  });
});
