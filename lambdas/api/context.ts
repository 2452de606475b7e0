// What the REST handlers share, created once per container: stores, ledger, command sender, auth.
import { MARKETS } from '@contracts/markets';
import { TABLES } from '@contracts/resources';
import { ApiKeyStore } from '../shared/auth/api-keys';
import { DynamoReplayStore } from '../shared/auth/replay-store';
import type { AuthDeps } from '../shared/auth/signed-request';
import { z } from 'zod';
import { dynamoClient, kmsClient, requiredEnv, sqsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { loadReporter } from '../shared/http/load-reporter';
import { BackgroundValue, OrderAdmission } from '../shared/http/load-shedding';
import { oldestUnappliedSeconds } from '../shared/outbox/relay';
import { OrderListRepository } from '../shared/ledger/order-list-repository';
import { OrderRepository } from '../shared/ledger/order-repository';
import { LedgerRepository } from '../shared/ledger/repository';
import { SqsCommandSender } from '../shared/outbox/sqs-sender';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderStore } from '../shared/stores/orders';
import { UserTradeStore } from '../shared/stores/user-trades';
import { AnswerWaiter } from './orders/answer-waiter';
import { OrderListService } from './orders/list-service';
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
  /** Order lists (docs/api.md#order-lists): their rows (PostgreSQL) and their place/cancel path. */
  lists: OrderListRepository;
  listService: OrderListService;
  answers: AnswerWaiter;
  /** Load shedding of order placement (docs/operations.md#overload-and-rate-limits). */
  admission: OrderAdmission;
}

/** Shedding thresholds, read once per container. */
const sheddingConfig = z
  .object({
    SHED_MAX_PENDING_ORDERS: z.coerce.number().int().positive().default(64),
    SHED_MAX_DB_WAITING: z.coerce.number().int().positive().default(128),
    SHED_MAX_BACKLOG_SECONDS: z.coerce.number().positive().default(10),
  })
  .parse(process.env);

let ctx: ApiContext | undefined;

/**
 * The container's shared context. Each member is built on first use, so a function needs the environment
 * (table names, key id, queue URLs) of only what its routes touch, and CDK binds only those
 * (docs/deploy.md; least privilege per function).
 */
export function apiContext(): ApiContext {
  if (ctx) return ctx;
  const made = new Map<keyof ApiContext, unknown>();
  const once = <K extends keyof ApiContext>(key: K, build: () => ApiContext[K]): ApiContext[K] => {
    if (!made.has(key)) made.set(key, build());
    return made.get(key) as ApiContext[K];
  };
  const c: ApiContext = {
    get liveOrders() {
      return once('liveOrders', () => new OrderRepository(dbPool()));
    },
    get orderHistory() {
      return once('orderHistory', () => new OrderStore(dynamoClient(), requiredEnv(TABLES.orders.envVar)));
    },
    get userTrades() {
      return once('userTrades', () => new UserTradeStore(dynamoClient(), requiredEnv(TABLES.trades.envVar)));
    },
    get marketData() {
      return once(
        'marketData',
        () =>
          new MarketDataStore(
            dynamoClient(),
            requiredEnv(TABLES.marketData.envVar),
            requiredEnv(TABLES.trades.envVar),
          ),
      );
    },
    get ledger() {
      return once('ledger', () => new LedgerRepository(dbPool()));
    },
    get keys() {
      return once('keys', () => new ApiKeyStore(dbPool(), kmsClient(), requiredEnv('DATA_KEY_ID')));
    },
    get auth() {
      return once('auth', () => ({
        keys: c.keys,
        replay: new DynamoReplayStore(dynamoClient(), requiredEnv(TABLES.idempotency.envVar)),
      }));
    },
    get orderService() {
      return once(
        'orderService',
        () =>
          new OrderService({
            markets: new Map(MARKETS.map((m) => [m.symbol, m])),
            orders: c.liveOrders,
            sender: new SqsCommandSender(sqsClient(), undefined, { coalesce: true }),
            book: {
              bestPrices: async (symbol) => {
                const book = await c.marketData.getBook(symbol);
                return { bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] };
              },
            },
          }),
      );
    },
    get lists() {
      return once('lists', () => new OrderListRepository(dbPool()));
    },
    get listService() {
      return once(
        'listService',
        () =>
          new OrderListService({
            markets: new Map(MARKETS.map((m) => [m.symbol, m])),
            lists: c.lists,
            sender: new SqsCommandSender(sqsClient(), undefined, { coalesce: true }),
            book: {
              bestPrices: async (symbol) => {
                const book = await c.marketData.getBook(symbol);
                return { bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] };
              },
            },
          }),
      );
    },
    get answers() {
      return once('answers', () => new AnswerWaiter(c.liveOrders));
    },
    get admission() {
      return once('admission', () => {
        const backlog = new BackgroundValue(() => oldestUnappliedSeconds(dbPool()), 1_000);
        return new OrderAdmission(
          {
            maxPendingOrders: sheddingConfig.SHED_MAX_PENDING_ORDERS,
            maxDbWaiting: sheddingConfig.SHED_MAX_DB_WAITING,
            maxBacklogSeconds: sheddingConfig.SHED_MAX_BACKLOG_SECONDS,
          },
          { dbWaiting: () => dbPool().waitingCount, backlogSeconds: () => backlog.get() },
          (reason) => loadReporter.shed(reason),
        );
      });
    },
  };
  ctx = c;
  return ctx;
}
