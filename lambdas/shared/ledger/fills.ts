// Both legs of a trade as the users see them, commission in the asset each received (docs/api.md). Used
// for the users' trade history (data processor) and the fills of a FULL order response (API).
import type { MarketSpec, TradeEvent } from '../../../engine/core/types';
import { fee, lotsToBaseUnits, notionalToQuoteUnits } from '../money';
import type { UserTradeRecord } from '../stores/user-trades';

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
  const base = lotsToBaseUnits(market, t.quantity);
  const quote = notionalToQuoteUnits(market, t.price * t.quantity);
  const leg = (isMaker: boolean): UserTradeRecord => {
    const isBuyer = isMaker ? t.takerSide === 'SELL' : t.takerSide === 'BUY';
    const rate = isMaker ? market.makerFee : market.takerFee;
    return {
      userId: isMaker ? t.makerUserId : t.takerUserId,
      symbol: market.symbol,
      tradeId: t.tradeId,
      orderId: isMaker ? t.makerOrderId : t.takerOrderId,
      priceTicks: t.price,
      qtyLots: t.quantity,
      quoteTL: t.price * t.quantity,
      commission: (isBuyer ? fee(base, rate) : fee(quote, rate)).toString(),
      commissionAsset: isBuyer ? market.baseAsset : market.quoteAsset,
      time: t.ts,
      isBuyer,
      isMaker,
    };
  };
  return [leg(true), leg(false)];
}
