import fc from 'fast-check';
import {
  assetScale,
  fee,
  formatUnits,
  lotsToBaseUnits,
  notionalToQuoteUnits,
  parseUnits,
  tryParseUnits,
} from '@lambdas/shared/money';
import {
  depositPostings,
  lockPostings,
  unlockPostings,
  tradeSettlement,
  assertBalanced,
  EXTERNAL,
  FEES,
  userAccount,
  type Posting,
} from '@lambdas/shared/ledger/postings';
import type { MarketSpec } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';

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
      'unbalanced postings in X: 1',
    );
    // One asset balanced, another not: named, with its sum.
    expect(() =>
      assertBalanced([
        { owner: 'a', asset: 'X', bucket: 'available', amount: 5n },
        { owner: 'b', asset: 'X', bucket: 'locked', amount: -5n },
        { owner: 'a', asset: 'Y', bucket: 'available', amount: -3n },
        { owner: 'b', asset: 'Y', bucket: 'available', amount: 1n },
      ]),
    ).toThrow('unbalanced postings in Y: -2');
    const balanced: Posting[] = [
      { owner: 'a', asset: 'X', bucket: 'available', amount: 7n },
      { owner: 'b', asset: 'X', bucket: 'locked', amount: -7n },
    ];
    expect(assertBalanced(balanced)).toBe(balanced);
    expect(assertBalanced([])).toEqual([]);

    expect(depositPostings(1, 'BTC', 5n)).toEqual([
      { owner: 'system:external', asset: 'BTC', bucket: 'available', amount: -5n },
      { owner: 'user:1', asset: 'BTC', bucket: 'available', amount: 5n },
    ]);
    expect(lockPostings(3, 'USDT', 40n)).toEqual([
      { owner: 'user:3', asset: 'USDT', bucket: 'available', amount: -40n },
      { owner: 'user:3', asset: 'USDT', bucket: 'locked', amount: 40n },
    ]);
    expect(unlockPostings(3, 'USDT', 40n)).toEqual([
      { owner: 'user:3', asset: 'USDT', bucket: 'available', amount: 40n },
      { owner: 'user:3', asset: 'USDT', bucket: 'locked', amount: -40n },
    ]);
    expect([EXTERNAL, FEES, userAccount(12)]).toEqual(['system:external', 'system:fee', 'user:12']);
  });

  // Maker and taker rates differ here, so a swapped rate or a swapped payee shows.
  const feeMarket: MarketSpec = { ...btc, symbol: 'FEETEST', makerFee: '0.001', takerFee: '0.002' };
  const trade = {
    price: 3_000_000, // 30,000 USDT
    quantity: 10_000, // 0.1 BTC
    makerUserId: 1,
    takerUserId: 2,
    makerOrderId: 10,
    takerOrderId: 20,
  };

  it('settles a SELL taker: the maker buys, pays quote from its lock and gets base less the maker fee', () => {
    const s = tradeSettlement(feeMarket, { ...trade, takerSide: 'SELL' });
    expect(s).toEqual({
      buyerId: 1,
      sellerId: 2,
      buyerOrderId: 10,
      sellerOrderId: 20,
      quote: 300_000_000_000n, // 3,000 USDT
      base: 10_000_000n, // 0.1 BTC
      buyerFee: 10_000n, // 0.1 % of the base (maker)
      sellerFee: 600_000_000n, // 0.2 % of the quote (taker)
      postings: [
        { owner: 'user:1', asset: 'USDT', bucket: 'locked', amount: -300_000_000_000n },
        { owner: 'user:2', asset: 'USDT', bucket: 'available', amount: 299_400_000_000n },
        { owner: 'system:fee', asset: 'USDT', bucket: 'available', amount: 600_000_000n },
        { owner: 'user:2', asset: 'BTC', bucket: 'locked', amount: -10_000_000n },
        { owner: 'user:1', asset: 'BTC', bucket: 'available', amount: 9_990_000n },
        { owner: 'system:fee', asset: 'BTC', bucket: 'available', amount: 10_000n },
      ],
    });
  });

  it('settles a BUY taker: the taker buys and pays the taker fee in base, the maker the maker fee in quote', () => {
    const s = tradeSettlement(feeMarket, { ...trade, takerSide: 'BUY' });
    expect(s).toEqual({
      buyerId: 2,
      sellerId: 1,
      buyerOrderId: 20,
      sellerOrderId: 10,
      quote: 300_000_000_000n,
      base: 10_000_000n,
      buyerFee: 20_000n,
      sellerFee: 300_000_000n,
      postings: [
        { owner: 'user:2', asset: 'USDT', bucket: 'locked', amount: -300_000_000_000n },
        { owner: 'user:1', asset: 'USDT', bucket: 'available', amount: 299_700_000_000n },
        { owner: 'system:fee', asset: 'USDT', bucket: 'available', amount: 300_000_000n },
        { owner: 'user:1', asset: 'BTC', bucket: 'locked', amount: -10_000_000n },
        { owner: 'user:2', asset: 'BTC', bucket: 'available', amount: 9_980_000n },
        { owner: 'system:fee', asset: 'BTC', bucket: 'available', amount: 20_000n },
      ],
    });
  });
});

