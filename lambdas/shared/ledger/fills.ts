// Both legs of a trade as the users see them, commission in the asset each received (docs/api.md). Used
// for the users' trade history (data processor) and the fills of a FULL order response (API).
// Amounts and fees come from tradeSettlement so that what a user is shown is what the ledger posted.
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import type { UserTradeRecord } from '../stores/user-trades';
import { tradeSettlement } from './postings';

export type TradeFacts = Pick<
  TradeEvent,
  | 'tradeId'
  | 'price'
  | 'quantity'
  | 'takerSide'
  | 'ts'
  | 'makerOrderId'
  | 'takerOrderId'
  | 'makerUserId'
  | 'takerUserId'
>;

export function userTradesOf(market: MarketSpec, t: TradeFacts): UserTradeRecord[] {
  const settled = tradeSettlement(market, t);
  const leg = (isMaker: boolean): UserTradeRecord => {
    const isBuyer = isMaker ? t.takerSide === 'SELL' : t.takerSide === 'BUY';
    return {
      userId: isMaker ? t.makerUserId : t.takerUserId,
      symbol: market.symbol,
      tradeId: t.tradeId,
      orderId: isMaker ? t.makerOrderId : t.takerOrderId,
      priceTicks: t.price,
      qtyLots: t.quantity,
      quoteTL: t.price * t.quantity,
      // The buyer pays its fee in the base it receives, the seller in quote.
      commission: (isBuyer ? settled.buyerFee : settled.sellerFee).toString(),
      commissionAsset: isBuyer ? market.baseAsset : market.quoteAsset,
      time: t.ts,
      isBuyer,
      isMaker,
    };
  };
  return [leg(true), leg(false)];
}
