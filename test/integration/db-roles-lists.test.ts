// Least privilege for order lists and prevented matches (migration 17, docs/architecture.md#database-roles),
// on a real PostgreSQL: the API's login places a list through accept_order_list (owner's rights) and queues
// its cancel, reads lists and its prevented matches, and may not write lists or release their locks itself;
// the data processor's login settles a list's fills, status and release and stores prevented matches; the
// reconciliation's login reads a list lock as its legs. Others are refused.
import { Pool } from 'pg';
import type { EngineEvent } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import type { DatabaseRole } from '@contracts/migrations';
import { settlementItem } from '@lambdas/data-processor/process-record';
import { OrderListService } from '@lambdas/api/orders/list-service';
import { OrderListRepository, preventedMatches } from '@lambdas/shared/ledger/order-list-repository';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { reconcile } from '@lambdas/reconciliation/reconcile';
import { acceptedEventOf } from '@test/support/order-record';
import { refused, startRolePools, type RolePools } from '@test/support/role-pools';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
let db: RolePools;
let owner: Pool;
let as: Record<DatabaseRole, Pool>;

beforeAll(async () => {
  db = await startRolePools();
  ({ owner, as } = db);
});

afterAll(async () => {
  await db?.stop();
});

const service = (pool: Pool) =>
  new OrderListService({
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    lists: new OrderListRepository(pool),
    sender: { send: async () => undefined },
    book: { bestPrices: async () => ({}) },
  });

let seq = 100;
const ev = (e: Record<string, unknown>): EngineEvent =>
  ({ market: 'BTCUSDT', seq: ++seq, ts: 5, ...e }) as EngineEvent;

describe('order lists under the database roles', () => {
  it('API places and cancels a list; the processor settles it; reconciliation reads it; others are refused', async () => {
    const ledger = new LedgerRepository(owner);
    const u = await ledger.createUser(`lists-${Date.now()}@test`);
    await ledger.creditDeposit(u, 'BTC', 20_000_000n, `lists:${u}`);

    const api = service(as.cirrus_api);
    const placed = await api.placeOco(
      u,
      {
        symbol: 'BTCUSDT',
        side: 'SELL',
        quantity: '0.1',
        above: { type: 'LIMIT_MAKER', price: '31000' },
        below: { type: 'STOP_LOSS', stopPrice: '29000' },
      },
      { signature: `lists-sig-${u}`, expiresAtMs: Date.now() + 60_000 },
    );
    const lists = new OrderListRepository(as.cirrus_api);
    expect((await lists.listOpen(u)).map((l) => l.orderListId)).toEqual([placed.list.orderListId]);
    expect(await lists.legs(placed.list)).toHaveLength(2);
    await api.cancel(u, 'BTCUSDT', { orderListId: placed.list.orderListId });
    expect(await preventedMatches(as.cirrus_api, u, 'BTCUSDT', { orderId: 1, limit: 10 })).toEqual([]);
    // The API writes lists only through accept_order_list, and never releases a lock.
    await refused(as.cirrus_api, "UPDATE order_lists SET list_order_status = 'ALL_DONE'");
    await refused(as.cirrus_api, 'INSERT INTO prevented_matches SELECT * FROM prevented_matches');
    await refused(as.cirrus_api, 'SELECT release_list_lock($1)', [placed.list.orderListId]);

    // Reconciliation reads the open list lock as its legs.
    const report = await reconcile({
      pool: as.cirrus_reconciliation,
      snapshots: { loadLatest: async () => undefined },
      shards: ['shard-0'],
    });
    expect(report.conservationProblems).toEqual([]);
    expect(report.orphanLocks).toEqual([]);

    // The processor: the engine's answers, the cancel, the list's end and a prevented match.
    const events = [
      ...placed.orders.map((o) => acceptedEventOf(o, ++seq, 5)),
      ...placed.orders.map((o) =>
        ev({
          type: 'closed',
          orderId: o.orderId,
          userId: u,
          reason: 'CANCELED',
          executedQty: 0,
          cumQuote: 0,
        }),
      ),
      ev({
        type: 'prevented',
        preventedMatchId: 1,
        takerOrderId: 2,
        makerOrderId: 1,
        userId: u,
        price: 1,
        makerPreventedQuantity: 1,
        stpMode: 'EXPIRE_MAKER',
      }),
      ev({
        type: 'listStatus',
        listId: placed.list.orderListId,
        userId: u,
        listClientOrderId: placed.list.listClientOrderId,
        contingencyType: 'OCO',
        listStatusType: 'ALL_DONE',
        listOrderStatus: 'ALL_DONE',
        orderIds: placed.list.orderIds,
      }),
    ];
    const result = await new LedgerRepository(as.cirrus_processor).settleRecords([
      settlementItem(btc, {
        key: 'roles-list',
        record: { v: 1, market: 'BTCUSDT', commands: [], events },
        raw: '{}',
      }),
    ]);
    expect(result.quarantined).toEqual([]);
    expect((await lists.get(placed.list.orderListId))!.listOrderStatus).toBe('ALL_DONE');
    expect((await ledger.getBalances(u)).find((b) => b.asset === 'BTC')).toMatchObject({
      available: 20_000_000n,
      locked: 0n,
    });
    expect(await preventedMatches(as.cirrus_api, u, 'BTCUSDT', { orderId: 1, limit: 10 })).toHaveLength(1);
    // The processor cannot place a list or create one.
    await refused(as.cirrus_processor, 'INSERT INTO order_lists SELECT * FROM order_lists');
    await refused(
      as.cirrus_processor,
      "SELECT accept_order_list(NULL, 0, 1, 'BTCUSDT', 1, 'BTC', 1, '{}', '[]', '{}', 'g', 1, 1, 1, 'BTC', 0)",
    );
    // Read models, fan-out, relay, wallet, chain listener: no lists, no prevented matches.
    for (const role of [
      'cirrus_read_models',
      'cirrus_ws_fanout',
      'cirrus_relay',
      'cirrus_wallet',
      'cirrus_chain_listener',
    ] as const) {
      await refused(as[role], 'SELECT * FROM order_lists');
      await refused(as[role], 'SELECT * FROM prevented_matches');
    }
    expect((await ledger.checkConservation()).problems).toEqual([]);
  });
});
