// WebSocket connections and their subscriptions in the connections table (lib/resources.ts TABLES.connections).
// Layout: one item per connection (pk conn#<id>, sk meta) and one per subscription (pk conn#<id>,
// sk sub#<stream>, gsi1pk stream#<stream>, gsi1sk conn#<id>), so the data processor finds a stream's
// subscribers through gsi1 and $disconnect removes a connection with one query. Items expire by TTL
// (API Gateway closes a connection after 2 hours at most), which cleans up after a missed $disconnect.
import { PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/stores/batch-write';

export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;
/** Binance allows 1024 streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

const connectionPk = (connectionId: string) => `conn#${connectionId}`;
const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS;

export class ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async connect(connectionId: string, nowMs: number, sourceIp?: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: connectionPk(connectionId),
          sk: 'meta',
          connectedAt: nowMs,
          sourceIp,
          expiresAt: expiresAt(nowMs),
        },
      }),
    );
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

  async subscribe(connectionId: string, streams: string[], nowMs: number): Promise<void> {
    await this.batchWrite(
      streams.map((stream) => ({
        PutRequest: {
          Item: {
            pk: connectionPk(connectionId),
            sk: `sub#${stream}`,
            gsi1pk: `stream#${stream}`,
            gsi1sk: connectionPk(connectionId),
            subscribedAt: nowMs,
            expiresAt: expiresAt(nowMs),
          },
        },
      })),
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
