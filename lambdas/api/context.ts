// What the REST handlers share, created once per container: stores, ledger, command sender, auth.
import { MARKETS } from '../../lib/markets';
import { TABLES } from '../../lib/resources';
import { ApiKeyStore } from '../shared/auth/api-keys';
import { DynamoReplayStore } from '../shared/auth/replay-store';
import type { AuthDeps } from '../shared/auth/signed-request';
import { dynamoClient, kmsClient, requiredEnv, sqsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { OrderRepository } from '../shared/ledger/order-repository';
import { LedgerRepository } from '../shared/ledger/repository';
import { SqsCommandSender } from '../shared/outbox/sqs-sender';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderStore } from '../shared/stores/orders';
import { UserTradeStore } from '../shared/stores/user-trades';
import { AnswerWaiter } from './orders/answer-waiter';
import { OrderService } from './orders/order-service';

export interface ApiContext {
  /** Live orders (PostgreSQL). */
  liveOrders: OrderRepository;
  /** Order history (DynamoDB). */
  orderHistory: OrderStore;
  userTrades: UserTradeStore;
  marketData: MarketDataStore;
  ledger: LedgerRepository;
  keys: ApiKeyStore;
  auth: AuthDeps;
  orderService: OrderService;
  answers: AnswerWaiter;
}

let ctx: ApiContext | undefined;

export function apiContext(): ApiContext {
  if (ctx) return ctx;
  const db = dynamoClient();
  const marketData = new MarketDataStore(
    db,
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  const ledger = new LedgerRepository(dbPool());
  const liveOrders = new OrderRepository(dbPool());
  const keys = new ApiKeyStore(dbPool(), kmsClient(), requiredEnv('DATA_KEY_ID'));
  ctx = {
    liveOrders,
    orderHistory: new OrderStore(db, requiredEnv(TABLES.orders.envVar)),
    userTrades: new UserTradeStore(db, requiredEnv(TABLES.trades.envVar)),
    marketData,
    ledger,
    keys,
    auth: { keys, replay: new DynamoReplayStore(db, requiredEnv(TABLES.idempotency.envVar)) },
    orderService: new OrderService({
      markets: new Map(MARKETS.map((m) => [m.symbol, m])),
      orders: liveOrders,
      sender: new SqsCommandSender(sqsClient()),
      book: {
        bestPrices: async (symbol) => {
          const book = await marketData.getBook(symbol);
          return { bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] };
        },
      },
    }),
    answers: new AnswerWaiter(liveOrders),
  };
  return ctx;
}
