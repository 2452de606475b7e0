// User data stream payloads and delivery rules with in-memory doubles: Binance's executionReport fields from
// engine integers, one report per execution (a fill that completes an order is one TRADE/FILLED report),
// commissions equal to the fees settlement posts, and reports only ever posted to the owner's connections.
import type { AcceptedEvent, EngineEvent, MarketSpec, TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import { FEES, tradeSettlement } from '@lambdas/shared/ledger/postings';
import {
  executionReport,
  executions,
  listenKeyExpired,
  usersOf,
  type OrderFacts,
} from '@lambdas/ws-fanout/user-payloads';
import { OrderFactsCache, userFanOut, userFrame, type UserFanOutDeps } from '@lambdas/ws-fanout/user-fanout';
import type { UserBinding } from '@lambdas/ws/user-stream-store';

const BTC = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const T0 = 1_700_000_000_000;
const ALICE = 1;
const BOB = 2;

const accepted = (orderId: number, userId: number, seq: number, orderType = 'LIMIT'): EngineEvent => ({
  type: 'accepted',
  market: 'BTCUSDT',
  seq,
  ts: T0 + seq,
  orderId,
  userId,
  clientOrderId: `c${orderId}`,
  side: userId === ALICE ? 'BUY' : 'SELL',
  orderType: orderType as 'LIMIT',
  timeInForce: 'GTC',
  price: 3_000_000,
  quantity: 2_000,
  quoteQuantity: 0,
  stopPrice: 0,
  icebergQuantity: 0,
  stpMode: 'NONE',
});
/** Bob (taker, SELL, order 2) fills `lots` of alice's resting BUY (order 1) at 30000.00. */
const trade = (seq: number, tradeId: number, lots: number, cum: number): TradeEvent => ({
  type: 'trade',
  market: 'BTCUSDT',
  seq,
  ts: T0 + seq,
  tradeId,
  price: 3_000_000,
  quantity: lots,
  makerOrderId: 1,
  makerUserId: ALICE,
  takerOrderId: 2,
  takerUserId: BOB,
  takerSide: 'SELL',
  makerExecutedQty: cum,
  takerExecutedQty: cum,
  makerCumQuote: 3_000_000 * cum,
  takerCumQuote: 3_000_000 * cum,
});
const closed = (seq: number, orderId: number, userId: number, reason: string, cum: number): EngineEvent => ({
  type: 'closed',
  market: 'BTCUSDT',
  seq,
  ts: T0 + seq,
  orderId,
  userId,
  reason: reason as 'FILLED',
  executedQty: cum,
  cumQuote: 3_000_000 * cum,
});
const facts = (orderId: number, userId: number): OrderFacts => ({
  orderId,
  userId,
  symbol: 'BTCUSDT',
  clientOrderId: `c${orderId}`,
  side: userId === ALICE ? 'BUY' : 'SELL',
  type: 'LIMIT',
  timeInForce: 'GTC',
  priceTicks: 3_000_000,
  qtyLots: 2_000,
  quoteQty: 0,
  stopTicks: 0,
  icebergLots: 0,
  stpMode: 'NONE',
  time: T0,
});
const kinds = (xs: ReturnType<typeof executions>) =>
  xs.map((x) => [x.userId, x.orderId, x.execution.x, x.execution.X]);

describe('executions: one report per change of a user order', () => {
  it('NEW, a partial TRADE, then CANCELED for the maker; TRADE/FILLED only (no separate close) for the filled taker', () => {
    const events = [
      accepted(1, ALICE, 1),
      accepted(2, BOB, 2),
      trade(3, 1, 500, 500),
      closed(4, 2, BOB, 'FILLED', 500),
      closed(5, 1, ALICE, 'CANCELED', 500),
    ];
    expect(usersOf(events)).toEqual(new Set([ALICE, BOB]));
    expect(kinds(executions(BTC, events, new Set([ALICE, BOB])))).toEqual([
      [ALICE, 1, 'NEW', 'NEW'],
      [BOB, 2, 'NEW', 'NEW'],
      [ALICE, 1, 'TRADE', 'PARTIALLY_FILLED'],
      [BOB, 2, 'TRADE', 'FILLED'],
      [ALICE, 1, 'CANCELED', 'CANCELED'],
    ]);
    // Only the users asked for.
    expect(kinds(executions(BTC, events, new Set([BOB])))).toEqual([
      [BOB, 2, 'NEW', 'NEW'],
      [BOB, 2, 'TRADE', 'FILLED'],
    ]);
  });

  it('only the last fill before a FILLED close is FILLED; expiries, self-trade prevention and rejections', () => {
    const events: EngineEvent[] = [
      trade(1, 1, 500, 500),
      trade(2, 2, 1_500, 2_000),
      closed(3, 1, ALICE, 'FILLED', 2_000),
      closed(4, 2, BOB, 'IOC', 2_000),
      closed(5, 7, ALICE, 'STP_TAKER', 0),
      {
        type: 'rejected',
        market: 'BTCUSDT',
        seq: 6,
        ts: T0,
        command: 'place',
        orderId: 8,
        userId: ALICE,
        reason: 'WOULD_TAKE',
      },
      {
        type: 'rejected',
        market: 'BTCUSDT',
        seq: 7,
        ts: T0,
        command: 'cancel',
        orderId: 9,
        userId: ALICE,
        reason: 'UNKNOWN_ORDER',
      },
    ];
    const xs = executions(BTC, events, new Set([ALICE, BOB]));
    expect(kinds(xs)).toEqual([
      [ALICE, 1, 'TRADE', 'PARTIALLY_FILLED'],
      [BOB, 2, 'TRADE', 'PARTIALLY_FILLED'],
      [ALICE, 1, 'TRADE', 'FILLED'],
      [BOB, 2, 'TRADE', 'PARTIALLY_FILLED'],
      [BOB, 2, 'EXPIRED', 'EXPIRED'],
      [ALICE, 7, 'TRADE_PREVENTION', 'EXPIRED_IN_MATCH'],
      [ALICE, 8, 'REJECTED', 'REJECTED'],
    ]);
    expect(xs[6].execution.reject).toBe('WOULD_MATCH_IMMEDIATELY');
    expect(xs[4].execution).toMatchObject({ cumLots: 2_000, onBook: false });
  });

  it('an OTO pending leg: NEW with status PENDING_NEW (not on the book), then NEW/NEW when its working leg fills', () => {
    const pendingLeg: EngineEvent = {
      ...(accepted(5, ALICE, 2) as AcceptedEvent),
      orderListId: 3,
      pending: true,
    };
    const events: EngineEvent[] = [
      accepted(4, ALICE, 1),
      pendingLeg,
      {
        type: 'activated',
        market: 'BTCUSDT',
        seq: 3,
        ts: T0 + 3,
        orderId: 5,
        userId: ALICE,
        orderListId: 3,
        orderType: 'LIMIT',
      },
    ];
    expect(usersOf(events.slice(2))).toEqual(new Set([ALICE]));
    const xs = executions(BTC, events, new Set([ALICE]));
    expect(kinds(xs)).toEqual([
      [ALICE, 4, 'NEW', 'NEW'],
      [ALICE, 5, 'NEW', 'PENDING_NEW'],
      [ALICE, 5, 'NEW', 'NEW'],
    ]);
    expect(xs.map((x) => x.execution.onBook)).toEqual([true, false, true]);
    expect(executions(BTC, events, new Set([BOB]))).toEqual([]);
  });

  it('an amend: REPLACED with the new quantity in q, its executed part, and PENDING_NEW for a pending leg', () => {
    const amended = (seq: number, orderId: number, over: Partial<EngineEvent>): EngineEvent =>
      ({
        type: 'amended',
        market: 'BTCUSDT',
        seq,
        ts: T0 + seq,
        orderId,
        userId: ALICE,
        price: 3_000_000,
        quantity: 600,
        keptPriority: true,
        executedQty: 0,
        cumQuote: 0,
        onBook: true,
        ...over,
      }) as EngineEvent;
    const events = [
      amended(1, 4, { executedQty: 200, cumQuote: 600_000_000 }),
      amended(2, 5, { onBook: false, pending: true }),
      amended(3, 6, { onBook: false }),
    ];
    expect(usersOf(events)).toEqual(new Set([ALICE]));
    const xs = executions(BTC, events, new Set([ALICE]));
    expect(kinds(xs)).toEqual([
      [ALICE, 4, 'REPLACED', 'PARTIALLY_FILLED'],
      [ALICE, 5, 'REPLACED', 'PENDING_NEW'],
      [ALICE, 6, 'REPLACED', 'NEW'],
    ]);
    expect(xs[0].execution).toMatchObject({
      cumLots: 200,
      cumQuote: 600_000_000,
      onBook: true,
      qtyLots: 600,
    });
    const report = executionReport(BTC, facts(4, ALICE), xs[0].execution, T0 + 9);
    expect(report).toMatchObject({
      x: 'REPLACED',
      X: 'PARTIALLY_FILLED',
      q: '0.00600000',
      z: '0.00200000',
      l: '0.00000000',
    });
    expect(report.W).toBeDefined();
    expect(executionReport(BTC, facts(6, ALICE), xs[2].execution, T0 + 9)).not.toHaveProperty('W');
    expect(executions(BTC, events, new Set([BOB]))).toEqual([]);
  });

  it("commissions are the fees settlement posts (buyer in base, seller in quote, maker's and taker's rates)", () => {
    const market: MarketSpec = { ...BTC, makerFee: '0.001', takerFee: '0.002' };
    const t = trade(1, 1, 1_234, 1_234);
    const [maker, taker] = executions(market, [t], new Set([ALICE, BOB]));
    const posted = tradeSettlement(market, t).postings.filter((p) => p.owner === FEES);
    const fee = (asset: string) => posted.find((p) => p.asset === asset)!.amount;
    // alice bought as maker: 0.01234 BTC × 0.001; bob sold as taker: 370.20 USDT × 0.002.
    expect(maker.execution.fill).toMatchObject({ asset: 'BTC', commission: '0.00001234', isMaker: true });
    expect(taker.execution.fill).toMatchObject({ asset: 'USDT', commission: '0.74040000', isMaker: false });
    expect(BigInt(maker.execution.fill!.commission.replace('.', ''))).toBe(fee('BTC'));
    expect(BigInt(taker.execution.fill!.commission.replace('.', ''))).toBe(fee('USDT'));
  });
});

describe('executionReport', () => {
  it("prints Binance's fields from ticks and lots", () => {
    const [x] = executions(BTC, [trade(3, 41, 500, 500)], new Set([ALICE]));
    expect(executionReport(BTC, facts(1, ALICE), x.execution, T0 + 10)).toEqual({
      e: 'executionReport',
      E: T0 + 10,
      s: 'BTCUSDT',
      c: 'c1',
      S: 'BUY',
      o: 'LIMIT',
      f: 'GTC',
      q: '0.02000000',
      p: '30000.00000000',
      P: '0.00000000',
      F: '0.00000000',
      g: -1,
      C: '',
      x: 'TRADE',
      X: 'PARTIALLY_FILLED',
      r: 'NONE',
      i: 1,
      l: '0.00500000',
      z: '0.00500000',
      L: '30000.00000000',
      n: '0.00000500',
      N: 'BTC',
      T: T0 + 3,
      t: 41,
      I: 3,
      w: true,
      m: true,
      M: false,
      O: T0,
      Z: '150.00000000',
      Y: '150.00000000',
      Q: '0.00000000',
      W: T0,
      V: 'NONE',
    });
  });

  it('a NEW stop order is not on the book (no W); a cancel names the canceled order in C', () => {
    const [stop] = executions(BTC, [accepted(5, ALICE, 1, 'STOP_LOSS_LIMIT')], new Set([ALICE]));
    const report = executionReport(BTC, facts(5, ALICE), stop.execution, T0);
    expect(report).toMatchObject({ x: 'NEW', w: false, t: -1, n: '0', N: null, l: '0.00000000' });
    expect('W' in report).toBe(false);
    const [canceled] = executions(BTC, [closed(2, 5, ALICE, 'CANCELED', 0)], new Set([ALICE]));
    expect(executionReport(BTC, facts(5, ALICE), canceled.execution, T0)).toMatchObject({
      C: 'c5',
      X: 'CANCELED',
    });
  });

  it('a trailing stop shows its delta in d and when it started trailing in D (-1 while it has not)', () => {
    const [stop] = executions(BTC, [accepted(5, ALICE, 1, 'STOP_LOSS_LIMIT')], new Set([ALICE]));
    const trailing = { ...facts(5, ALICE), type: 'STOP_LOSS_LIMIT' as const, trailingDelta: 150 };
    expect(executionReport(BTC, trailing, stop.execution, T0)).toMatchObject({ d: 150, D: -1 });
    expect(executionReport(BTC, { ...trailing, trailingTime: T0 }, stop.execution, T0)).toMatchObject({
      d: 150,
      D: T0,
    });
    const plain = executionReport(BTC, facts(5, ALICE), stop.execution, T0);
    expect('d' in plain || 'D' in plain).toBe(false);
  });

  it("d/D from the batch's own events when the order's facts lack them: D from the trigger on", () => {
    const events: EngineEvent[] = [
      { ...(accepted(2, BOB, 1, 'STOP_LOSS_LIMIT') as AcceptedEvent), trailingDelta: 150 },
      {
        type: 'triggered',
        market: 'BTCUSDT',
        seq: 2,
        ts: T0 + 2,
        orderId: 2,
        userId: BOB,
        trailingTime: T0 + 1,
      },
      trade(3, 1, 500, 500 * 3_000_000),
    ];
    const [fresh, traded] = executions(BTC, events, new Set([BOB]));
    expect(executionReport(BTC, facts(2, BOB), fresh.execution, T0)).toMatchObject({
      x: 'NEW',
      d: 150,
      D: -1,
    });
    expect(executionReport(BTC, facts(2, BOB), traded.execution, T0)).toMatchObject({
      x: 'TRADE',
      d: 150,
      D: T0 + 1,
    });
  });

  it('listenKeyExpired and the three frame formats', () => {
    const b = (format: UserBinding['format']): UserBinding => ({
      connectionId: 'c',
      userId: 1,
      format,
      listenKey: 'K',
    });
    const event = listenKeyExpired('K', 5);
    expect(event).toEqual({ e: 'listenKeyExpired', E: 5, listenKey: 'K' });
    expect(JSON.parse(userFrame(b('raw'), event))).toEqual(event);
    expect(JSON.parse(userFrame(b('combined'), event))).toEqual({ stream: 'K', data: event });
    expect(JSON.parse(userFrame(b('wsapi'), event))).toEqual({ subscriptionId: 0, event });
  });
});

describe('userFanOut', () => {
  const record = (events: EngineEvent[]): EventRecord => ({ v: 1, market: 'BTCUSDT', commands: [], events });

  function doubles(bindings: UserBinding[], live = new Set<string>(['KEY-A'])) {
    const settledUpTo = { seq: 4 };
    const posted: Array<[string, unknown]> = [];
    const unbound: string[] = [];
    const reads = { n: 0 };
    const users: UserFanOutDeps = {
      connectionsOf: async (userIds) => {
        reads.n++;
        const found = new Map<number, UserBinding[]>();
        for (const b of bindings)
          if (userIds.includes(b.userId)) found.set(b.userId, [...(found.get(b.userId) ?? []), b]);
        return found;
      },
      orders: async (ids) => ids.map((id) => facts(id, id === 1 ? ALICE : BOB)),
      listenKeyLive: async (key) => live.has(key),
      apiKeyLive: async (key) => live.has(key),
      unbind: async (id) => void unbound.push(id),
      // Settlement has applied everything up to `settledUpTo` to every order.
      settledSeqs: async (ids) => new Map(ids.map((id) => [id, settledUpTo.seq])),
      balances: async (userId) => [
        { asset: 'BTC', available: BigInt(userId) * 100_000_000n, locked: 50_000n },
        { asset: 'ETH', available: 7n, locked: 0n },
        { asset: 'USDT', available: 12_345_000_000n, locked: 0n },
      ],
    };
    const deps = {
      markets: new Map([['BTCUSDT', BTC]]),
      now: () => T0,
      post: async (connectionId: string, data: string) => void posted.push([connectionId, JSON.parse(data)]),
      removeConnection: async () => undefined,
      log: { warn: () => undefined },
      seedAttempts: 1,
    };
    return { posted, unbound, users, deps, settledUpTo, reads };
  }
  const events = [
    accepted(1, ALICE, 1),
    accepted(2, BOB, 2),
    trade(3, 1, 500, 500),
    closed(4, 2, BOB, 'FILLED', 500),
  ];

  it("posts each report only to its owner's connections, in order", async () => {
    const { posted, users, deps } = doubles([
      { connectionId: 'a1', userId: ALICE, format: 'raw', listenKey: 'KEY-A' },
      { connectionId: 'b1', userId: BOB, format: 'wsapi' },
    ]);
    const stats = await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(stats).toEqual({ frames: 6, posted: 6, gone: 0, failed: 0 });
    const to = (c: string) => posted.filter(([id]) => id === c).map(([, f]) => f as Record<string, unknown>);
    expect(to('a1').map((f) => [f.e, f.i, f.x])).toEqual([
      ['executionReport', 1, 'NEW'],
      ['executionReport', 1, 'TRADE'],
      ['outboundAccountPosition', undefined, undefined],
    ]);
    const bob = to('b1').map((f) => f.event as Record<string, unknown>);
    expect(to('b1').every((f) => f.subscriptionId === 0)).toBe(true);
    expect(bob.map((f) => [f.e, f.i])).toEqual([
      ['executionReport', 2],
      ['executionReport', 2],
      ['outboundAccountPosition', undefined],
    ]);
    // The settled balances of the market's two assets, from the ledger's minor units; u = the last event's time.
    expect(bob[2]).toEqual({
      e: 'outboundAccountPosition',
      E: T0,
      u: T0 + 4,
      B: [
        { a: 'BTC', f: '2.00000000', l: '0.00050000' },
        { a: 'USDT', f: '123.45000000', l: '0.00000000' },
      ],
    });
  });

  it('after an amend, later reports of the order show its new quantity (the facts cache keeps it)', async () => {
    const { posted, users, deps } = doubles([{ connectionId: 'a1', userId: ALICE, format: 'raw' }]);
    const cache = new OrderFactsCache();
    const amend: EngineEvent = {
      type: 'amended',
      market: 'BTCUSDT',
      seq: 2,
      ts: T0 + 2,
      orderId: 1,
      userId: ALICE,
      price: 3_000_000,
      quantity: 700,
      keptPriority: true,
      executedQty: 0,
      cumQuote: 0,
      onBook: true,
    };
    await userFanOut([record([accepted(1, ALICE, 1), amend])], deps, users, cache);
    await userFanOut([record([trade(3, 1, 500, 500)])], deps, users, cache);
    const reports = posted
      .map(([, f]) => f as Record<string, unknown>)
      .filter((f) => f.e === 'executionReport');
    expect(reports.map((f) => [f.x, f.q])).toEqual([
      ['NEW', '0.02000000'],
      ['REPLACED', '0.00700000'],
      ['TRADE', '0.00700000'],
    ]);
    expect(cache.get(1)?.qtyLots).toBe(700);
  });

  it("no balance frame until settlement has applied the batch to the user's orders", async () => {
    const { posted, users, deps, settledUpTo } = doubles([
      { connectionId: 'a1', userId: ALICE, format: 'raw' },
      { connectionId: 'b1', userId: BOB, format: 'raw' },
    ]);
    const kinds = (c: string) =>
      posted.filter(([id]) => id === c).map(([, f]) => (f as Record<string, unknown>).e);
    // Alice's order's last event (the trade, seq 3) is settled, bob's FILLED close (seq 4, which releases the
    // rest of his lock) is not: alice's balance is due, bob's not yet.
    settledUpTo.seq = 3;
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(kinds('a1')).toEqual(['executionReport', 'executionReport', 'outboundAccountPosition']);
    expect(kinds('b1')).toEqual(['executionReport', 'executionReport']);
    posted.length = 0;
    settledUpTo.seq = 2; // the trade not settled yet: reports only
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(kinds('a1')).toEqual(['executionReport', 'executionReport']);
  });

  it('a report whose order the read model gives another owner is never sent', async () => {
    const { posted, users, deps } = doubles([{ connectionId: 'b1', userId: BOB, format: 'raw' }]);
    // The read model says order 2 is alice's: the event says bob's. Neither user gets it.
    users.orders = async (ids) => ids.map((id) => facts(id, ALICE));
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(posted).toEqual([]);
  });

  it('a closed or expired listen key gets listenKeyExpired once, is unbound, and nothing else', async () => {
    const { posted, unbound, users, deps } = doubles(
      [{ connectionId: 'a1', userId: ALICE, format: 'raw', listenKey: 'KEY-GONE' }],
      new Set(),
    );
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(posted).toEqual([['a1', { e: 'listenKeyExpired', E: T0, listenKey: 'KEY-GONE' }]]);
    expect(unbound).toEqual(['a1']);
  });

  it('a subscription whose signing API key was revoked gets eventStreamTerminated once, is unbound, and nothing else', async () => {
    const { posted, unbound, users, deps } = doubles([
      { connectionId: 'a1', userId: ALICE, format: 'wsapi', apiKey: 'REVOKED' },
      { connectionId: 'a2', userId: ALICE, format: 'wsapi', apiKey: 'KEY-A' },
    ]);
    users.apiKeyLive = async (key) => key === 'KEY-A';
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    const to = (c: string) => posted.filter(([id]) => id === c).map(([, f]) => f);
    expect(to('a1')).toEqual([{ subscriptionId: 0, event: { e: 'eventStreamTerminated', E: T0 } }]);
    expect(unbound).toEqual(['a1']);
    // The other connection, bound with a live key, gets its reports as before.
    expect(to('a2').map((f) => (f as { event: { e: string } }).event.e)).toEqual([
      'executionReport',
      'executionReport',
      'outboundAccountPosition',
    ]);
  });

  it('a listen-key stream whose API key was revoked ends with listenKeyExpired, as when the listen key goes', async () => {
    const { posted, unbound, users, deps } = doubles([
      { connectionId: 'a1', userId: ALICE, format: 'raw', listenKey: 'KEY-A', apiKey: 'REVOKED' },
    ]);
    users.apiKeyLive = async () => false;
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(posted).toEqual([['a1', { e: 'listenKeyExpired', E: T0, listenKey: 'KEY-A' }]]);
    expect(unbound).toEqual(['a1']);
  });

  it('a store that cannot say whether the key is revoked keeps the subscription', async () => {
    const { posted, unbound, users, deps } = doubles([
      { connectionId: 'a1', userId: ALICE, format: 'wsapi', apiKey: 'KEY-A' },
    ]);
    users.apiKeyLive = async () => {
      throw new Error('database unavailable');
    };
    await userFanOut([record(events)], deps, users, new OrderFactsCache());
    expect(unbound).toEqual([]);
    expect(posted.length).toBeGreaterThan(0);
  });

  it('one read of the bindings for the whole batch, and nothing else read when nobody listens', async () => {
    const { posted, users, deps, reads } = doubles([]);
    users.orders = async () => {
      throw new Error('must not be read');
    };
    expect(await userFanOut([record(events)], deps, users, new OrderFactsCache())).toEqual({
      frames: 0,
      posted: 0,
      gone: 0,
      failed: 0,
    });
    expect(posted).toEqual([]);
    expect(reads.n).toBe(1); // alice and bob both named in the batch: still one read
  });
});
