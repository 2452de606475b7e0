// WebSocket connections and their subscriptions in the connections table (lib/resources.ts TABLES.connections).
// Layout: one item per connection (pk conn#<id>, sk meta, combined) and one per subscription (pk conn#<id>,
// sk sub#<stream>, gsi1pk stream#<stream>, gsi1sk conn#<id>, combined), so the fan-out (lambdas/ws-fanout)
// finds a stream's subscribers, and whether each wants combined frames, with one query of gsi1, and
// $disconnect removes a connection with one query. `combined`: the connection was opened on `/stream` (or
// SET_PROPERTY). Items expire by TTL (API Gateway closes a connection after 2 hours at most), which cleans up
// after a missed $disconnect. Each function uses only the calls its grant names (lib/stacks/api-stack.ts).
import { PutCommand, QueryCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/stores/batch-write';

export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;
/** Binance allows 1024 streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

const connectionPk = (connectionId: string) => `conn#${connectionId}`;
const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS;
const subscriptionItem = (connectionId: string, stream: string, nowMs: number, combined: boolean) => ({
  pk: connectionPk(connectionId),
  sk: `sub#${stream}`,
  gsi1pk: `stream#${stream}`,
  gsi1sk: connectionPk(connectionId),
  subscribedAt: nowMs,
  combined,
  expiresAt: expiresAt(nowMs),
});

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
  async subscribers(stream: string): Promise<Array<{ connectionId: string; combined: boolean }>> {
    const found: Array<{ connectionId: string; combined: boolean }> = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :s',
        ExpressionAttributeValues: { ':s': `stream#${stream}` },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? [])
        found.push({
          connectionId: String(item.gsi1sk).slice('conn#'.length),
          combined: item.combined === true,
        });
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
    await this.batchWrite([{ DeleteRequest: { Key: { pk: connectionPk(connectionId), sk: 'meta' } } }]);
    return streams.length;
  }

  private async batchWrite(requests: Parameters<typeof batchWriteAll>[2]): Promise<void> {
    await batchWriteAll(this.db, this.tableName, requests, { maxAttempts: 5 });
  }
}
