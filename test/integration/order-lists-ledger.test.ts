// Order lists in the ledger on a real PostgreSQL (migration 17): one lock per list, accepted in one
// transaction with its legs and one outbox command, fills paid from the list's lock, the remainder released
// only by the engine's listStatus ALL_DONE (or a first REJECT), idempotent and seq-guarded; prevented
// matches stored once. The engine's events are written by hand here, as the contract defines them
// (engine/core/types.ts); the whole pipeline runs in order-lists.test.ts.
import { Pool } from 'pg';
import type { EngineEvent, ListStatusEvent, TradeEvent } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import { migrate } from '@contracts/migrations';
import { settlementItem } from '@lambdas/data-processor/process-record';
import { OrderListService, type PlacedList } from '@lambdas/api/orders/list-service';
import type { OcoParams } from '@lambdas/api/orders/plan-list';
import { OrderListRepository, preventedMatches } from '@lambdas/shared/ledger/order-list-repository';
import { OrderRepository } from '@lambdas/shared/ledger/order-repository';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { reconcile } from '@lambdas/reconciliation/reconcile';
import type { OutboxMessage } from '@lambdas/shared/ledger/order-repository';
import { USDT, balanceOf, fundedUser } from '../support/ledger-fixtures';
import { acceptedEventOf } from '@test/support/order-record';
import { startPostgres, type TestPostgres } from '../support/postgres';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const BTC = (n: number) => BigInt(Math.round(n * 1e5)) * 1000n; // 8 decimals, n with ≤ 5 places
let pg: TestPostgres;
let pool: Pool;
let ledger: LedgerRepository;
let lists: OrderListRepository;
let service: OrderListService;
const sent: OutboxMessage[] = [];
let seq = 1_000;
let tradeId = 500_000;
let keyN = 0;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: pg.url, max: 10 });
  await migrate(pool);
  ledger = new LedgerRepository(pool);
  lists = new OrderListRepository(pool);
  service = new OrderListService({
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    lists,
    sender: { send: async (m) => void sent.push(...m) },
    book: { bestPrices: async () => ({ bid: 2_999_000, ask: 3_001_000 }) },
  });
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

const sellOco = (over: Partial<OcoParams> = {}): OcoParams => ({
  symbol: 'BTCUSDT',
  side: 'SELL',
  quantity: '0.1',
  above: { type: 'LIMIT_MAKER', price: '31000' },
  below: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000', timeInForce: 'GTC' },
  ...over,
});

const settle = (events: EngineEvent[], key = `k${++keyN}`) =>
  ledger.settleRecords([
    settlementItem(btc, { key, record: { v: 1, market: 'BTCUSDT', commands: [], events }, raw: '{}' }),
  ]);

const ev = <T extends EngineEvent = EngineEvent>(e: Record<string, unknown>): T =>
  ({ market: 'BTCUSDT', seq: ++seq, ts: 10, ...e }) as T;

function acceptedEvents(placed: PlacedList): EngineEvent[] {
  return [
    ...placed.orders.map((o) => acceptedEventOf(o, ++seq, 10)),
    listStatus(placed, 'EXEC_STARTED', 'EXECUTING'),
  ];
}

function listStatus(
  placed: PlacedList,
  listStatusType: ListStatusEvent['listStatusType'],
  listOrderStatus: ListStatusEvent['listOrderStatus'],
): ListStatusEvent {
  return ev<ListStatusEvent>({
    type: 'listStatus',
    listId: placed.list.orderListId,
    userId: placed.list.userId,
    listClientOrderId: placed.list.listClientOrderId,
    contingencyType: 'OCO',
    listStatusType,
    listOrderStatus,
    orderIds: placed.list.orderIds,
    ...(listOrderStatus === 'REJECT' ? { rejectReason: 'DUPLICATE_ORDER_ID' as const } : {}),
  });
}

const sellTrade = (
  makerOrderId: number,
  sellerId: number,
  buyer: { id: number; orderId: number },
  lots: number,
  exec: number,
) =>
  ev<TradeEvent>({
    type: 'trade',
    tradeId: ++tradeId,
    price: 3_100_000,
    quantity: lots,
    makerOrderId,
    makerUserId: sellerId,
    takerOrderId: buyer.orderId,
    takerUserId: buyer.id,
    takerSide: 'BUY',
    makerExecutedQty: exec,
    takerExecutedQty: lots,
    makerCumQuote: exec * 3_100_000,
    takerCumQuote: lots * 3_100_000,
  });

