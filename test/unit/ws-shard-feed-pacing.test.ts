// The idle pacing of the shared shard reader (local/triggers/shard-feed.ts) that feeds the WebSocket fan-out
// and the other local stream consumers, against kinesalite: pollers that keep reading an idle shard cost one
// GetRecords per pause between them, not one each; a record put while they wait is read within the pause.
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesis } from '@local/standins/kinesis';
import type { Standin } from '@local/standins/ports';
import { ShardFeeds } from '@local/triggers/shard-feed';

const STREAM = 'pacing-test';
let standin: Standin;
let kinesis: KinesisClient;
let shardId: string;
let getRecords = 0;

beforeAll(async () => {
  standin = await startKinesis({ port: 0 });
  kinesis = new KinesisClient({
    endpoint: standin.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  kinesis.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetRecordsCommand') getRecords++;
      return next(args);
    },
    { step: 'initialize', name: 'countGetRecords' },
  );
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
  for (;;) {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: STREAM }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  shardId = (await kinesis.send(new ListShardsCommand({ StreamName: STREAM }))).Shards![0].ShardId!;
});

afterAll(async () => {
  kinesis?.destroy();
  await standin?.stop();
});

const put = (text: string) =>
  kinesis.send(
    new PutRecordsCommand({ StreamName: STREAM, Records: [{ Data: Buffer.from(text), PartitionKey: 'p' }] }),
  );

test('six pollers reading an idle shard back to back share one GetRecords per pause; a new record ends it', async () => {
  const feeds = new ShardFeeds(kinesis, STREAM, { idleFetchIntervalMs: 25, maxIdleFetchIntervalMs: 100 });
  const cursors = Array.from({ length: 6 }, () => feeds.cursor(shardId, undefined));
  await Promise.all(cursors.map((c) => c.read(100))); // the iterator, the empty shard
  getRecords = 0;
  let stop = false;
  const got = cursors.map(() => [] as string[]);
  const loops = cursors.map(async (c, i) => {
    while (!stop) for (const r of await c.read(100)) got[i].push(Buffer.from(r.Data!).toString());
  });
  await new Promise((r) => setTimeout(r, 1_000));
  // Paused 25, 50, then 100 ms between reads: about 11 in a second, whatever the number of pollers.
  expect(getRecords).toBeLessThanOrEqual(14);
  expect(getRecords).toBeGreaterThanOrEqual(5);
  const putAt = performance.now();
  await put('x');
  while (got.some((g) => g.length === 0)) await new Promise((r) => setTimeout(r, 5));
  expect(performance.now() - putAt).toBeLessThan(400);
  stop = true;
  await put('y'); // lets the readers waiting on the feed return
  await Promise.all(loops);
  for (const g of got) expect(g[0]).toBe('x');
  for (const c of cursors) c.close();
});
