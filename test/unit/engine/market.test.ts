// Decimal strings ↔ the engine's integers (engine/core/market.ts): exact, on the grid, within the filters.
import {
  lotsToQty,
  notionalToQuote,
  priceToTicks,
  qtyToLots,
  quoteToNotional,
  rulesFromSpec,
  ticksToPrice,
} from '@engine/core/market';
import type { MarketSpec } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const spec = (over: Partial<MarketSpec>): MarketSpec => ({ ...btc, symbol: 'X', ...over });

describe('market rules from a spec', () => {
  it('puts BTCUSDT on its grid', () => {
    expect(rulesFromSpec(btc)).toEqual({
      symbol: 'BTCUSDT',
      minPriceTicks: 1, // 0.01
      maxPriceTicks: 100_000_000, // 1,000,000 / 0.01
      minQtyLots: 1, // 0.00001
      maxQtyLots: 900_000_000, // 9,000 / 0.00001
      minNotional: 50_000_000, // 5 USDT / (0.01 × 0.00001)
      maxIcebergParts: 100,
    });
  });

  it('floors the maxima, rounds the minimum notional up, and keeps minima at least one unit', () => {
    expect(
      rulesFromSpec(
        spec({
          minPrice: '0',
          maxPrice: '100.005',
          minQty: '0.00',
          maxQty: '2.000019',
          minNotional: '0.00000015',
          maxIcebergParts: 7,
        }),
      ),
    ).toEqual({
      symbol: 'X',
      minPriceTicks: 1,
      maxPriceTicks: 10_000,
      minQtyLots: 1,
      maxQtyLots: 200_001,
      minNotional: 2, // 1.5 tick·lots, rounded up
      maxIcebergParts: 7,
    });
    expect(
      rulesFromSpec(spec({ minPrice: '0.05', minQty: '0.0003', minNotional: '0.0000003' })),
    ).toMatchObject({
      minPriceTicks: 5,
      minQtyLots: 30,
      minNotional: 3, // exact: not rounded up further
    });
    expect(rulesFromSpec(spec({ tickSize: '5', minPrice: '10', maxPrice: '1000' }))).toMatchObject({
      minPriceTicks: 2,
      maxPriceTicks: 200,
    });
  });

  it('refuses minima off the grid and malformed numbers, naming them', () => {
    expect(() => rulesFromSpec(spec({ minPrice: '0.015' }))).toThrow(
      'market X: minPrice/minQty off the grid',
    );
    expect(() => rulesFromSpec(spec({ minQty: '0.000015' }))).toThrow(
      'market X: minPrice/minQty off the grid',
    );
    expect(() => rulesFromSpec(spec({ tickSize: 'abc' }))).toThrow(
      'market definition: tickSize "abc" is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ stepSize: '1e-5' }))).toThrow(
      'market definition: stepSize "1e-5" is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ minPrice: '-1' }))).toThrow(
      'market definition: minPrice "-1" is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ minQty: '' }))).toThrow(
      'market definition: minQty "" is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ maxPrice: 'x' }))).toThrow(
      'market definition: maxPrice "x" is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ maxQty: '1.' }))).toThrow(
      'market definition: maxQty "1." is not a decimal',
    );
    expect(() => rulesFromSpec(spec({ minNotional: '.5' }))).toThrow(
      'market definition: minNotional ".5" is not a decimal',
    );
  });
});

