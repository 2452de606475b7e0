// The ledger on a real PostgreSQL: locking, settlement, release, idempotency, concurrency, conservation.
import fc from 'fast-check';
import { Pool } from 'pg';
import type { EngineEvent, RejectReason, TradeEvent } from '@engine/core/types';
import { orderProgressFromEvents } from '@lambdas/data-processor/order-view';
import { OrderRepository, orderCounts } from '@lambdas/shared/ledger/order-repository';
import { migrate } from '@contracts/migrations';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { MARKETS } from '@contracts/markets';
import { orderRecord } from '../support/order-record';
import { USDT, acceptedBuy, balanceOf, fundedUser } from '../support/ledger-fixtures';
import { startPostgres, type TestPostgres } from '../support/postgres';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
let pg: TestPostgres;
let pool: Pool;
let ledger: LedgerRepository;
// Far above the ids accept_order draws from its sequence in the same database (the describe at the end).
let nextOrder = 1_000_000_000;
let nextTrade = 1;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: pg.url, max: 60 });
  await migrate(pool);
  expect(await migrate(pool)).toBe(0); // idempotent
  ledger = new LedgerRepository(pool);
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

function trade(over: Partial<TradeEvent>): TradeEvent {
  return {
    type: 'trade',
    market: 'BTCUSDT',
    seq: 1,
    ts: 1,
    tradeId: nextTrade++,
    price: 3_000_000,
    quantity: 10_000,
    makerOrderId: 0,
    makerUserId: 0,
    takerOrderId: 0,
    takerUserId: 0,
    takerSide: 'BUY',
    makerExecutedQty: 0,
    takerExecutedQty: 0,
    makerCumQuote: 0,
    takerCumQuote: 0,
    ...over,
  };
}

const user = (funds: Record<string, bigint>) => fundedUser(ledger, funds);
const balance = (userId: number, asset: string) => balanceOf(ledger, userId, asset);

