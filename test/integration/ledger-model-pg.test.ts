// The ledger on a real PostgreSQL against the simple model (test/property/ledger-model.ts): random orders
// through the real engine, each order's lock taken by lockForOrder, its trades settled by settleTrade (the
// settle_trade function), its close released by releaseOrderLock (release_order_lock: the leftover is
// computed in SQL); afterwards every user's exact available and locked balance per asset, and the fee
// account's growth, must be what the model computes. A smaller run than the pure one
// (test/unit/ledger-model.test.ts): fresh users per run, one server for the file.
import fc from 'fast-check';
import { Pool } from 'pg';
import { migrate } from '@contracts/migrations';
import { FEES } from '@lambdas/shared/ledger/postings';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { DEPOSIT, MODEL_MARKET, USERS, ledgerSteps, model, modelOps } from '../property/ledger-model';
import { startPostgres, type TestPostgres } from '../support/postgres';

let pg: TestPostgres;
let pool: Pool;
let ledger: LedgerRepository;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: pg.url, max: 4 });
  await migrate(pool);
  ledger = new LedgerRepository(pool);
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

async function feeBalances(): Promise<{ USDT: bigint; BTC: bigint }> {
  const res = await pool.query<{ asset: string; available: string }>(
    'SELECT asset, available FROM accounts WHERE owner = $1',
    [FEES],
  );
  const of = (asset: string) => BigInt(res.rows.find((r) => r.asset === asset)?.available ?? 0);
  return { USDT: of('USDT'), BTC: of('BTC') };
}

describe('ledger on PostgreSQL against the model', () => {
  it('every user ends with exactly the balances the model computes', async () => {
    let run = 0;
    let nextOrder = 1;
    const totals = { buyTakers: 0, sellTakers: 0, partialReleases: 0 };
    await fc.assert(
      fc.asyncProperty(modelOps(25), async (ops) => {
        run++;
        const userIds: number[] = [];
        for (let i = 0; i < USERS; i++) {
          const id = await ledger.createUser(`model-${run}-${i}@test`);
          for (const [asset, amount] of Object.entries(DEPOSIT))
            await ledger.creditDeposit(id, asset, amount, `model:${id}:${asset}`);
          userIds.push(id);
        }
        const steps = ledgerSteps(ops, userIds, nextOrder);
        nextOrder += ops.length;
        const expected = model(steps, userIds);
        const feesBefore = await feeBalances();
        for (const step of steps) {
          if (step.kind === 'lock') {
            const { order } = step;
            const locked = await ledger.lockForOrder({
              orderId: order.orderId,
              userId: userIds[order.user],
              market: MODEL_MARKET.symbol,
              asset: order.asset,
              amount: order.amount,
              maxOpenOrders: 1_000,
            });
            expect(locked).toBe('locked');
          } else if (step.kind === 'trade') {
            // Trade ids restart with each engine: keep them unique per market across runs.
            const trade = { ...step.trade, tradeId: run * 1_000 + step.trade.tradeId };
            expect(await ledger.settleTrade(MODEL_MARKET, trade)).toBe(true);
          } else {
            await ledger.releaseOrderLock(step.orderId);
          }
        }
        for (const [i, id] of userIds.entries()) {
          const balances = await ledger.getBalances(id);
          for (const asset of ['USDT', 'BTC'] as const) {
            const b = balances.find((x) => x.asset === asset)!;
            expect({ user: i, asset, available: b.available, locked: b.locked }).toEqual({
              user: i,
              asset,
              ...expected.users[i][asset],
            });
          }
        }
        const feesAfter = await feeBalances();
        expect({ USDT: feesAfter.USDT - feesBefore.USDT, BTC: feesAfter.BTC - feesBefore.BTC }).toEqual(
          expected.fees,
        );
        totals.buyTakers += expected.seen.buyTakers;
        totals.sellTakers += expected.seen.sellTakers;
        totals.partialReleases += expected.seen.partialReleases;
      }),
      { numRuns: 15, seed: 20261126 },
    );
    expect(totals.buyTakers).toBeGreaterThan(5);
    expect(totals.sellTakers).toBeGreaterThan(5);
    expect(totals.partialReleases).toBeGreaterThan(3);
    expect((await ledger.checkConservation()).ok).toBe(true);
  });
});