describe('decimal strings to ticks, lots and notionals', () => {
  it('prices: exact ticks within [minPrice, maxPrice], null otherwise', () => {
    expect(priceToTicks(btc, '30000')).toBe(3_000_000);
    expect(priceToTicks(btc, '30000.5')).toBe(3_000_050);
    expect(priceToTicks(btc, '30000.120')).toBe(3_000_012);
    expect(priceToTicks(btc, '0.01')).toBe(1);
    expect(priceToTicks(btc, '1000000')).toBe(100_000_000);
    for (const bad of [
      '30000.001',
      '0',
      '0.00',
      '1000000.01',
      'abc',
      '1e3',
      '-1',
      '',
      '99999999999999999999',
    ])
      expect([bad, priceToTicks(btc, bad)]).toEqual([bad, null]);
    // Above 2^53 ticks: null even where the market would allow it.
    expect(priceToTicks(spec({ maxPrice: '1000000000000000000' }), '900719925474099.2')).toBeNull();
    expect(priceToTicks(spec({ maxPrice: '1000000000000000000' }), '90071992547409.91')).toBe(
      9_007_199_254_740_991,
    );
  });

  it('quantities: exact lots within [minQty, maxQty], null otherwise', () => {
    expect(qtyToLots(btc, '0.5')).toBe(50_000);
    expect(qtyToLots(btc, '0.00001')).toBe(1);
    expect(qtyToLots(btc, '9000')).toBe(900_000_000);
    for (const bad of ['0.000001', '0', '9000.00001', '', 'x', '1e2', '99999999999999999999'])
      expect([bad, qtyToLots(btc, bad)]).toEqual([bad, null]);
    expect(qtyToLots(spec({ minQty: '0.001' }), '0.00099')).toBeNull();
    expect(qtyToLots(spec({ minQty: '0.001' }), '0.001')).toBe(100);
    expect(qtyToLots(spec({ maxQty: '1000000000000' }), '92233720368.54776')).toBeNull(); // > 2^53 lots
  });

  it('quote amounts: whole tick·lots, rounded down; null if malformed or beyond 2^53', () => {
    expect(quoteToNotional(btc, '100')).toBe(1_000_000_000);
    expect(quoteToNotional(btc, '0.00000015')).toBe(1);
    expect(quoteToNotional(btc, '0.00000009')).toBe(0);
    expect(quoteToNotional(btc, '0.0000001')).toBe(1);
    expect(quoteToNotional(btc, 'x')).toBeNull();
    expect(quoteToNotional(btc, '900719925.4740991')).toBe(9_007_199_254_740_991);
    expect(quoteToNotional(btc, '900719925.4740992')).toBeNull();
  });

  it('and back: every place the grid has, signs kept', () => {
    expect(ticksToPrice(btc, 3_000_000)).toBe('30000.00');
    expect(ticksToPrice(btc, 1)).toBe('0.01');
    expect(ticksToPrice(btc, 0)).toBe('0.00');
    expect(ticksToPrice(btc, -5)).toBe('-0.05');
    expect(ticksToPrice(spec({ tickSize: '5' }), 3)).toBe('15');
    expect(ticksToPrice(spec({ tickSize: '0.5' }), 3)).toBe('1.5');
    expect(lotsToQty(btc, 50_000)).toBe('0.50000');
    expect(lotsToQty(btc, 123_456_789)).toBe('1234.56789');
    expect(lotsToQty(spec({ stepSize: '1' }), 7)).toBe('7');
    expect(notionalToQuote(btc, 1)).toBe('0.0000001');
    expect(notionalToQuote(btc, 1_000_000_000)).toBe('100.0000000');
    expect(notionalToQuote(spec({ tickSize: '2', stepSize: '3' }), 5)).toBe('30');
    expect(lotsToQty(spec({ stepSize: '0.05' }), 3)).toBe('0.15');
    expect(ticksToPrice(spec({ tickSize: '0.25' }), 3)).toBe('0.75');
  });

  it('names a malformed tick or step size in every conversion', () => {
    const badTick = spec({ tickSize: 'abc' });
    const badStep = spec({ stepSize: 'x' });
    const tick = 'market definition: tickSize "abc" is not a decimal';
    const step = 'market definition: stepSize "x" is not a decimal';
    expect(() => priceToTicks(badTick, '1')).toThrow(tick);
    expect(() => ticksToPrice(badTick, 1)).toThrow(tick);
    expect(() => quoteToNotional(badTick, '1')).toThrow(tick);
    expect(() => notionalToQuote(badTick, 1)).toThrow(tick);
    expect(() => qtyToLots(badStep, '1')).toThrow(step);
    expect(() => lotsToQty(badStep, 1)).toThrow(step);
    expect(() => quoteToNotional(badStep, '1')).toThrow(step);
    expect(() => notionalToQuote(badStep, 1)).toThrow(step);
  });
});
