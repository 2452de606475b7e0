// What the REST handlers share, created once per container: stores, ledger, queue, auth.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MARKETS } from '../../lib/markets';
import { ORDER_QUEUE, TABLES } from '../../lib/resources';
import { ApiKeyStore } from '../shared/auth/api-keys';
import { DynamoReplayStore } from '../shared/auth/replay-store';
import type { AuthDeps } from '../shared/auth/signed-request';
import { dynamoClient, kmsClient, requiredEnv, sqsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { LedgerRepository } from '../shared/ledger/repository';
import { MarketDataStore } from '../shared/stores/market-data';
import { OrderIdAllocator, OrderStore } from '../shared/stores/orders';
import { UserTradeStore } from '../shared/stores/user-trades';
import { OrderService } from './orders/order-service';

export interface ApiContext {
  orders: OrderStore;
  userTrades: UserTradeStore;
  marketData: MarketDataStore;
  ledger: LedgerRepository;
  keys: ApiKeyStore;
  auth: AuthDeps;
  orderService: OrderService;
}

let ctx: ApiContext | undefined;

/** Queue per market: ORDER_QUEUE_URLS (JSON symbol → URL) when shards differ, else ORDER_QUEUE_URL. */
function queueUrlFor(symbol: string): string {
  const map = process.env.ORDER_QUEUE_URLS
    ? (JSON.parse(process.env.ORDER_QUEUE_URLS) as Record<string, string>)
    : {};
  return map[symbol] ?? requiredEnv(ORDER_QUEUE.envVar);
}

export function apiContext(): ApiContext {
  if (ctx) return ctx;
  const db = dynamoClient();
  const orders = new OrderStore(db, requiredEnv(TABLES.orders.envVar));
  const marketData = new MarketDataStore(
    db,
    requiredEnv(TABLES.marketData.envVar),
    requiredEnv(TABLES.trades.envVar),
  );
  const ledger = new LedgerRepository(dbPool());
  const keys = new ApiKeyStore(dbPool(), kmsClient(), requiredEnv('DATA_KEY_ID'));
  const sqs = sqsClient();
  ctx = {
    orders,
    userTrades: new UserTradeStore(db, requiredEnv(TABLES.trades.envVar)),
    marketData,
    ledger,
    keys,
    auth: { keys, replay: new DynamoReplayStore(db, requiredEnv(TABLES.idempotency.envVar)) },
    orderService: new OrderService({
      markets: new Map(MARKETS.map((m) => [m.symbol, m])),
      orders,
      ids: new OrderIdAllocator(orders),
      ledger,
      queue: {
        send: async (message, groupId) => {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: queueUrlFor(message.command.market),
              MessageBody: JSON.stringify(message),
              MessageGroupId: groupId,
              MessageDeduplicationId: message.cmdId,
            }),
          );
        },
      },
      book: {
        bestPrices: async (symbol) => {
          const book = await marketData.getBook(symbol);
          return { bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] };
        },
      },
    }),
  };
  return ctx;
}
