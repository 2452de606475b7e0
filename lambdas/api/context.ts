// What the REST handlers share, created once per container: stores, ledger, command sender, auth.
import { MARKETS } from '../../lib/markets';
import { TABLES } from '../../lib/resources';
import { ApiKeyStore } from '../shared/auth/api-keys';
import { DynamoReplayStore } from '../shared/auth/replay-store';
import type { AuthDeps } from '../shared/auth/signed-request';
import { z } from 'zod';
import { dynamoClient, kmsClient, requiredEnv, sqsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { loadReporter } from '../shared/http/load-reporter';
import { BackgroundValue, OrderAdmission } from '../shared/http/load-shedding';
import { oldestUnappliedSeconds } from '../shared/outbox/relay';
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
  /** Load shedding of order placement (docs/operations.md#overload-and-rate-limits). */
  admission: OrderAdmission;
}

/** Shedding thresholds, read once per container. */
const sheddingConfig = z
  .object({
    SHED_MAX_PENDING_ORDERS: z.coerce.number().int().positive().default(64),
    SHED_MAX_DB_WAITING: z.coerce.number().int().positive().default(128),
    SHED_MAX_BACKLOG_SECONDS: z.coerce.number().positive().default(5),
  })
  .parse(process.env);

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
  const backlog = new BackgroundValue(() => oldestUnappliedSeconds(dbPool()), 1_000);
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
    admission: new OrderAdmission(
      {
        maxPendingOrders: sheddingConfig.SHED_MAX_PENDING_ORDERS,
        maxDbWaiting: sheddingConfig.SHED_MAX_DB_WAITING,
        maxBacklogSeconds: sheddingConfig.SHED_MAX_BACKLOG_SECONDS,
      },
      {
        dbWaiting: () => dbPool().waitingCount,
        backlogSeconds: () => backlog.get(),
      },
      (reason) => loadReporter.shed(reason),
    ),
  };
  return ctx;
}
