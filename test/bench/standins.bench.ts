// What each AWS stand-in of `npm start` can do alone on this machine, measured with the project's own start
// functions (local/standins, local/apigw) and the unmodified SDK v3 clients: the calls the order pipeline
// and the WebSocket fan-out make of it, at the sizes they make them, for BENCH_SECONDS each at 1 and 4 (posts:
// 1 and 64) in flight. Printed: calls/s, items (or messages, records, frames)/s and the CPU-ms per item of
// the stand-in's process (/proc). Set against what `npm run bench:pipeline` and `npm run bench:ws` ask per
// order, this is where a stand-in, rather than Cirrus, is the ceiling
// (docs/performance.md#what-the-stand-ins-can-do-alone). Nothing else should run meanwhile.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { WebSocket } from 'ws';
import { startWebSocketApi } from '@local/apigw/websocket';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startDynamoDb } from '@local/standins/dynamodb';
import { createTable } from '@local/provision';
import { TABLES } from '@contracts/resources';
import { UserTradeStore, type UserTradeRecord } from '@lambdas/shared/stores/user-trades';
import { startSqsAndS3 } from '@local/standins/fauxqs';
import { startKinesis } from '@local/standins/kinesis';
import type { Standin } from '@local/standins/ports';
import { CpuAccounting } from './cpu-accounting';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const IN_FLIGHT = [1, 4];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const client = { region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler() };

interface Row {
  standin: string;
  call: string;
  inFlight: number;
  callsPerSec: number;
  itemsPerSec: number;
  cpuMsPerItem: number;
}

/** Runs `once` (one call of `perCall` items) from `inFlight` loops for SECONDS; the stand-in's CPU. */
async function measure(
  standin: string,
  component: string,
  call: string,
  perCall: number,
  inFlight: number,
  once: (n: number) => Promise<void>,
): Promise<Row> {
  let calls = 0;
  const cpu = CpuAccounting.start();
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) await once(calls++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const items = calls * perCall;
  const perItem = cpu.perOrder(items)?.[component];
  return {
    standin,
    call,
    inFlight,
    callsPerSec: Math.round(calls / seconds),
    itemsPerSec: Math.round(items / seconds),
    cpuMsPerItem: typeof perItem === 'number' ? perItem : NaN,
  };
}

async function dynamoDb(dataDir: string, rows: Row[]): Promise<Standin> {
  // As `npm start` runs it (on disk), but at the same priority as this client: measured alone.
  process.env.DYNAMODB_NICE = '0';
  mkdirSync(dataDir, { recursive: true });
  const standin = await startDynamoDb({ port: 0, dataDir });
  const db = new DynamoDBClient({ ...client, endpoint: standin.endpoint });
  // The read models' own table (its index included) and store: each call is one BatchWriteItem of 25 fills.
  await createTable(db, TABLES.trades.name, TABLES.trades);
  const trades = new UserTradeStore(
    DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } }),
    TABLES.trades.name,
  );
  let tradeId = 0;
  const fill = (): UserTradeRecord => {
    const n = tradeId++;
    return {
      userId: n % 20,
      symbol: 'BTCUSDT',
      tradeId: n,
      orderId: 1_000_000 + n,
      priceTicks: 3_000_012,
      qtyLots: 1_000,
      quoteTL: 3_000_012_000,
      commission: '1000',
      commissionAsset: 'BTC',
      time: Date.now(),
      isBuyer: n % 2 === 0,
      isMaker: n % 3 === 0,
    };
  };
  for (const inFlight of IN_FLIGHT)
    rows.push(
      await measure('DynamoDB Local (on disk)', 'dynamodb-local', 'BatchWriteItem × 25', 25, inFlight, () =>
        trades.putAll(Array.from({ length: 25 }, fill)),
      ),
    );
  db.destroy();
  return standin;
}

async function sqs(rows: Row[]): Promise<Standin> {
  const standin = await startSqsAndS3({ port: 0 });
  const queue = new SQSClient({ ...client, endpoint: standin.endpoint });
  const { QueueUrl } = await queue.send(
    new CreateQueueCommand({
      QueueName: 'bench-orders.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  // A place command as the outbox sends it: about 400 bytes, one group per user bucket.
  const body = JSON.stringify({ v: 1, cmdId: 'x'.repeat(20), command: { pad: 'p'.repeat(330) } });
  for (const inFlight of IN_FLIGHT)
    rows.push(
      await measure('fauxqs (SQS FIFO)', 'fauxqs (sqs)', 'SendMessageBatch × 10', 10, inFlight, async (n) => {
        await queue.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: 10 }, (_, i) => ({
              Id: String(i),
              MessageBody: body,
              MessageGroupId: `BTCUSDT#${(n * 10 + i) % 16}`,
              MessageDeduplicationId: `${n}-${i}`,
            })),
          }),
        );
      }),
    );
  queue.destroy();
  return standin;
}

