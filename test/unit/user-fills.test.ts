// The users' fills (trade history, FULL order responses) must show exactly the fees the ledger posts.
import fc from 'fast-check';
import { userTradesOf } from '@lambdas/shared/ledger/fills';
import { FEES, tradeSettlement, userAccount } from '@lambdas/shared/ledger/postings';
import { MARKETS } from '@contracts/markets';

const rate = fc.integer({ min: 0, max: 20_000 }).map((n) => `0.${String(n).padStart(6, '0')}`);

describe('userTradesOf', () => {
  it('reports the commission and asset the ledger posts, for every leg', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MARKETS),
        rate,
        rate,
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('BUY' as const, 'SELL' as const),
        (m, makerFee, takerFee, price, quantity, takerSide) => {
          const market = { ...m, makerFee, takerFee };
          const t = {
            tradeId: 7,
            price,
            quantity,
            takerSide,
            ts: 1,
            makerOrderId: 11,
            takerOrderId: 12,
            makerUserId: 1,
            takerUserId: 2,
          };
          const posted = tradeSettlement(market, t).postings;
          const legs = userTradesOf(market, t);
          expect(legs.map((l) => l.isMaker)).toEqual([true, false]);
          for (const leg of legs) {
            const asset = leg.isBuyer ? market.baseAsset : market.quoteAsset;
            expect(leg.commissionAsset).toBe(asset);
            // Users are distinct, so the fee account's posting in the received asset is this leg's fee.
            const toFees = posted.find((p) => p.owner === FEES && p.asset === asset)!;
            expect(leg.commission).toBe(toFees.amount.toString());
            // And the user's credit is what it received less that commission.
            const credit = posted.find(
              (p) => p.owner === userAccount(leg.userId) && p.asset === asset && p.bucket === 'available',
            )!;
            const gross = leg.isBuyer ? tradeSettlement(market, t).base : tradeSettlement(market, t).quote;
            expect(credit.amount).toBe(gross - BigInt(leg.commission));
          }
        },
      ),
    );
  });
});
