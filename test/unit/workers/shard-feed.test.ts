// The shared shard reader of the local event source mappings (local/triggers/shard-feed.ts), against
// kinesalite: every cursor sees every record once and in order from its own position, retries go back to
// the cursor's commit, a late cursor with an older position is served, and readers share the GetRecords.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ShardFeeds } from '@local/triggers/shard-feed';
import { startKinesisShard, type KinesisShard } from '@test/support/kinesis-shard';

let shard: KinesisShard;

beforeAll(async () => {
  shard = await startKinesisShard('feed-test');
});

afterAll(async () => {
  await shard?.stop();
});

async function put(from: number, n: number): Promise<string[]> {
  const out = await shard.kinesis.send(
    new PutRecordsCommand({
      StreamName: shard.stream,
      Records: Array.from({ length: n }, (_, i) => ({
        Data: Buffer.from(String(from + i)),
        PartitionKey: 'p',
      })),
    }),
  );
  return out.Records!.map((r) => r.SequenceNumber!);
}

const text = (rs: Array<{ Data?: Uint8Array }>) => rs.map((r) => Buffer.from(r.Data!).toString());
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

test('cursors share reads, keep their own positions, retry from their commit, and a late cursor is served', async () => {
  const seqs = await put(0, 30);
  const feeds = new ShardFeeds(shard.kinesis, shard.stream, { minFetchIntervalMs: 0 });
  const a = feeds.cursor(shard.shardId, undefined);
  const b = feeds.cursor(shard.shardId, undefined);
  shard.getRecords = 0;

  // Both read all 30 from the start, in pages of their own size, from one GetRecords.
  expect(text(await a.read(10))).toEqual(range(0, 10));
  expect(text(await b.read(30))).toEqual(range(0, 30));
  expect(text(await a.read(25))).toEqual(range(10, 20));
  expect(shard.getRecords).toBe(1);

  // A retry: `a` handled 0–9 (committed), failed on 10–29, and reads them again.
  a.commit(seqs[9]);
  a.seek(seqs[9]);
  expect(text(await a.read(100))).toEqual(range(10, 20));
  expect(shard.getRecords).toBe(1);

  // New records: one fetch serves both cursors.
  const more = await put(30, 5);
  expect(text(await b.read(100))).toEqual(range(30, 5));
  expect(text(await a.read(100))).toEqual(range(30, 5));
  expect(shard.getRecords).toBe(2);

  // Nothing new: an empty read (it asks Kinesis; the interval between fetches is 0 here).
  expect(await a.read(100)).toEqual([]);

  // A cursor that joins late with an older checkpoint gets the records after it, in order.
  const c = feeds.cursor(shard.shardId, seqs[19]);
  expect(text(await c.read(100))).toEqual([...range(20, 10), ...range(30, 5)]);
  // ... and one at the end gets only what comes next.
  const d = feeds.cursor(shard.shardId, more[4]);
  expect(await d.read(100)).toEqual([]);
  await put(35, 2);
  expect(text(await d.read(100))).toEqual(range(35, 2));
  expect(text(await a.read(100))).toEqual(range(35, 2));

  // Everyone commits everything: the next fetch drops the buffer. A cursor joining with an older checkpoint
  // then makes the feed read again from there; the others still see each record once.
  const last = (await put(37, 1))[0];
  for (const cur of [a, d]) expect(text(await cur.read(100))).toEqual(['37']);
  for (const cur of [b, c]) expect(text(await cur.read(100))).toEqual(['35', '36', '37']);
  for (const cur of [a, b, c, d]) cur.commit(last);
  expect(await a.read(100)).toEqual([]); // this fetch trims the buffer
  const before = shard.getRecords;
  const e = feeds.cursor(shard.shardId, seqs[5]);
  expect(text(await e.read(100))).toEqual([...range(6, 24), ...range(30, 8)]);
  expect(shard.getRecords).toBeGreaterThan(before);
  await put(38, 1);
  for (const cur of [a, b, c, d, e]) expect(text(await cur.read(100))).toEqual(['38']);
  for (const cur of [a, b, c, d, e]) cur.close();
});

test('readers that ask at once wait for one fetch; the interval between fetches bounds the GetRecords rate', async () => {
  const feeds = new ShardFeeds(shard.kinesis, shard.stream, { minFetchIntervalMs: 50 });
  const tail = await put(100, 1);
  const cursors = Array.from({ length: 4 }, () => feeds.cursor(shard.shardId, tail[0]));
  shard.getRecords = 0;
  await put(101, 3);
  const pages = await Promise.all(cursors.map((c) => c.read(100)));
  for (const p of pages) expect(text(p)).toEqual(range(101, 3));
  expect(shard.getRecords).toBeLessThanOrEqual(2); // the iterator's first read, at most one more
  // Four idle readers polling for 300 ms: at most one fetch per 50 ms between them.
  shard.getRecords = 0;
  const until = performance.now() + 300;
  await Promise.all(
    cursors.map(async (c) => {
      while (performance.now() < until) {
        await c.read(100);
        await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
  expect(shard.getRecords).toBeLessThanOrEqual(8);
  for (const c of cursors) c.close();
});
