// WebSocket connections and their subscriptions in the connections table (contracts/resources.ts TABLES.connections).
// Layout: one item per connection (pk conn#<id>, sk meta, combined) and one per subscription (pk conn#<id>,
// sk sub#<stream>, gsi1pk market#<symbol>, gsi1sk <stream>#conn#<id>, combined), so the fan-out
// (lambdas/ws-fanout) finds every subscriber of a market's streams, and whether each wants combined frames,
// with one query of gsi1 per market and batch (not one per stream), and $disconnect removes a connection with
// one query. `combined`: the connection was opened on `/stream` (or
// SET_PROPERTY). Items expire by TTL (API Gateway closes a connection after 2 hours at most), which cleans up
// after a missed $disconnect. Each function uses only the calls its grant names (lib/stacks/api-stack.ts).
import { PutCommand, QueryCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/stores/batch-write';

export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;
/** Binance allows 1024 streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

const connectionPk = (connectionId: string) => `conn#${connectionId}`;
const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS;
/** The market part of a stream name (`btcusdt` of `btcusdt@trade`): the subscriber index's partition. */
const marketOf = (stream: string) => stream.slice(0, Math.max(0, stream.indexOf('@')));
const marketPk = (market: string) => `market#${market.toLowerCase()}`;
const subscriptionItem = (connectionId: string, stream: string, nowMs: number, combined: boolean) => ({
  pk: connectionPk(connectionId),
  sk: `sub#${stream}`,
  gsi1pk: marketPk(marketOf(stream)),
  // Stream names hold no '#', so `<stream>#` never prefixes another stream's keys.
  gsi1sk: `${stream}#${connectionPk(connectionId)}`,
  subscribedAt: nowMs,
  combined,
  expiresAt: expiresAt(nowMs),
});

export interface Subscriber {
  connectionId: string;
  combined: boolean;
}

export class ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async connect(connectionId: string, nowMs: number, sourceIp?: string, combined = false): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: connectionPk(connectionId),
          sk: 'meta',
          connectedAt: nowMs,
          sourceIp,
          combined,
          expiresAt: expiresAt(nowMs),
        },
      }),
    );
  }

  /**
   * Whether the connection gets combined frames ({"stream","data"}); false for an unknown connection. A Query
   * of the table key (the message routes' grant), not a GetItem.
   */
  async isCombined(connectionId: string): Promise<boolean> {
    return (await this.meta(connectionId))?.combined === true;
  }

  private async meta(connectionId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk = :meta',
        ExpressionAttributeValues: { ':pk': connectionPk(connectionId), ':meta': 'meta' },
        ConsistentRead: true,
      }),
    );
    return out.Items?.[0];
  }

  /**
   * SET_PROPERTY combined: the connection's flag and every subscription's copy of it, rewritten with the
   * batch writes the message routes already make (no UpdateItem grant).
   */
  async setCombined(connectionId: string, combined: boolean, nowMs: number): Promise<void> {
    const meta = await this.meta(connectionId);
    if (!meta) return;
    await this.batchWrite([{ PutRequest: { Item: { ...meta, combined } } }]);
    await this.subscribe(connectionId, await this.subscriptions(connectionId), nowMs, combined);
  }

  /** The connections subscribed to `stream` (gsi1), each with its frame format. */
  async subscribers(stream: string): Promise<Subscriber[]> {
    return (await this.marketSubscribers(marketOf(stream), `${stream}#`)).get(stream) ?? [];
  }

  /** Every subscription to a market's streams (gsi1, one query): stream → its subscribers. */
  async marketSubscribers(market: string, prefix = ''): Promise<Map<string, Subscriber[]>> {
    const found = new Map<string, Subscriber[]>();
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: prefix ? 'gsi1pk = :m AND begins_with(gsi1sk, :p)' : 'gsi1pk = :m',
        ExpressionAttributeValues: { ':m': marketPk(market), ...(prefix ? { ':p': prefix } : {}) },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const key = String(item.gsi1sk);
        const at = key.indexOf('#conn#');
        const stream = key.slice(0, at);
        const list = found.get(stream) ?? [];
        list.push({ connectionId: key.slice(at + '#conn#'.length), combined: item.combined === true });
        found.set(stream, list);
      }
    }
    return found;
  }

  async subscriptions(connectionId: string): Promise<string[]> {
    const streams: string[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        ExpressionAttributeValues: { ':pk': connectionPk(connectionId), ':sub': 'sub#' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) streams.push(String(item.sk).slice('sub#'.length));
    }
    return streams;
  }

  async subscribe(connectionId: string, streams: string[], nowMs: number, combined = false): Promise<void> {
    await this.batchWrite(
      streams.map((stream) => ({
        PutRequest: { Item: subscriptionItem(connectionId, stream, nowMs, combined) },
      })),
    );
  }

  /** As subscribe, one PutItem per stream ($connect's only grant), a few at a time. */
  async subscribeEach(
    connectionId: string,
    streams: string[],
    nowMs: number,
    combined = false,
  ): Promise<void> {
    for (let i = 0; i < streams.length; i += 16)
      await Promise.all(
        streams.slice(i, i + 16).map((stream) =>
          this.db.send(
            new PutCommand({
              TableName: this.tableName,
              Item: subscriptionItem(connectionId, stream, nowMs, combined),
            }),
          ),
        ),
      );
  }

  async unsubscribe(connectionId: string, streams: string[]): Promise<void> {
    await this.batchWrite(
      streams.map((stream) => ({
        DeleteRequest: { Key: { pk: connectionPk(connectionId), sk: `sub#${stream}` } },
      })),
    );
  }

  /** Removes the connection and all its subscriptions. */
  async disconnect(connectionId: string): Promise<number> {
    const streams = await this.subscriptions(connectionId);
    await this.unsubscribe(connectionId, streams);
    // `user`: its user data binding (lambdas/ws/user-stream-store.ts), if it has one.
    await this.batchWrite(
      ['meta', 'user'].map((sk) => ({ DeleteRequest: { Key: { pk: connectionPk(connectionId), sk } } })),
    );
    return streams.length;
  }

  private async batchWrite(requests: Parameters<typeof batchWriteAll>[2]): Promise<void> {
    await batchWriteAll(this.db, this.tableName, requests, { maxAttempts: 5 });
  }
}