const lockRow = async (listId: number) =>
  (
    await pool.query<{ status: string; remaining: string; locked_total: string }>(
      'SELECT status, remaining, locked_total FROM order_locks WHERE order_id = $1',
      [-listId],
    )
  ).rows[0];

/** A buyer whose taker order has a lock of its own (so its side of each trade settles as usual). */
let takerOrder = 8_000_000_000;
async function takerBuyer(usdt: bigint) {
  const id = await fundedUser(ledger, { USDT: usdt });
  const orderId = ++takerOrder;
  await ledger.lockForOrder({
    orderId,
    userId: id,
    market: 'BTCUSDT',
    asset: 'USDT',
    amount: usdt,
    maxOpenOrders: 10,
  });
  return { id, orderId };
}

describe('order lists in the ledger', () => {
  it('a SELL OCO locks its base quantity once, in one transaction with its legs and one command', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(0.15) });
    const placed = await service.placeOco(u, sellOco({ listClientOrderId: 'L1' }), undefined);
    expect(placed.orders).toHaveLength(2);
    expect(await balanceOf(ledger, u, 'BTC')).toMatchObject({ available: BTC(0.05), locked: BTC(0.1) });
    expect(await lockRow(placed.list.orderListId)).toMatchObject({
      status: 'open',
      remaining: String(BTC(0.1)),
    });
    const legs = await lists.legs(placed.list);
    expect(legs.map((l) => [l.type, l.orderListId, l.status])).toEqual([
      ['LIMIT_MAKER', placed.list.orderListId, 'NEW'],
      ['STOP_LOSS_LIMIT', placed.list.orderListId, 'NEW'],
    ]);
    const outbox = await pool.query<{ cmd_id: string; body: string }>(
      "SELECT cmd_id, body FROM outbox WHERE cmd_id LIKE 'pl-%' AND cmd_id = $1",
      [`pl-${placed.list.orderListId}`],
    );
    expect(outbox.rows).toHaveLength(1);
    const body = JSON.parse(outbox.rows[0].body);
    expect(body.command).toMatchObject({
      kind: 'placeList',
      listId: placed.list.orderListId,
      contingencyType: 'OCO',
      userId: u,
      stpMode: 'EXPIRE_MAKER',
    });
    expect(body.command.legs.map((l: { orderId: number }) => l.orderId)).toEqual(placed.list.orderIds);
    expect(body.command.legs[0]).not.toHaveProperty('stpMode');
    expect(sent.map((m) => m.cmdId)).toContain(`pl-${placed.list.orderListId}`);
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('refusals change nothing: insufficient funds, a duplicate list client id, a replayed signature', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(0.15) });
    await expect(service.placeOco(u, sellOco({ quantity: '0.2' }))).rejects.toMatchObject({ code: -2010 });
    expect(await balanceOf(ledger, u, 'BTC')).toMatchObject({ available: BTC(0.15), locked: 0n });
    const replay = { signature: `sig-${u}`, expiresAtMs: Date.now() + 60_000 };
    await service.placeOco(u, sellOco({ quantity: '0.05', listClientOrderId: 'dup' }), replay);
    await expect(service.placeOco(u, sellOco({ quantity: '0.05' }), replay)).rejects.toMatchObject({
      code: -1022,
    });
    await expect(
      service.placeOco(u, sellOco({ quantity: '0.05', listClientOrderId: 'dup' })),
    ).rejects.toMatchObject({
      code: -2010,
      message: 'Duplicate order sent.',
    });
    expect(await balanceOf(ledger, u, 'BTC')).toMatchObject({ available: BTC(0.1), locked: BTC(0.05) });
    expect((await lists.listOpen(u)).map((l) => l.listClientOrderId)).toEqual(['dup']);
  });

  it('fills of one leg pay from the list lock; the other leg expires; ALL_DONE releases the rest once', async () => {
    const seller = await fundedUser(ledger, { BTC: BTC(0.15) });
    const placed = await service.placeOco(seller, sellOco());
    const [limitLeg, stopLeg] = placed.list.orderIds;
    await settle(acceptedEvents(placed));
    expect((await lists.get(placed.list.orderListId))!.lastSeq).toBeGreaterThan(0);
    const buyer = await takerBuyer(USDT(5_000));

    const t1 = sellTrade(limitLeg, seller, buyer, 4_000, 4_000);
    const first = [t1];
    await settle(first);
    expect(await lockRow(placed.list.orderListId)).toMatchObject({
      status: 'open',
      remaining: String(BTC(0.06)),
    });
    expect((await new OrderRepository(pool).get(limitLeg))!.status).toBe('PARTIALLY_FILLED');
    // An expiry of the sibling must not release anything: the list still holds the rest.
    const expired = ev({
      type: 'closed',
      orderId: stopLeg,
      userId: seller,
      reason: 'LIST',
      executedQty: 0,
      cumQuote: 0,
    });
    await settle([expired]);
    expect((await new OrderRepository(pool).get(stopLeg))!.status).toBe('EXPIRED');
    expect(await lockRow(placed.list.orderListId)).toMatchObject({
      status: 'open',
      remaining: String(BTC(0.06)),
    });

    const t2 = sellTrade(limitLeg, seller, buyer, 6_000, 10_000);
    const end = [
      t2,
      ev({
        type: 'closed',
        orderId: limitLeg,
        userId: seller,
        reason: 'FILLED',
        executedQty: 10_000,
        cumQuote: 10_000 * 3_100_000,
      }),
      listStatus(placed, 'ALL_DONE', 'ALL_DONE'),
    ];
    await settle(end, 'end');
    expect(await lockRow(placed.list.orderListId)).toMatchObject({ status: 'closed', remaining: '0' });
    const list = (await lists.get(placed.list.orderListId))!;
    expect(list).toMatchObject({ listStatusType: 'ALL_DONE', listOrderStatus: 'ALL_DONE' });
    // 0.1 BTC sold at 31000: 3100 USDT less the 0.1 % maker fee; 0.05 BTC never locked.
    expect(await balanceOf(ledger, seller, 'BTC')).toMatchObject({ available: BTC(0.05), locked: 0n });
    expect(await balanceOf(ledger, seller, 'USDT')).toMatchObject({
      available: USDT(3_100) - USDT(3_100) / 1000n,
      locked: 0n,
    });
    // The same batch again (a Lambda retry): nothing moves.
    await settle(end, 'end');
    expect(await balanceOf(ledger, seller, 'BTC')).toMatchObject({ available: BTC(0.05), locked: 0n });
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('a BUY OCO locks the larger of its legs’ quote needs; a cancel of the list is queued once', async () => {
    const u = await fundedUser(ledger, { USDT: USDT(10_000) });
    const placed = await service.placeOco(u, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.1',
      above: { type: 'STOP_LOSS_LIMIT', price: '32000', stopPrice: '31500', timeInForce: 'GTC' },
      below: { type: 'LIMIT_MAKER', price: '29000' },
    });
    // max(0.1 × 32000, 0.1 × 29000) = 3200 USDT
    expect(await balanceOf(ledger, u, 'USDT')).toMatchObject({ locked: USDT(3_200), available: USDT(6_800) });
    const cancelled = await service.cancel(u, 'BTCUSDT', {
      listClientOrderId: placed.list.listClientOrderId,
    });
    expect(cancelled.orderListId).toBe(placed.list.orderListId);
    const cmds = sent.filter((m) => m.cmdId.endsWith(`-${placed.list.orderListId}`)).map((m) => m.cmdId);
    // Not applied yet: its place is sent again ahead of the cancel.
    expect(cmds.slice(-2)).toEqual([`pl-${placed.list.orderListId}`, `cl-${placed.list.orderListId}`]);
    // Another user's list is not found.
    const other = await fundedUser(ledger, {});
    await expect(
      service.cancel(other, 'BTCUSDT', { orderListId: placed.list.orderListId }),
    ).rejects.toMatchObject({ code: -2011 });
    await settle([
      ...acceptedEvents(placed),
      ...placed.list.orderIds.map((id) =>
        ev({ type: 'closed', orderId: id, userId: u, reason: 'CANCELED', executedQty: 0, cumQuote: 0 }),
      ),
      listStatus(placed, 'ALL_DONE', 'ALL_DONE'),
    ]);
    expect(await balanceOf(ledger, u, 'USDT')).toMatchObject({ locked: 0n, available: USDT(10_000) });
    expect(await lists.listOpen(u)).toEqual([]);
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('a REJECT releases a list the engine never answered, not one it did (a redelivered duplicate)', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(0.2) });
    const live = await service.placeOco(u, sellOco());
    await settle(acceptedEvents(live));
    await settle([
      ...live.list.orderIds.map((orderId) =>
        ev({ type: 'rejected', command: 'placeList', orderId, userId: u, reason: 'DUPLICATE_ORDER_ID' }),
      ),
      listStatus(live, 'ALL_DONE', 'REJECT'),
    ]);
    expect((await lists.get(live.list.orderListId))!.listOrderStatus).toBe('EXECUTING');
    expect(await lockRow(live.list.orderListId)).toMatchObject({ status: 'open' });
    expect((await new OrderRepository(pool).get(live.list.orderIds[0]))!.status).toBe('NEW');

    const refused = await service.placeOco(u, sellOco());
    await settle([
      ...refused.list.orderIds.map((orderId) =>
        ev({ type: 'rejected', command: 'placeList', orderId, userId: u, reason: 'WOULD_TAKE' }),
      ),
      listStatus(refused, 'ALL_DONE', 'REJECT'),
    ]);
    expect((await lists.get(refused.list.orderListId))!.listOrderStatus).toBe('REJECT');
    expect((await new OrderRepository(pool).get(refused.list.orderIds[1]))!.status).toBe('REJECTED');
    expect(await balanceOf(ledger, u, 'BTC')).toMatchObject({ locked: BTC(0.1), available: BTC(0.1) });
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('stores prevented matches once, readable by their user only', async () => {
    const u = await fundedUser(ledger, {});
    const other = await fundedUser(ledger, {});
    const prevented = ev({
      type: 'prevented',
      preventedMatchId: 77,
      takerOrderId: 901,
      makerOrderId: 900,
      userId: u,
      price: 3_000_000,
      makerPreventedQuantity: 1_000,
      stpMode: 'EXPIRE_MAKER',
    });
    await settle([prevented]);
    await settle([prevented]);
    const mine = await preventedMatches(pool, u, 'BTCUSDT', { orderId: 900, limit: 500 });
    expect(mine).toEqual([
      expect.objectContaining({
        preventedMatchId: 77,
        takerOrderId: 901,
        makerOrderId: 900,
        makerPreventedLots: 1_000,
      }),
    ]);
    expect(await preventedMatches(pool, other, 'BTCUSDT', { preventedMatchId: 77, limit: 500 })).toEqual([]);
  });

  it('a record the ledger refuses is quarantined alone; the list records around it settle', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(0.1) });
    const placed = await service.placeOco(u, sellOco());
    const buyer = await takerBuyer(USDT(10));
    // A trade larger than the list's lock: the ledger refuses it (check_violation).
    const tooBig = sellTrade(placed.list.orderIds[0], u, buyer, 20_000, 20_000);
    const result = await ledger.settleRecords([
      settlementItem(btc, {
        key: 'q-a',
        record: { v: 1, market: 'BTCUSDT', commands: [], events: acceptedEvents(placed) },
        raw: '{}',
      }),
      settlementItem(btc, {
        key: 'q-bad',
        record: { v: 1, market: 'BTCUSDT', commands: [], events: [tooBig] },
        raw: '{}',
      }),
      settlementItem(btc, {
        key: 'q-c',
        record: {
          v: 1,
          market: 'BTCUSDT',
          commands: [],
          events: [
            ...placed.list.orderIds.map((id) =>
              ev({ type: 'closed', orderId: id, userId: u, reason: 'CANCELED', executedQty: 0, cumQuote: 0 }),
            ),
            listStatus(placed, 'ALL_DONE', 'ALL_DONE'),
          ],
        },
        raw: '{}',
      }),
    ]);
    expect(result.quarantined.map((q) => q.key)).toEqual(['q-bad']);
    expect(await balanceOf(ledger, u, 'BTC')).toMatchObject({ locked: 0n, available: BTC(0.1) });
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });

  it('reconciliation reads a list lock as its open legs: no orphan while they live, an orphan once none does', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(0.1) });
    const placed = await service.placeOco(u, sellOco());
    await settle(acceptedEvents(placed));
    const [limitLeg, stopLeg] = placed.list.orderIds;
    // The engine's snapshot (the fields reconciliation reads): both legs live, one on the book, one a stop.
    const snapshotWith = (live: { bids: number[]; asks: number[]; stops: number[] }) => ({
      loadLatest: async () =>
        ({
          shard: 'shard-0',
          takenAt: Date.now() + 60 * 60_000,
          engine: {
            markets: [
              {
                rules: { symbol: 'BTCUSDT' },
                seq: seq + 1,
                bids: live.bids.map((id) => [id]),
                asks: live.asks.map((id) => [id]),
                stops: live.stops.map((id) => [id]),
              },
            ],
          },
        }) as never,
    });
    const mine = (ids: Array<{ orderId: number }>) =>
      ids.filter((f) => placed.list.orderIds.includes(f.orderId) || f.orderId === -placed.list.orderListId);
    const live = await reconcile({
      pool,
      snapshots: snapshotWith({ bids: [], asks: [limitLeg], stops: [stopLeg] }),
      shards: ['shard-0'],
      graceMs: 0,
    });
    expect(mine(live.orphanLocks)).toEqual([]);
    expect(mine(live.unlockedLiveOrders)).toEqual([]);
    // Both legs closed in the ledger but the list's end never settled: its lock is an orphan.
    await settle(
      placed.list.orderIds.map((id) =>
        ev({ type: 'closed', orderId: id, userId: u, reason: 'CANCELED', executedQty: 0, cumQuote: 0 }),
      ),
    );
    const stuck = await reconcile({
      pool,
      snapshots: snapshotWith({ bids: [], asks: [], stops: [] }),
      shards: ['shard-0'],
      graceMs: 0,
    });
    expect(mine(stuck.orphanLocks).map((f) => f.orderId)).toEqual([limitLeg]);
  });

  it('MAX_NUM_ORDERS counts every leg of an open list once, an OTO working leg with its own lock included', async () => {
    const u = await fundedUser(ledger, { BTC: BTC(1), USDT: USDT(20_000) });
    const capped = new OrderListService({
      markets: new Map(MARKETS.map((m) => [m.symbol, m])),
      lists,
      sender: { send: async () => undefined },
      book: { bestPrices: async () => ({ bid: 2_999_000, ask: 3_001_000 }) },
      maxOpenOrders: 4,
    });
    await capped.placeOco(u, sellOco());
    const oto = await capped.placeOto(u, {
      symbol: 'BTCUSDT',
      working: { type: 'LIMIT', side: 'BUY', price: '29000', quantity: '0.1', timeInForce: 'GTC' },
      pending: { type: 'LIMIT_MAKER', side: 'SELL', price: '32000', quantity: '0.1' },
    });
    // Three open locks (the OCO's, the OTO's, the OTO working leg's own) stand for four orders: the cap.
    const locks = await pool.query(
      "SELECT count(*)::int AS n FROM order_locks WHERE user_id = $1 AND status = 'open'",
      [u],
    );
    expect(locks.rows[0].n).toBe(3);
    expect(oto.orders.map((o) => [o.status, o.lockAmount])).toEqual([
      ['NEW', USDT(2_900).toString()],
      ['PENDING_NEW', '0'],
    ]);
    await expect(capped.placeOco(u, sellOco({ quantity: '0.01' }))).rejects.toMatchObject({
      code: -2010,
      message: 'Filter failure: MAX_NUM_ORDERS',
    });
    expect((await balanceOf(ledger, u, 'USDT')).locked).toBe(USDT(2_900));
    expect((await balanceOf(ledger, u, 'BTC')).locked).toBe(BTC(0.2));
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });
});
