// Markets and assets Cirrus lists by default. Plain data shared by the CDK app (engine shards),
// the local runtime (seeding) and the handlers (exchangeInfo, filters, fees).
import type { MarketSpec } from '@engine/core/types';

export interface AssetSpec {
  symbol: string;
  /** Decimal places of the ledger's integer minor unit (bigint in code, NUMERIC(38,0) in PostgreSQL). */
  ledgerScale: number;
}

export const ASSETS: AssetSpec[] = [
  { symbol: 'BTC', ledgerScale: 8 },
  { symbol: 'ETH', ledgerScale: 8 },
  { symbol: 'USDT', ledgerScale: 8 },
];

// tickSize × stepSize must be a whole number of quote minor units, so that every notional
// (ticks × lots) converts exactly into the ledger.
export const MARKETS: MarketSpec[] = [
  {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    minPrice: '0.01',
    maxPrice: '1000000',
    stepSize: '0.00001',
    minQty: '0.00001',
    maxQty: '9000',
    minNotional: '5',
    maxIcebergParts: 100,
    makerFee: '0.001',
    takerFee: '0.001',
  },
  {
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    minPrice: '0.01',
    maxPrice: '1000000',
    stepSize: '0.0001',
    minQty: '0.0001',
    maxQty: '90000',
    minNotional: '5',
    maxIcebergParts: 100,
    makerFee: '0.001',
    takerFee: '0.001',
  },
];