describe('ledger on PostgreSQL', () => {
  it('credits a deposit once per reference', async () => {
    const u = await user({});
    expect(await ledger.creditDeposit(u, 'USDT', USDT(10), 'chain:tx1')).toBe(true);
    expect(await ledger.creditDeposit(u, 'USDT', USDT(10), 'chain:tx1')).toBe(false);
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(10), locked: 0n });
  });

  it('settles a trade with fees, idempotently, and releases the leftover lock on close', async () => {
    const buyer = await user({ USDT: USDT(10_000) });
    const seller = await user({ BTC: 100_000_000n });
    const buyOrder = nextOrder++;
    const sellOrder = nextOrder++;
    // buyer locks 0.1 BTC at 30,100; seller locks 0.1 BTC
    expect(
      await ledger.lockForOrder({
        orderId: buyOrder,
        market: 'BTCUSDT',
        maxOpenOrders: 200,
        userId: buyer,
        asset: 'USDT',
        amount: USDT(3010),
      }),
    ).toBe('locked');
    expect(
      await ledger.lockForOrder({
        orderId: sellOrder,
        market: 'BTCUSDT',
        maxOpenOrders: 200,
        userId: seller,
        asset: 'BTC',
        amount: 10_000_000n,
      }),
    ).toBe('locked');
    const t = trade({
      makerOrderId: sellOrder,
      makerUserId: seller,
      takerOrderId: buyOrder,
      takerUserId: buyer,
      takerSide: 'BUY',
    });
    expect(await ledger.settleTrade(btc, t)).toBe(true);
    expect(await ledger.settleTrade(btc, t)).toBe(false); // replay changes nothing
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 9_990_000n, locked: 0n }); // 0.1 − 0.1 %
    expect(await balance(buyer, 'USDT')).toEqual({ asset: 'USDT', available: USDT(6990), locked: USDT(10) });
    expect(await balance(seller, 'USDT')).toEqual({ asset: 'USDT', available: USDT(2997), locked: 0n }); // 3000 − 3
    await ledger.releaseOrderLock(buyOrder);
    await ledger.releaseOrderLock(buyOrder);
    await ledger.releaseOrderLock(sellOrder);
    expect(await balance(buyer, 'USDT')).toEqual({ asset: 'USDT', available: USDT(7000), locked: 0n });
    expect(await ledger.checkConservation()).toMatchObject({ ok: true, problems: [] });
  });

  it('50 concurrent locks against one balance never overdraw', async () => {
    const u = await user({ USDT: USDT(1000) });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        ledger.lockForOrder({
          orderId: nextOrder++,
          market: 'BTCUSDT',
          maxOpenOrders: 200,
          userId: u,
          asset: 'USDT',
          amount: USDT(30),
        }),
      ),
    );
    expect(results.filter((r) => r === 'locked')).toHaveLength(33); // floor(1000 / 30)
    expect(results.filter((r) => r === 'insufficient_balance')).toHaveLength(17);
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(10), locked: USDT(990) });
    expect((await ledger.checkConservation()).ok).toBe(true);
  });

  it('counts open orders in the lock transaction: 30 concurrent orders against a cap of 10', async () => {
    const u = await user({ USDT: USDT(1000) });
    const lock = (market: string) =>
      ledger.lockForOrder({
        orderId: nextOrder++,
        market,
        maxOpenOrders: 10,
        userId: u,
        asset: 'USDT',
        amount: USDT(1),
      });
    const start = nextOrder;
    const results = await Promise.all(Array.from({ length: 30 }, () => lock('BTCUSDT')));
    expect(results.filter((r) => r === 'locked')).toHaveLength(10);
    expect(results.filter((r) => r === 'too_many_open_orders')).toHaveLength(20);
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(990), locked: USDT(10) });
    // The cap is per market, and a closed order frees its slot.
    expect(await lock('ETHUSDT')).toBe('locked');
    await ledger.releaseOrderLock(start + results.indexOf('locked'));
    expect(await lock('BTCUSDT')).toBe('locked');
    expect(await lock('BTCUSDT')).toBe('too_many_open_orders');
    expect((await ledger.checkConservation()).ok).toBe(true);
  });

  it('refuses a lock larger than the balance and changes nothing', async () => {
    const u = await user({ USDT: USDT(5) });
    expect(
      await ledger.lockForOrder({
        orderId: nextOrder++,
        market: 'BTCUSDT',
        maxOpenOrders: 200,
        userId: u,
        asset: 'USDT',
        amount: USDT(6),
      }),
    ).toBe('insufficient_balance');
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(5), locked: 0n });
  });

  it('property: random deposits, locks, trades and closes keep every invariant', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('trade' as const),
        lots: fc.integer({ min: 1, max: 5_000 }),
        price: fc.integer({ min: 2_900_000, max: 3_100_000 }),
        buyerTakes: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('close' as const), which: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const a = await user({ USDT: USDT(1_000_000), BTC: 1_000_000_000n });
        const b = await user({ USDT: USDT(1_000_000), BTC: 1_000_000_000n });
        const open: number[] = [];
        for (const o of ops) {
          if (o.kind === 'close') {
            if (open.length) await ledger.releaseOrderLock(open.splice(o.which % open.length, 1)[0]);
            continue;
          }
          const [buyer, seller] = o.buyerTakes ? [a, b] : [b, a];
          const buyOrder = nextOrder++;
          const sellOrder = nextOrder++;
          await ledger.lockForOrder({
            orderId: buyOrder,
            market: 'BTCUSDT',
            maxOpenOrders: 200,
            userId: buyer,
            asset: 'USDT',
            amount: BigInt(o.price) * BigInt(o.lots) * 10n,
          });
          await ledger.lockForOrder({
            orderId: sellOrder,
            market: 'BTCUSDT',
            maxOpenOrders: 200,
            userId: seller,
            asset: 'BTC',
            amount: BigInt(o.lots) * 1000n,
          });
          const t = trade({
            price: o.price,
            quantity: o.lots,
            makerOrderId: sellOrder,
            makerUserId: seller,
            takerOrderId: buyOrder,
            takerUserId: buyer,
          });
          await ledger.settleTrade(btc, t);
          await ledger.settleTrade(btc, t);
          open.push(buyOrder, sellOrder);
        }
        const report = await ledger.checkConservation();
        expect(report.problems).toEqual([]);
      }),
      { numRuns: 15, seed: 11 },
    );
  });
});

