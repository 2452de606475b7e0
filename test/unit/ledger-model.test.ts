// The ledger's pure rules (lambdas/shared/ledger/postings.ts, lambdas/shared/money.ts) against a simple
// model (test/property/ledger-model.ts): random orders through the real engine, both taker sides, partial
// fills and leftover locks; after every run each user's available and locked balance in each asset, and the
// fee account, must be exactly what the model says. The PostgreSQL run is test/integration/ledger-model-pg.
import fc from 'fast-check';
import { lotsToBaseUnits, notionalToQuoteUnits } from '@lambdas/shared/money';
import {
  depositPostings,
  lockPostings,
  tradeSettlement,
  unlockPostings,
  type Posting,
} from '@lambdas/shared/ledger/postings';
import {
  DEPOSIT,
  MODEL_MARKET,
  USERS,
  ledgerSteps,
  model,
  modelOps,
  type LedgerStep,
} from '../property/ledger-model';
import { profile } from '../property/profile';

const RUNS = profile(200, 40);
const userIds = Array.from({ length: USERS }, (_, i) => 101 + i);

/** The ledger as the posting builders move it: balances by owner/asset/bucket, locks left per order. */
function post(steps: LedgerStep[]): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  const apply = (postings: Posting[]) => {
    let sum = 0n;
    for (const p of postings) {
      const key = `${p.owner}/${p.asset}/${p.bucket}`;
      balances.set(key, (balances.get(key) ?? 0n) + p.amount);
      sum += p.amount;
    }
    return sum;
  };
  for (const id of userIds)
    for (const [asset, amount] of Object.entries(DEPOSIT)) apply(depositPostings(id, asset, amount));
  const locks = new Map<number, { userId: number; asset: string; left: bigint }>();
  for (const step of steps) {
    if (step.kind === 'lock') {
      const { order } = step;
      // The lock the order API takes (plan-order.ts): price × quantity of quote, or the base quantity.
      const userId = userIds[order.user];
      apply(lockPostings(userId, order.asset, order.amount));
      locks.set(order.orderId, { userId, asset: order.asset, left: order.amount });
    } else if (step.kind === 'trade') {
      const s = tradeSettlement(MODEL_MARKET, step.trade);
      apply(s.postings);
      // The settlement says which order paid what: the locks shrink by that.
      locks.get(s.buyerOrderId)!.left -= s.quote;
      locks.get(s.sellerOrderId)!.left -= s.base;
    } else {
      const lock = locks.get(step.orderId)!;
      if (lock.left > 0n) apply(unlockPostings(lock.userId, lock.asset, lock.left));
      lock.left = 0n;
    }
  }
  return balances;
}

describe('ledger postings against the model', () => {
  it('every user ends with exactly the balances the model computes (both taker sides, leftover locks)', () => {
    const totals = { buyTakers: 0, sellTakers: 0, partialReleases: 0, fullReleases: 0 };
    fc.assert(
      fc.property(modelOps(40), (ops) => {
        const steps = ledgerSteps(ops, userIds, 1);
        const expected = model(steps, userIds);
        const ledger = post(steps);
        const get = (key: string) => ledger.get(key) ?? 0n;
        userIds.forEach((id, i) => {
          for (const asset of ['USDT', 'BTC'] as const) {
            expect({
              user: id,
              asset,
              available: get(`user:${id}/${asset}/available`),
              locked: get(`user:${id}/${asset}/locked`),
            }).toEqual({
              user: id,
              asset,
              ...expected.users[i][asset],
            });
          }
        });
        expect(get('system:fee/USDT/available')).toBe(expected.fees.USDT);
        expect(get('system:fee/BTC/available')).toBe(expected.fees.BTC);
        // Every lock released once its order closed: the locks still held are the resting orders'.
        for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += expected.seen[k];
      }),
      { numRuns: RUNS, seed: 20261125 },
    );
    // The runs did what the test is about.
    expect(totals.buyTakers).toBeGreaterThan(RUNS / 4);
    expect(totals.sellTakers).toBeGreaterThan(RUNS / 4);
    expect(totals.partialReleases).toBeGreaterThan(RUNS / 10);
    expect(totals.fullReleases).toBeGreaterThan(RUNS / 40);
  });

  it('the model agrees with the unit conversions it writes out by hand', () => {
    // The model's constants are BTCUSDT's grid; if the market changed, the model must be updated.
    expect(lotsToBaseUnits(MODEL_MARKET, 1)).toBe(1_000n);
    expect(notionalToQuoteUnits(MODEL_MARKET, 1)).toBe(10n);
  });

  it('a hand-checked run: a BUY taker filled at a better price gets its leftover lock back', () => {
    // u0 rests SELL 20 lots at 3,000,000 ticks; u1 BUYs 30 lots at 3,000,010 (IOC): 20 lots trade at the
    // maker's price, the rest expires; u1's lock was 30 × 3,000,010 × 10 and 20 × 3,000,000 × 10 was spent.
    const steps = ledgerSteps(
      [
        { kind: 'order', user: 0, side: 'SELL', price: 3_000_000, lots: 20, tif: 'GTC' },
        { kind: 'order', user: 1, side: 'BUY', price: 3_000_010, lots: 30, tif: 'IOC' },
      ],
      userIds,
      1,
    );
    const m = model(steps, userIds);
    const quote = 20n * 3_000_000n * 10n; // 600,000,000 units = 6 USDT
    expect(m.users[1].USDT).toEqual({ available: DEPOSIT.USDT - quote, locked: 0n });
    expect(m.users[1].BTC).toEqual({ available: DEPOSIT.BTC + 20_000n - 40n, locked: 0n }); // taker 0.2 %
    expect(m.users[0].USDT).toEqual({ available: DEPOSIT.USDT + quote - 600_000n, locked: 0n }); // maker 0.1 %
    expect(m.users[0].BTC).toEqual({ available: DEPOSIT.BTC - 20_000n, locked: 0n });
    expect(m.fees).toEqual({ USDT: 600_000n, BTC: 40n });
    const ledger = post(steps);
    expect(ledger.get('user:102/USDT/available')).toBe(DEPOSIT.USDT - quote);
    expect(ledger.get('user:102/USDT/locked')).toBe(0n);
    expect(ledger.get('user:101/USDT/available')).toBe(DEPOSIT.USDT + quote - 600_000n);
    expect(ledger.get('system:fee/BTC/available')).toBe(40n);
  });
});
