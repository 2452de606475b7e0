// Real dependencies of the data processor, created once per container.
import { MARKETS } from '../../lib/markets';
import { TABLES } from '../../lib/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { userTradesOf } from '../shared/ledger/fills';
import { LedgerRepository } from '../shared/ledger/repository';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderStore } from '../shared/stores/orders';
import { UserTradeStore } from '../shared/stores/user-trades';
import type { UndecodableRecord } from './handler';
import { applyMarketData } from './market-data-view';
import type { ProcessorDeps } from './process-record';

type Deps = ProcessorDeps & {
  quarantineUndecodable(r: UndecodableRecord): Promise<void>;
  ledger: LedgerRepository;
};
let deps: Deps | undefined;

export async function processorDeps(): Promise<Deps> {
  if (deps) return deps;
  const db = dynamoClient();
  const ledger = new LedgerRepository(dbPool());
  const marketData = new MarketDataStore(
    db,
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  const history = new OrderStore(db, requiredEnv(TABLES.orders.envVar));
  deps = {
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    settlement: ledger,
    orderHistory: { putAll: (orders) => history.putAll(orders) },
    userTrades: new UserTradeStore(db, requiredEnv(TABLES.trades.envVar)),
    marketData: { apply: (records) => applyMarketData(marketData, records) },
    userTradesOf,
    ledger,
    quarantineUndecodable: (r) => ledger.quarantine(r.key, '?', r.raw, r.error),
  };
  return deps;
}
