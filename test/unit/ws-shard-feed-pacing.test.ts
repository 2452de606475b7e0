// The idle pacing of the shared shard reader (local/triggers/shard-feed.ts) that feeds the WebSocket fan-out
// and the other local stream consumers, against kinesalite: pollers that keep reading an idle shard cost one
// GetRecords per pause between them, not one each; a record put while they wait is read within the pause.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ShardFeeds } from '@local/triggers/shard-feed';
import { startKinesisShard, type KinesisShard } from '@test/support/kinesis-shard';

let shard: KinesisShard;

beforeAll(async () => {
  shard = await startKinesisShard('pacing-test');
});

afterAll(async () => {
  await shard?.stop();
});

const put = (text: string) =>
  shard.kinesis.send(
    new PutRecordsCommand({
      StreamName: shard.stream,
      Records: [{ Data: Buffer.from(text), PartitionKey: 'p' }],
    }),
  );

test('six pollers reading an idle shard back to back share one GetRecords per pause; a new record ends it', async () => {
  const feeds = new ShardFeeds(shard.kinesis, shard.stream, {
    idleFetchIntervalMs: 25,
    maxIdleFetchIntervalMs: 100,
  });
  const cursors = Array.from({ length: 6 }, () => feeds.cursor(shard.shardId, undefined));
  await Promise.all(cursors.map((c) => c.read(100))); // the iterator, the empty shard
  shard.getRecords = 0;
  let stop = false;
  const got = cursors.map(() => [] as string[]);
  const loops = cursors.map(async (c, i) => {
    while (!stop) for (const r of await c.read(100)) got[i].push(Buffer.from(r.Data!).toString());
  });
  await new Promise((r) => setTimeout(r, 1_000));
  // Paused 25, 50, then 100 ms between reads: about 11 in a second, whatever the number of pollers.
  expect(shard.getRecords).toBeLessThanOrEqual(14);
  expect(shard.getRecords).toBeGreaterThanOrEqual(5);
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
