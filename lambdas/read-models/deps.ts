// Real dependencies of the read-model projector, created once per container.
import { MARKETS } from '@contracts/markets';
import { TABLES } from '@contracts/resources';
import { applyMarketData } from '../data-processor/market-data-view';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { userTradesOf } from '../shared/ledger/fills';
import { OrderRepository } from '../shared/ledger/order-repository';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderStore } from '../shared/stores/orders';
import { UserTradeStore } from '../shared/stores/user-trades';
import type { ReadModelDeps } from './project';

let deps: ReadModelDeps | undefined;

export async function readModelDeps(): Promise<ReadModelDeps> {
  if (deps) return deps;
  const db = dynamoClient();
  const marketData = new MarketDataStore(
    db,
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  const history = new OrderStore(db, requiredEnv(TABLES.orders.envVar));
  const orders = new OrderRepository(dbPool());
  deps = {
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    orderRows: (ids) => orders.getMany(ids),
    orderHistory: { putAll: (o) => history.putAll(o) },
    userTrades: new UserTradeStore(db, requiredEnv(TABLES.trades.envVar)),
    marketData: { apply: (records) => applyMarketData(marketData, records) },
    userTradesOf,
  };
  return deps;
}