async function kinesis(dataDir: string, rows: Row[]): Promise<Standin> {
  mkdirSync(dataDir, { recursive: true });
  const standin = await startKinesis({ port: 0, dataDir });
  const stream = new KinesisClient({ ...client, endpoint: standin.endpoint });
  await stream.send(new CreateStreamCommand({ StreamName: 'bench-events', ShardCount: 1 }));
  for (;;) {
    const d = await stream.send(new DescribeStreamCommand({ StreamName: 'bench-events' }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The engine's flush: one record of a few orders' events, about 4 KB.
  const data = new TextEncoder().encode('e'.repeat(4096));
  for (const inFlight of IN_FLIGHT)
    rows.push(
      await measure('kinesalite (on disk)', 'kinesalite', 'PutRecords × 1 (4 KB)', 1, inFlight, async (n) => {
        await stream.send(
          new PutRecordsCommand({
            StreamName: 'bench-events',
            Records: [{ Data: data, PartitionKey: `BTCUSDT#${n % 16}` }],
          }),
        );
      }),
    );
  stream.destroy();
  return standin;
}

/**
 * The WebSocket fan-out's post: PostToConnection of a trade frame (~250 bytes) through the management API
 * stand-in, which runs in the exchange's process (as here, in this one), to 100 connected clients, with the
 * fan-out's client settings (lambdas/ws-fanout/handler.ts). The CPU is this whole process's: the signing
 * client, the stand-in and the receiving sockets, as they share one process's worth of work locally.
 */
async function webSocketPosts(rows: Row[]): Promise<Standin> {
  const ids: string[] = [];
  const api = await startWebSocketApi({
    port: 0,
    connect: async (event) => {
      ids.push((event as { requestContext: { connectionId: string } }).requestContext.connectionId);
      return { statusCode: 200 };
    },
    disconnect: async () => ({ statusCode: 200 }),
    messages: async () => ({ statusCode: 200 }),
  });
  const clients: WebSocket[] = [];
  let received = 0;
  for (let i = 0; i < 100; i++) {
    const ws = new WebSocket(`${api.url}/ws/bench@trade`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', () => received++);
    clients.push(ws);
  }
  const post = new ApiGatewayManagementApiClient({
    ...client,
    endpoint: api.callbackUrl,
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
  const frame = new TextEncoder().encode(
    JSON.stringify({
      e: 'trade',
      E: Date.now(),
      s: 'BTCUSDT',
      t: 123456,
      p: '30000.12000000',
      q: '0.01000000',
    }) + ' '.repeat(150),
  );
  for (const inFlight of [1, 64]) {
    const before = received;
    const row = await measure(
      'API Gateway WebSocket (management API)',
      'exchange (API, relay)',
      'PostToConnection',
      1,
      inFlight,
      async (n) => {
        await post.send(new PostToConnectionCommand({ ConnectionId: ids[n % ids.length], Data: frame }));
      },
    );
    // Frames the clients received, not only posts answered.
    await new Promise((r) => setTimeout(r, 200));
    rows.push({ ...row, call: `PostToConnection (${received - before} frames received)` });
  }
  post.destroy();
  for (const ws of clients) ws.close();
  return { endpoint: api.url, stop: () => api.stop() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-standins-bench-'));
  const rows: Row[] = [];
  // One stand-in at a time, each stopped before the next starts.
  for (const run of [
    () => dynamoDb(join(dir, 'dynamodb'), rows),
    () => sqs(rows),
    () => kinesis(join(dir, 'kinesis'), rows),
    () => webSocketPosts(rows),
  ]) {
    const standin = await run();
    await standin.stop();
  }
  console.log(`\nEach stand-in alone, ${SECONDS} s per line:\n`);
  console.log('| stand-in | call | in flight | calls/s | items/s | CPU-ms per item (its process) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.standin} | ${r.call} | ${r.inFlight} | ${r.callsPerSec} | ${r.itemsPerSec} | ${r.cpuMsPerItem} |`,
    );
  console.log(JSON.stringify({ standins: rows }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
