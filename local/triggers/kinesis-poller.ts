// The local stand-in for a Lambda Kinesis event source mapping: reads every shard in order, invokes the
// handler with real KinesisStreamEvent batches, honours ReportBatchItemFailures (retries from the first
// failed record), gives up on a record after `maxAttempts` (the on-failure destination: logged and
// skipped, as Lambda does after its retry limit) and keeps a checkpoint per shard across restarts.
// Supervised as the event source mapping is: an invocation that outlives `handlerTimeoutMs` counts as
// failed and is retried (Lambda's function timeout), and a shard reader that crashes is restarted from its
// checkpoint with backoff; each is one line on the console (docs/operations.md#restarts). Records come through
// a shard feed (./shard-feed.ts): pollers given the same `feeds` share one GetRecords reader per shard.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KinesisClient, ListShardsCommand, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { ShardFeeds, type ShardCursor } from './shard-feed';

export interface KinesisPollerOptions {
  /** Names the consumer in its log lines. */
  name?: string;
  streamName: string;
  streamArn: string;
  checkpointFile?: string;
  batchSize?: number;
  /**
   * Lambda's batching window: after a read that did not fill the batch, keep reading for up to this long
   * before invoking (default 0: invoke at once).
   */
  batchingWindowMs?: number;
  maxAttempts?: number;
  /** Lambda's function timeout: an invocation still running after it has failed (default 60 s). */
  handlerTimeoutMs?: number;
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | void>;
  onFailure?: (record: KinesisRecord, shardId: string) => void;
  log?: (line: string) => void;
  /** Shared with the other pollers of the stream in this process (one reader per shard); default: its own. */
  feeds?: ShardFeeds;
}

export interface KinesisPoller {
  stop(): Promise<void>;
  /** Shard readers restarted after a crash. */
  restarts(): number;
  /** Resolves once every shard has been read to its current end and processed. */
  drained(): Promise<void>;
}

