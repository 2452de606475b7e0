// Kinesis (engine events) → Binance market and user data streams on the WebSocket API (see fanout.ts and
// user-fanout.ts; user data reads the order history items of the orders table and, for balances, the ledger).
// A third consumer of
// the stream, beside settlement and the read models: it reads the connections table (subscribers through
// gsi1) and the read models' book and candles, and posts through the unmodified API Gateway management API
// client at WS_CALLBACK_URL (the stage's callback URL in AWS, the local stand-in under `npm start`).
// Its second source is the wallet-event stream (balance events → balanceUpdate, ./balance-fanout.ts), told
// apart by the batch's event source ARN.
// It never fails a batch: a record that is not a Cirrus event record is skipped, a failed post is logged.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { MARKETS } from '@contracts/markets';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '../shared/clients';
import { fanOutConfig } from './config';
import { dbPool } from '../shared/db';
import { apiKeyActive } from '../shared/auth/api-keys';
import { LruCache } from '../shared/auth/lru';
import { OrderRepository } from '../shared/ledger/order-repository';
import { LedgerRepository } from '../shared/ledger/repository';
import { logger } from '../shared/powertools';
import { decodeBalanceEvents, decodeEventRecords, isWalletEventBatch } from '../shared/stream-records';
import { MarketDataStore } from '../shared/stores/market-data';
import { ConnectionStore } from '../ws/connection-store';
import { UserStreamStore } from '../ws/user-stream-store';
import { balanceFanOut, SeenBalanceEvents } from './balance-fanout';
import { fanOut, newFanOutState, type FanOutDeps } from './fanout';
import { lambdaHandler } from '../shared/handler';

/** How long the fan-out trusts that a subscription's API key is not revoked. */
export const API_KEY_RECHECK_MS = 2_000;
let deps: FanOutDeps | undefined;
const state = newFanOutState();
const seenBalanceEvents = new SeenBalanceEvents();

function fanOutDeps(): FanOutDeps {
  if (deps) return deps;
  const db = dynamoClient();
  const config = fanOutConfig();
  const connections = new ConnectionStore(db, config[TABLES.connections.envVar]);
  const userStreams = new UserStreamStore(db, config[TABLES.connections.envVar]);
  const marketData = new MarketDataStore(db, config[TABLES.marketData.envVar], config[TABLES.trades.envVar]);
  const api = new ApiGatewayManagementApiClient({
    endpoint: config.WS_CALLBACK_URL,
    maxAttempts: 1,
    // The middleware stack resolved once per command type, not on every post (a third of a post's CPU
    // locally, docs/performance.md#websocket-fan-out-npm-run-benchws). The SDK uses the cache only for a
    // send without per-call options, so a post passes no abort signal: the request handler's timeout is the
    // post timeout instead (postEach still stops waiting after it).
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      connectionTimeout: 1_000,
      requestTimeout: config.WS_POST_TIMEOUT_MS,
    }),
  });
  const encoder = new TextEncoder();
  const revokedCheck = new LruCache<string, boolean>(10_000, API_KEY_RECHECK_MS);
  const created: FanOutDeps = {
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    marketSubscribers: (symbol) => connections.marketSubscribers(symbol),
    async post(connectionId, data) {
      await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(data) }));
    },
    async removeConnection(connectionId) {
      // API Gateway answered 410: the connection is closed there; only its items remain.
      await connections.disconnect(connectionId);
    },
    bookView: (symbol) => marketData.getBook(symbol),
    candle: async (symbol, interval, openTime) =>
      (await marketData.candles(symbol, interval, { startTime: openTime, endTime: openTime, limit: 1 }))[0],
    candles: (symbol, interval, opts) => marketData.candles(symbol, interval, opts),
    trade: async (symbol, tradeId) =>
      (await marketData.tradeRange(symbol, { fromId: tradeId, toId: tradeId, limit: 1 }))[0],
    users: {
      connectionsOf: (userIds) => userStreams.connectionsOf(userIds),
      // The orders' facts from the ledger's order rows, written by the accept transaction before the engine
      // ever sees the order: always there when its events arrive (the read model may lag behind).
      orders: (orderIds) => new OrderRepository(dbPool()).getMany(orderIds),
      listenKeyLive: async (listenKey) =>
        (await userStreams.listenKeyOwner(listenKey, Date.now())) !== undefined,
      // A revoked key ends its subscriptions within API_KEY_RECHECK_MS (one read per key and interval).
      apiKeyLive: async (apiKey) => {
        const known = revokedCheck.lookup(apiKey);
        if (known.found) return known.value;
        const live = await apiKeyActive(dbPool(), apiKey);
        revokedCheck.set(apiKey, live);
        return live;
      },
      unbind: (connectionId) => userStreams.unbind(connectionId),
      // The ledger (PostgreSQL): settled order rows and balances, read-only.
      settledSeqs: async (orderIds) =>
        new Map((await new OrderRepository(dbPool()).getMany(orderIds)).map((o) => [o.orderId, o.lastSeq])),
      balances: (userId) => new LedgerRepository(dbPool()).getBalances(userId),
    },
    now: () => Date.now(),
    log: { warn: (msg, extra) => logger.warn(msg, { ...extra }) },
    concurrency: config.WS_FANOUT_CONCURRENCY,
    postTimeoutMs: config.WS_POST_TIMEOUT_MS,
  };
  deps = created;
  return created;
}

export async function fanOutKinesisBatch(
  event: KinesisStreamEvent,
  d: FanOutDeps = fanOutDeps(),
): Promise<KinesisStreamBatchResponse> {
  const records = decodeEventRecords(event);
  try {
    const stats = await fanOut(records, d, state);
    if (stats.frames > 0) logger.debug('fanned out', { ...stats });
  } catch (err) {
    // Live data only: a batch that could not be sent is not worth a retry that delays the next ones.
    logger.error('batch not fanned out; skipped', { err: err instanceof Error ? err.message : String(err) });
  }
  return { batchItemFailures: [] };
}

export async function fanOutBalanceBatch(
  event: KinesisStreamEvent,
  d: FanOutDeps = fanOutDeps(),
  seen: SeenBalanceEvents = seenBalanceEvents,
): Promise<KinesisStreamBatchResponse> {
  const events = decodeBalanceEvents(event);
  if (!d.users) return { batchItemFailures: [] };
  try {
    const stats = await balanceFanOut(events, d, d.users, seen);
    if (stats.frames > 0) logger.debug('balance events fanned out', { ...stats });
  } catch (err) {
    logger.error('balance events not fanned out; skipped', {
      err: err instanceof Error ? err.message : String(err),
    });
  }
  return { batchItemFailures: [] };
}

const handle = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
  isWalletEventBatch(event) ? fanOutBalanceBatch(event) : fanOutKinesisBatch(event);

export const handler = lambdaHandler(handle);
