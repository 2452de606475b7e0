// Double-entry postings (docs/architecture.md#invariants): every movement is a set of entries that sums to zero per asset.
// Pure: the repository applies them inside one PostgreSQL transaction.
import type { MarketSpec, Side } from '@engine/core/types';
import { fee, lotsToBaseUnits, notionalToQuoteUnits } from '../money';

export type Bucket = 'available' | 'locked';

export interface Posting {
  owner: string;
  asset: string;
  bucket: Bucket;
  amount: bigint;
}

export const EXTERNAL = 'system:external';
export const FEES = 'system:fee';
export const userAccount = (userId: number): string => `user:${userId}`;

/** Throws unless the postings sum to zero for every asset. */
export function assertBalanced(postings: Posting[]): Posting[] {
  const sums = new Map<string, bigint>();
  for (const p of postings) sums.set(p.asset, (sums.get(p.asset) ?? 0n) + p.amount);
  for (const [asset, sum] of sums) if (sum !== 0n) throw new Error(`unbalanced postings in ${asset}: ${sum}`);
  return postings;
}

export function depositPostings(userId: number, asset: string, amount: bigint): Posting[] {
  return assertBalanced([
    { owner: EXTERNAL, asset, bucket: 'available', amount: -amount },
    { owner: userAccount(userId), asset, bucket: 'available', amount },
  ]);
}

export function lockPostings(userId: number, asset: string, amount: bigint): Posting[] {
  return assertBalanced([
    { owner: userAccount(userId), asset, bucket: 'available', amount: -amount },
    { owner: userAccount(userId), asset, bucket: 'locked', amount },
  ]);
}

export function unlockPostings(userId: number, asset: string, amount: bigint): Posting[] {
  return lockPostings(userId, asset, -amount);
}

export interface TradeSettlement {
  buyerId: number;
  sellerId: number;
  buyerOrderId: number;
  sellerOrderId: number;
  /** Quote paid by the buyer (from its lock) and base delivered by the seller (from its lock). */
  quote: bigint;
  base: bigint;
  /** Fees in the asset each side receives. */
  buyerFee: bigint;
  sellerFee: bigint;
  postings: Posting[];
}

/** Settles one trade: the buyer's locked quote pays the seller, the seller's locked base goes to the buyer. */
export function tradeSettlement(
  market: MarketSpec,
  t: {
    price: number;
    quantity: number;
    takerSide: Side;
    makerUserId: number;
    takerUserId: number;
    makerOrderId: number;
    takerOrderId: number;
  },
): TradeSettlement {
  const takerBuys = t.takerSide === 'BUY';
  const buyerId = takerBuys ? t.takerUserId : t.makerUserId;
  const sellerId = takerBuys ? t.makerUserId : t.takerUserId;
  const quote = notionalToQuoteUnits(market, t.price * t.quantity);
  const base = lotsToBaseUnits(market, t.quantity);
  const buyerFee = fee(base, takerBuys ? market.takerFee : market.makerFee);
  const sellerFee = fee(quote, takerBuys ? market.makerFee : market.takerFee);
  const { baseAsset, quoteAsset } = market;
  return {
    buyerId,
    sellerId,
    buyerOrderId: takerBuys ? t.takerOrderId : t.makerOrderId,
    sellerOrderId: takerBuys ? t.makerOrderId : t.takerOrderId,
    quote,
    base,
    buyerFee,
    sellerFee,
    postings: assertBalanced([
      { owner: userAccount(buyerId), asset: quoteAsset, bucket: 'locked', amount: -quote },
      { owner: userAccount(sellerId), asset: quoteAsset, bucket: 'available', amount: quote - sellerFee },
      { owner: FEES, asset: quoteAsset, bucket: 'available', amount: sellerFee },
      { owner: userAccount(sellerId), asset: baseAsset, bucket: 'locked', amount: -base },
      { owner: userAccount(buyerId), asset: baseAsset, bucket: 'available', amount: base - buyerFee },
      { owner: FEES, asset: baseAsset, bucket: 'available', amount: buyerFee },
    ]),
  };
}