export async function startKinesisPoller(opts: KinesisPollerOptions): Promise<KinesisPoller> {
  const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  const feeds = opts.feeds ?? new ShardFeeds(kinesis, opts.streamName);
  const checkpoints: Record<string, string> =
    opts.checkpointFile && existsSync(opts.checkpointFile)
      ? (JSON.parse(readFileSync(opts.checkpointFile, 'utf8')) as Record<string, string>)
      : {};
  // After a handled batch the checkpoint is written at most every 200 ms, not once per batch (a synchronous
  // file write each time): a crash in between replays those batches, which every consumer tolerates, as it
  // must for Lambda's own at-least-once delivery.
  let saveTimer: NodeJS.Timeout | undefined;
  const save = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = undefined;
    if (opts.checkpointFile) writeFileSync(opts.checkpointFile, JSON.stringify(checkpoints));
  };
  const saveSoon = () => {
    saveTimer ??= setTimeout(save, 200);
  };
  let stopping = false;
  let restarts = 0;
  const label = `${(opts.name ?? 'consumer').padEnd(12)} `;
  const caughtUp = new Map<string, boolean>();
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: opts.streamName }))).Shards ?? [];

  const pollShard = async (shardId: string) => {
    const cursor = feeds.cursor(shardId, checkpoints[shardId]);
    try {
      await pollWith(shardId, cursor);
    } finally {
      cursor.close();
    }
  };

  const pollWith = async (shardId: string, cursor: ShardCursor) => {
    const attempts = new Map<string, number>();
    const batchSize = opts.batchSize ?? 100;
    while (!stopping) {
      let records;
      try {
        records = await cursor.read(batchSize);
      } catch (err) {
        if (stopping) return;
        opts.log?.(`${label}GetRecords failed on ${shardId}: ${String(err)}`);
        await sleep(500);
        cursor.seek(checkpoints[shardId]);
        continue;
      }
      if (records.length === 0) {
        caughtUp.set(shardId, true);
        // Read again at once: the feed paces an idle shard (25 ms doubling to 100 ms between GetRecords),
        // once for every poller sharing it; a busy shard is read again as soon as its batch is handled.
        continue;
      }
      caughtUp.set(shardId, false);
      const windowEnds = performance.now() + (opts.batchingWindowMs ?? 0);
      while (!stopping && records.length < batchSize) {
        const wait = windowEnds - performance.now();
        if (wait <= 0) break;
        await sleep(Math.min(wait, 25));
        const more = await cursor.read(batchSize - records.length).catch(() => undefined);
        if (!more) break; // read again from here on the next turn
        records.push(...more);
      }
      const event: KinesisStreamEvent = {
        Records: records.map((r) => toEventRecord(r, shardId, opts.streamArn)),
      };
      let failedAt: string | undefined;
      try {
        const response = await withTimeout(opts.handler(event), opts.handlerTimeoutMs ?? 60_000);
        // As Lambda does: resume from the lowest failed sequence number (failures may come in any order).
        const failures = new Set(response?.batchItemFailures?.map((f) => f.itemIdentifier));
        failedAt = records.find((r) => failures.has(r.SequenceNumber as string))?.SequenceNumber;
      } catch (err) {
        opts.log?.(
          `${label} ${err instanceof HandlerTimeout ? 'invocation' : 'handler'} failed: ${String(err)}`,
        );
        failedAt = records[0].SequenceNumber;
      }
      if (!failedAt) {
        checkpoints[shardId] = records[records.length - 1].SequenceNumber as string;
        cursor.commit(checkpoints[shardId]);
        saveSoon();
        continue;
      }
      // Everything before the failed record is done; retry from it, or give up on it after maxAttempts.
      const failedIndex = records.findIndex((r) => r.SequenceNumber === failedAt);
      if (failedIndex > 0) checkpoints[shardId] = records[failedIndex - 1].SequenceNumber as string;
      const n = (attempts.get(failedAt) ?? 0) + 1;
      attempts.set(failedAt, n);
      if (n >= (opts.maxAttempts ?? 5)) {
        const poison = records[Math.max(0, failedIndex)];
        opts.onFailure?.(poison, shardId);
        opts.log?.(
          `${label}record ${failedAt} on ${shardId} failed ${n} times; sent to the on-failure destination`,
        );
        checkpoints[shardId] = failedAt;
        save();
      } else {
        save();
        await sleep(Math.min(100 * 2 ** n, 2_000));
      }
      // Read next after the checkpoint: the failed record again, or the one after the given-up record.
      cursor.seek(checkpoints[shardId]);
      cursor.commit(checkpoints[shardId]);
    }
  };

  // A shard reader that dies (its stand-in unreachable, a bug) restarts from its checkpoint, with backoff.
  const superviseShard = async (shardId: string) => {
    for (let failures = 0; !stopping;) {
      try {
        await pollShard(shardId);
        return;
      } catch (err) {
        if (stopping) return;
        const delay = Math.min(500 * 2 ** failures++, 30_000);
        opts.log?.(
          `${label}reader of ${shardId} crashed (${err instanceof Error ? err.message : String(err)}); restarting from its checkpoint in ${(delay / 1000).toFixed(1)} s`,
        );
        await sleep(delay);
        restarts++;
      }
    }
  };
  const loops = shards.map((s) => superviseShard(s.ShardId as string));
  return {
    restarts: () => restarts,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      save();
      kinesis.destroy();
    },
    async drained() {
      while (![...shards].every((s) => caughtUp.get(s.ShardId as string))) await sleep(20);
    },
  };
}

function toEventRecord(
  r: KinesisRecord,
  shardId: string,
  streamArn: string,
): KinesisStreamEvent['Records'][number] {
  return {
    eventID: `${shardId}:${r.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    eventVersion: '1.0',
    eventSource: 'aws:kinesis',
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/cirrus-local',
    eventSourceARN: streamArn,
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.PartitionKey as string,
      sequenceNumber: r.SequenceNumber as string,
      data: Buffer.from(r.Data as Uint8Array).toString('base64'),
      approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
    },
  };
}

class HandlerTimeout extends Error {}

/** Lambda's function timeout: the invocation fails; what it still does in the background is abandoned. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeout(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
