import fc from 'fast-check';
import {
  fee,
  formatUnits,
  lotsToBaseUnits,
  notionalToQuoteUnits,
  parseUnits,
  tryParseUnits,
} from '../../lambdas/shared/money';
import {
  depositPostings,
  lockPostings,
  tradeSettlement,
  assertBalanced,
} from '../../lambdas/shared/ledger/postings';
import { MARKETS } from '../../lib/markets';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;

describe('money', () => {
  it('parses and formats exactly, refusing what is not a plain decimal', () => {
    expect(parseUnits('1.5', 8)).toBe(150_000_000n);
    expect(parseUnits('0.00000001', 8)).toBe(1n);
    expect(parseUnits('2.10000000000', 8)).toBe(210_000_000n); // trailing zeros beyond the scale are fine
    for (const bad of ['1e3', '-1', '1.000000001', '', '.5', '1.', ' 1', '0x10'])
      expect(tryParseUnits(bad, 8)).toBeNull();
    expect(formatUnits(150_000_000n, 8)).toBe('1.50000000');
    expect(formatUnits(-5n, 8)).toBe('-0.00000005');
  });

  it('round-trips any amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (n) =>
        expect(parseUnits(formatUnits(n, 8), 8)).toBe(n),
      ),
    );
  });

  it('converts engine integers into ledger units exactly', () => {
    expect(lotsToBaseUnits(btc, 1)).toBe(1_000n); // 0.00001 BTC
    expect(notionalToQuoteUnits(btc, 1)).toBe(10n); // 0.01 × 0.00001 USDT
    expect(fee(1_000_000n, '0.001')).toBe(1_000n);
    expect(fee(999n, '0.001')).toBe(0n); // rounded down
  });

  it('postings balance for every movement, and a trade pays fees in the asset received', () => {
    expect(() => assertBalanced([{ owner: 'a', asset: 'X', bucket: 'available', amount: 1n }])).toThrow(
      /unbalanced/,
    );
    depositPostings(1, 'BTC', 5n);
    lockPostings(1, 'BTC', 5n);
    const s = tradeSettlement(btc, {
      price: 3_000_000,
      quantity: 10_000,
      takerSide: 'SELL',
      makerUserId: 1,
      takerUserId: 2,
      makerOrderId: 10,
      takerOrderId: 20,
    });
    expect(s).toMatchObject({
      buyerId: 1,
      sellerId: 2,
      buyerOrderId: 10,
      sellerOrderId: 20,
      quote: 300_000_000_000n,
      base: 10_000_000n,
      buyerFee: 10_000n,
      sellerFee: 300_000_000n,
    });
  });
});
