// Real dependencies of the data processor, created once per container.
import { MARKETS } from '../../lib/markets';
import { TABLES } from '../../lib/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { LedgerRepository } from '../shared/ledger/repository';
import { fee, lotsToBaseUnits, notionalToQuoteUnits } from '../shared/money';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderStore } from '../shared/stores/orders';
import { UserTradeStore, type UserTradeRecord } from '../shared/stores/user-trades';
import { applyMarketData } from './market-data-view';
import type { ProcessorDeps } from './process-record';
import type { MarketSpec, TradeEvent } from '../../engine/core/types';

let deps: ProcessorDeps | undefined;

/** Both legs of a trade as the users see them, commission in the asset each received (DESIGN §5). */
export function userTradesOf(market: MarketSpec, t: TradeEvent): UserTradeRecord[] {
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

export async function processorDeps(): Promise<ProcessorDeps> {
  if (deps) return deps;
  const db = dynamoClient();
  const ledger = new LedgerRepository(dbPool());
  const marketData = new MarketDataStore(
    db,
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  deps = {
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    ledger: {
      settleTrade: async (market, trade) => void (await ledger.settleTrade(market, trade)),
      releaseOrderLock: (orderId) => ledger.releaseOrderLock(orderId),
    },
    orders: new OrderStore(db, requiredEnv(TABLES.orders.envVar)),
    userTrades: new UserTradeStore(db, requiredEnv(TABLES.trades.envVar)),
    marketData: { apply: (records) => applyMarketData(marketData, records) },
    userTradesOf,
  };
  return deps;
}