// The engine's first answer decides an order; later rejections of the same id (a redelivered place refused as
// STALE_ORDER_ID or DUPLICATE_ORDER_ID, or the place that arrives after a cancel the engine tombstoned)
// change nothing. Orders here go through the real accept path (accept_order) and settle_batch.
describe('settlement of rejections against the live order rows', () => {
  const accept = (userId: number, clientOrderId: string) => acceptedBuy(pool, userId, clientOrderId);
  const rejected = (
    seq: number,
    orderId: number,
    userId: number,
    command: 'place' | 'cancel',
    reason: RejectReason,
  ): EngineEvent => ({
    type: 'rejected',
    market: 'BTCUSDT',
    seq,
    ts: 5,
    command,
    orderId,
    userId,
    reason,
  });
  const settle = (key: string, events: EngineEvent[]) =>
    ledger.settleRecords([
      {
        key,
        market: btc,
        events,
        progress: orderProgressFromEvents(events),
        rejectedOrderIds: events.flatMap((e) => (e.type === 'rejected' ? [e.orderId] : [])),
        cmdIds: [],
        raw: '{}',
      },
    ]);
  const orderRow = async (orderId: number) => (await new OrderRepository(pool).get(orderId))!;

  it('a stale redelivery of an answered place changes nothing; a never-answered place is rejected and released once', async () => {
    const u = await user({ USDT: USDT(1_000) });
    const answered = await accept(u, 'answered');
    const accepted: EngineEvent = {
      type: 'accepted',
      market: 'BTCUSDT',
      seq: 100,
      ts: 2,
      orderId: answered,
      userId: u,
      side: 'BUY',
      orderType: 'LIMIT',
      price: 3_000_000,
      quantity: 10_000,
    } as EngineEvent;
    await settle('r1', [accepted]);
    expect((await orderRow(answered)).status).toBe('NEW');
    expect((await orderRow(answered)).lastSeq).toBe(100);

    await settle('r2', [rejected(101, answered, u, 'place', 'STALE_ORDER_ID')]);
    expect(await orderRow(answered)).toMatchObject({ status: 'NEW', lastSeq: 100 });
    expect((await balance(u, 'USDT')).locked).toBe(USDT(300)); // still held for the live order

    const late = await accept(u, 'late');
    await settle('r3', [rejected(102, late, u, 'place', 'STALE_ORDER_ID')]);
    expect(await orderRow(late)).toMatchObject({ status: 'REJECTED', lastSeq: 102 });
    expect((await balance(u, 'USDT')).locked).toBe(USDT(300)); // the late order's 300 came back
    await settle('r3', [rejected(102, late, u, 'place', 'STALE_ORDER_ID')]); // the batch again
    expect((await balance(u, 'USDT')).available).toBe(USDT(700));
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('a cancel the engine rejects for an order it never saw cancels it; the place arriving after changes nothing', async () => {
    const u = await user({ USDT: USDT(1_000) });
    const order = await accept(u, 'cancel-first');
    await settle('c1', [rejected(200, order, u, 'cancel', 'UNKNOWN_ORDER')]);
    expect(await orderRow(order)).toMatchObject({ status: 'CANCELED', lastSeq: 200 });
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(1_000), locked: 0n });
    await settle('c2', [rejected(201, order, u, 'place', 'DUPLICATE_ORDER_ID')]);
    expect(await orderRow(order)).toMatchObject({ status: 'CANCELED', lastSeq: 200 });
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(1_000), locked: 0n });
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });
});

// Binance's ORDERS limits, counted in the accept transaction: exact whatever the number of API containers.
describe('order rate limits per account', () => {
  const T = 1_764_000_000_000; // a whole 10-second window (and a UTC day) begins here
  const place = (userId: number, i: number, nowMs: number, limits = { per10s: 3, perDay: 5 }) =>
    new OrderRepository(pool).accept({
      order: (({ orderId: _id, ...row }) => row)(
        orderRecord({ userId, clientOrderId: `rl-${i}`, qtyLots: 100, lockAmount: USDT(3).toString() }),
      ),
      command: {
        kind: 'place',
        market: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        userId,
        clientOrderId: `rl-${i}`,
        ts: 1,
      },
      groupId: 'BTCUSDT-0',
      maxOpenOrders: 200,
      orderLimits: limits,
      nowMs,
    });

  it('refuses the order past the 10-second and the daily limit, changing nothing; a new window has room', async () => {
    const u = await user({ USDT: USDT(1_000) });
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      const r = await place(u, i, T + 1_000 + i);
      outcomes.push([r.outcome, r.counts]);
    }
    expect(outcomes).toEqual([
      ['accepted', { per10s: 1, perDay: 1 }],
      ['accepted', { per10s: 2, perDay: 2 }],
      ['accepted', { per10s: 3, perDay: 3 }],
      ['order_rate_10s', { per10s: 3, perDay: 3 }],
    ]);
    expect((await balance(u, 'USDT')).locked).toBe(USDT(9)); // the refused order locked nothing
    // The next window: room again, until the day's limit.
    expect((await place(u, 10, T + 10_000)).counts).toEqual({ per10s: 1, perDay: 4 });
    expect((await place(u, 11, T + 10_001)).counts).toEqual({ per10s: 2, perDay: 5 });
    const day = await place(u, 12, T + 10_002);
    expect([day.outcome, day.counts]).toEqual(['order_rate_day', { per10s: 2, perDay: 5 }]);
    // Another user has budgets of their own.
    const other = await user({ USDT: USDT(100) });
    expect((await place(other, 20, T + 10_003)).outcome).toBe('accepted');
    // The next day starts from zero.
    expect((await place(u, 13, T + 86_400_000)).counts).toEqual({ per10s: 1, perDay: 1 });
    expect(await orderCounts(pool, u, T + 86_400_000)).toEqual({ per10s: 1, perDay: 1 });
  });
});