describe('money edge cases', () => {
  it("filters written Binance-style with trailing zeros ('0.0100') mean the same as without", () => {
    const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT') as MarketSpec;
    const padded: MarketSpec = { ...btc, symbol: 'PADDED', tickSize: '0.0100', stepSize: '0.000010000' };
    const plain: MarketSpec = { ...btc, symbol: 'PLAIN', tickSize: '0.01', stepSize: '0.00001' };
    // 0.01 × 0.00001 = 1e-7 USDT = 10 minor units per tick·lot; one lot = 1,000 satoshi.
    expect(notionalToQuoteUnits(padded, 1)).toBe(10n);
    expect(notionalToQuoteUnits(padded, 3)).toBe(notionalToQuoteUnits(plain, 3));
    expect(lotsToBaseUnits(padded, 7)).toBe(lotsToBaseUnits(plain, 7));
  });

  it('knows each asset scale and refuses an unknown asset', () => {
    expect(assetScale('BTC')).toBe(8);
    expect(assetScale('USDT')).toBe(8);
    expect(() => assetScale('DOGE')).toThrow('unknown asset DOGE');
  });

  it('parses: trailing zeros are free, scale 0 takes integers, anything finer is refused', () => {
    expect(tryParseUnits('1.50', 1)).toBe(15n);
    expect(tryParseUnits('1.55', 1)).toBeNull();
    expect(tryParseUnits('7', 0)).toBe(7n);
    expect(tryParseUnits('7.000', 0)).toBe(7n);
    expect(tryParseUnits('7.1', 0)).toBeNull();
    expect(tryParseUnits('007.25', 3)).toBe(7_250n);
    expect(tryParseUnits('0', 8)).toBe(0n);
    expect(tryParseUnits('1.5x', 8)).toBeNull();
    expect(tryParseUnits('x1.5', 8)).toBeNull();
    expect(() => parseUnits('1.123', 2)).toThrow(
      '"1.123" is not a non-negative decimal with at most 2 places',
    );
  });

  it('formats every scale, sign and size', () => {
    expect(formatUnits(5n, 0)).toBe('5');
    expect(formatUnits(-5n, 0)).toBe('-5');
    expect(formatUnits(0n, 2)).toBe('0.00');
    expect(formatUnits(123n, 2)).toBe('1.23');
    expect(formatUnits(-123n, 2)).toBe('-1.23');
    expect(formatUnits(100n, 2)).toBe('1.00');
    expect(formatUnits(12_345_678_901n, 3)).toBe('12345678.901');
  });

  it('converts on every market grid, and refuses a grid finer than the ledger', () => {
    const eth = MARKETS.find((m) => m.symbol === 'ETHUSDT')!;
    expect(lotsToBaseUnits(eth, 3)).toBe(30_000n); // 3 × 0.0001 ETH
    expect(notionalToQuoteUnits(eth, 3)).toBe(300n); // 3 × 0.01 × 0.0001 USDT
    expect(lotsToBaseUnits(btc, 0)).toBe(0n);
    const whole: MarketSpec = { ...btc, symbol: 'WHOLE', tickSize: '5', stepSize: '2' };
    expect(lotsToBaseUnits(whole, 3)).toBe(600_000_000n); // 6 BTC
    expect(notionalToQuoteUnits(whole, 3)).toBe(3_000_000_000n); // 3 × 10 USDT
    // Second call, from the cache: the same answers.
    expect(lotsToBaseUnits(whole, 2)).toBe(400_000_000n);
    expect(notionalToQuoteUnits(whole, 2)).toBe(2_000_000_000n);
    // Exactly at the ledger's 8 places: allowed.
    const eightPlaces: MarketSpec = { ...btc, symbol: 'EIGHT', tickSize: '0.001', stepSize: '0.00001' };
    expect(notionalToQuoteUnits(eightPlaces, 3)).toBe(3n);
    const satoshiStep: MarketSpec = { ...btc, symbol: 'SATSTEP', tickSize: '1', stepSize: '0.00000001' };
    expect(lotsToBaseUnits(satoshiStep, 7)).toBe(7n);
    expect(notionalToQuoteUnits(satoshiStep, 7)).toBe(7n);
    const fineTick: MarketSpec = { ...btc, symbol: 'FINETICK', tickSize: '0.0001', stepSize: '0.00001' };
    expect(() => notionalToQuoteUnits(fineTick, 1)).toThrow(
      'FINETICK: tickSize × stepSize is finer than the USDT ledger scale',
    );
    // (A step finer than the base asset's scale is caught by the product check first: every asset has scale 8.)
    const fineStep: MarketSpec = { ...btc, symbol: 'FINESTEP', tickSize: '1', stepSize: '0.000000001' };
    expect(() => lotsToBaseUnits(fineStep, 1)).toThrow('FINESTEP: tickSize × stepSize is finer');
    const badStep: MarketSpec = { ...btc, symbol: 'BADSTEP', tickSize: '1', stepSize: '1e-3' };
    expect(() => lotsToBaseUnits(badStep, 1)).toThrow();
  });

  it('takes fees rounded down at any decimal rate, and refuses a malformed rate', () => {
    expect(fee(10_000n, '0.0015')).toBe(15n);
    expect(fee(3n, '0.25')).toBe(0n);
    expect(fee(4n, '0.25')).toBe(1n);
    expect(fee(7n, '1')).toBe(7n);
    expect(fee(7n, '0')).toBe(0n);
    expect(fee(1_999n, '0.001')).toBe(1n);
    expect(() => fee(1n, '-0.1')).toThrow('bad fee rate -0.1');
    expect(() => fee(1n, '0.1%')).toThrow('bad fee rate 0.1%');
  });
});
