// User data streams in the connections table (contracts/resources.ts TABLES.connections), beside the market
// subscriptions of connection-store.ts:
//   listen key    pk listenKey#<key>  sk meta  userId, expiresAtMs (Binance: 60 minutes, PUT extends), apiKey
//                 (the API key that made it)
//   user binding  pk conn#<id>        sk user  gsi1pk user-bindings, gsi1sk <userId:16>#conn#<id>, format,
//                 listenKey? (bound by a listen key), apiKey? (bound by signature: the key that signed)
// A connection is bound to at most one user: by opening `/ws/<listenKey>` (or `/stream?streams=<listenKey>`)
// or by `userDataStream.subscribe.signature` on the WebSocket API. The fan-out (a back-end consumer, never a
// user) finds the connections of every user its batch names with one query of gsi1 per batch (the partition
// of all bindings), not one per user: when nobody listens that is one cheap read. Frames still go only to
// each connection's own user. Past a few thousand bound connections the partition would be split by user
// bucket. `expiresAt` is
// the TTL attribute (seconds); TTL deletes late, so every read also compares expiresAtMs with the clock.
import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/stores/batch-write';
import { CONNECTION_TTL_SECONDS } from './connection-store';

export const LISTEN_KEY_TTL_MS = 60 * 60 * 1000;
/** One user data subscription per connection, always number 0 (Binance numbers them per connection). */
export const SUBSCRIPTION_ID = 0;
/** Binance's listen keys: 60 letters and digits. */
export const LISTEN_KEY_FORMAT = /^[A-Za-z0-9]{60}$/;

/** How a bound connection wants its events: raw (`/ws/<key>`), combined (`/stream`), or WebSocket API. */
export type UserFrameFormat = 'raw' | 'combined' | 'wsapi';

export interface UserBinding {
  connectionId: string;
  userId: number;
  format: UserFrameFormat;
  /** Set when bound through a listen key: events stop (listenKeyExpired) once it is gone. */
  listenKey?: string;
  /** Set when bound by signature: the API key that signed; events stop (eventStreamTerminated) once it is revoked. */
  apiKey?: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function newListenKey(): string {
  let key = '';
  // Bytes ≥ 248 are drawn again, so each of the 62 symbols is equally likely.
  while (key.length < 60)
    for (const b of randomBytes(64)) if (b < 248 && key.length < 60) key += ALPHABET[b % 62];
  return key;
}

const keyPk = (key: string) => `listenKey#${key}`;
const connPk = (connectionId: string) => `conn#${connectionId}`;
const seconds = (ms: number) => Math.floor(ms / 1000);

export class UserStreamStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A new listen key of `userId`'s, made with `apiKey` (revoking that key ends the streams it opens). */
  async createListenKey(userId: number, nowMs: number, apiKey?: string): Promise<string> {
    const listenKey = newListenKey();
    const expiresAtMs = nowMs + LISTEN_KEY_TTL_MS;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: keyPk(listenKey),
          sk: 'meta',
          userId,
          expiresAtMs,
          expiresAt: seconds(expiresAtMs),
          ...(apiKey ? { apiKey } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return listenKey;
  }

  /** Extends the caller's own live key by 60 minutes; false if it is not theirs, expired or closed. */
  async keepAlive(listenKey: string, userId: number, nowMs: number): Promise<boolean> {
    const expiresAtMs = nowMs + LISTEN_KEY_TTL_MS;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(listenKey), sk: 'meta' },
          UpdateExpression: 'SET expiresAtMs = :e, expiresAt = :s',
          ConditionExpression: 'userId = :u AND expiresAtMs > :now',
          ExpressionAttributeValues: {
            ':e': expiresAtMs,
            ':s': seconds(expiresAtMs),
            ':u': userId,
            ':now': nowMs,
          },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** Closes the caller's own key; false if it is not theirs (or already gone). */
  async closeListenKey(listenKey: string, userId: number): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(listenKey), sk: 'meta' },
          ConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** The owner of a live key (undefined when unknown, closed or expired). */
  async listenKeyOwner(listenKey: string, nowMs: number): Promise<number | undefined> {
    return (await this.listenKeyHolder(listenKey, nowMs))?.userId;
  }

  /**
   * The owner of a live key and the API key that made it (undefined when unknown, closed or expired). A Query:
   * no GetItem grant needed.
   */
  async listenKeyHolder(
    listenKey: string,
    nowMs: number,
  ): Promise<{ userId: number; apiKey?: string } | undefined> {
    if (!LISTEN_KEY_FORMAT.test(listenKey)) return undefined;
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk = :meta',
        ExpressionAttributeValues: { ':pk': keyPk(listenKey), ':meta': 'meta' },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (!item || Number(item.expiresAtMs) <= nowMs) return undefined;
    return {
      userId: Number(item.userId),
      ...(typeof item.apiKey === 'string' ? { apiKey: item.apiKey } : {}),
    };
  }

  async bind(b: UserBinding, nowMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: connPk(b.connectionId),
          sk: 'user',
          gsi1pk: BINDINGS_PK,
          gsi1sk: `${userKey(b.userId)}#${connPk(b.connectionId)}`,
          userId: b.userId,
          format: b.format,
          ...(b.listenKey ? { listenKey: b.listenKey } : {}),
          ...(b.apiKey ? { apiKey: b.apiKey } : {}),
          expiresAt: seconds(nowMs) + CONNECTION_TTL_SECONDS,
        },
      }),
    );
  }

  /** Ends a connection's user data stream (a batch write: the message routes' grant, no DeleteItem). */
  async unbind(connectionId: string): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      [{ DeleteRequest: { Key: { pk: connPk(connectionId), sk: 'user' } } }],
      { maxAttempts: 5 },
    );
  }

  /** The user a connection is bound to, if any. */
  async binding(connectionId: string): Promise<UserBinding | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk = :user',
        ExpressionAttributeValues: { ':pk': connPk(connectionId), ':user': 'user' },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? toBinding(item) : undefined;
  }

  /** Every connection bound to this user. */
  async userConnections(userId: number): Promise<UserBinding[]> {
    return (await this.connectionsOf([userId])).get(userId) ?? [];
  }

  /** The connections bound to each of these users (one query of the bindings' partition, then filtered). */
  async connectionsOf(userIds: Iterable<number>): Promise<Map<number, UserBinding[]>> {
    const wanted = new Set(userIds);
    const found = new Map<number, UserBinding[]>();
    if (wanted.size === 0) return found;
    const only = wanted.size === 1 ? `${userKey([...wanted][0])}#` : undefined;
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: only ? 'gsi1pk = :b AND begins_with(gsi1sk, :u)' : 'gsi1pk = :b',
        ExpressionAttributeValues: { ':b': BINDINGS_PK, ...(only ? { ':u': only } : {}) },
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? []) {
        const userId = Number(item.userId);
        if (!wanted.has(userId)) continue;
        const list = found.get(userId) ?? [];
        list.push(toBinding(item));
        found.set(userId, list);
      }
    return found;
  }
}

const BINDINGS_PK = 'user-bindings';
/** Fixed width, so one user's keys never prefix another's. */
const userKey = (userId: number) => String(userId).padStart(16, '0');

function toBinding(item: Record<string, unknown>): UserBinding {
  return {
    connectionId: String(item.pk).slice('conn#'.length),
    userId: Number(item.userId),
    format: item.format as UserFrameFormat,
    ...(typeof item.listenKey === 'string' ? { listenKey: item.listenKey } : {}),
    ...(typeof item.apiKey === 'string' ? { apiKey: item.apiKey } : {}),
  };
}
