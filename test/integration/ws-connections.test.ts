// The WebSocket connection store on DynamoDB Local (the table definition the stacks deploy): subscriptions
// beyond one BatchWrite (25 items), listing them back, and $disconnect removing everything.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '@contracts/resources';
import { createTable } from '@local/provision';
import { startDynamoDb } from '@local/standins/dynamodb';
import type { Standin } from '@local/standins/ports';
import { ConnectionStore } from '@lambdas/ws/connection-store';

jest.setTimeout(60_000);

let dynamo: Standin;
let raw: DynamoDBClient;
let db: DynamoDBDocumentClient;
const table = 'test-ws-connections';

beforeAll(async () => {
  dynamo = await startDynamoDb({ port: 0 });
  raw = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  db = DynamoDBDocumentClient.from(raw);
  await createTable(raw, table, TABLES.connections);
});

afterAll(async () => {
  raw?.destroy();
  await dynamo?.stop();
});

describe('WebSocket connection store', () => {
  it('subscribes, lists and removes a connection with more streams than one batch holds', async () => {
    const store = new ConnectionStore(db, table);
    const streams = Array.from({ length: 60 }, (_, i) => `btcusdt@depth${i}`);
    await store.connect('conn-1', Date.now(), '203.0.113.7');
    await store.subscribe('conn-1', streams, Date.now());
    expect((await store.subscriptions('conn-1')).sort()).toEqual([...streams].sort());
    await store.unsubscribe('conn-1', streams.slice(0, 10));
    expect(await store.subscriptions('conn-1')).toHaveLength(50);
    expect(await store.subscriptions('other')).toEqual([]);

    expect(await store.disconnect('conn-1')).toBe(50);
    expect(await store.subscriptions('conn-1')).toEqual([]);
    const meta = await db.send(new GetCommand({ TableName: table, Key: { pk: 'conn#conn-1', sk: 'meta' } }));
    expect(meta.Item).toBeUndefined();
  });
});
