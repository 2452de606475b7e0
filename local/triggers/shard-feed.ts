// One reader per Kinesis shard shared by the local event source mappings of every consumer in a process
// (./kinesis-poller.ts). Each consumer keeps its own position, checkpoint, retries and batching, exactly as
// before; what they share is the GetRecords traffic: records are read once into a buffer and served to each
// consumer from memory. Four consumers each polling both shards (the search indexer every 25 ms inside its
// 1 s batching window) cost kinesalite and the consumers' process more CPU per order than any one handler.
// In AWS each mapping reads on its own; the handlers cannot tell the difference (same records, same order).
//
// An idle shard is paced here, once for all its cursors: after a read that found nothing new the next one waits
// 25 ms, doubling while the shard stays empty up to 100 ms (Lambda's own mappings read an idle shard about once
// a second). Pacing it in each poller instead cost one GetRecords per poller and pause: six pollers on three
// shards kept kinesalite and the consumers' process ~10 % of the machine's two cores busy with nothing to
// read (docs/performance.md#websocket-fan-out-npm-run-benchws).
//
// Positions are sequence numbers compared as integers: a cursor reads the records after its position. The
// buffer keeps what some cursor has not committed yet (a retry goes back at most to its own commit) and
// is cut from the front once every cursor has committed past it. A cursor that asks for records before the
// buffer's start (a consumer joining late with an older checkpoint) makes the feed read again from there.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';

/** Before every record (TRIM_HORIZON). */
const START = -1n;
/** Records per GetRecords (Kinesis allows up to 10,000). */
const READ_LIMIT = 1_000;
/** Reading stops while this many records are buffered (a slow consumer holds them). */
const MAX_BUFFERED = 50_000;

const seqOf = (r: KinesisRecord) => BigInt(r.SequenceNumber as string);
const positionOf = (after: string | undefined) => (after === undefined ? START : BigInt(after));

export interface ShardCursor {
  /** Up to `limit` records after this cursor's position (fetching when the buffer has none); advances it. */
  read(limit: number): Promise<KinesisRecord[]>;
  /** Reads next from after `after` (undefined: the start of the shard). */
  seek(after: string | undefined): void;
  /** Everything up to `after` is done for this consumer: the feed may drop it. */
  commit(after: string | undefined): void;
  close(): void;
}

export interface ShardFeedOptions {
  /** A fetch follows the previous one by at least this long (default 10 ms): waiting readers share it. */
  minFetchIntervalMs?: number;
  /**
   * After a fetch that found nothing new, the next waits this long (default 25 ms), doubling while the shard
   * stays empty up to `maxIdleFetchIntervalMs` (default 100 ms); a fetch with records ends the pause.
   */
  idleFetchIntervalMs?: number;
  maxIdleFetchIntervalMs?: number;
}

class Feed {
  private buf: KinesisRecord[] = [];
  private seqs: bigint[] = [];
  /** The buffer holds every record after this position (and before the iterator). */
  private coveredAfter: bigint;
  private iterator: string | undefined;
  private fetching: Promise<void> | undefined;
  private lastFetchAt = 0;
  /** The pause before the next fetch while the shard is idle (0: it is not). */
  private idleMs = 0;
  readonly cursors = new Set<{ pos: bigint; committed: bigint }>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly shardId: string,
    start: bigint,
    private readonly pacing: Required<ShardFeedOptions>,
  ) {
    this.coveredAfter = start;
  }

  /** Index of the first buffered record after `pos`. */
  private firstAfter(pos: bigint): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Read again from `pos` (a cursor behind the buffer). */
  rewind(pos: bigint): void {
    this.buf = [];
    this.seqs = [];
    this.coveredAfter = pos;
    this.iterator = undefined;
  }

  behind(pos: bigint): boolean {
    return pos < this.coveredAfter;
  }

  async read(cursor: { pos: bigint }, limit: number): Promise<KinesisRecord[]> {
    if (this.behind(cursor.pos)) this.rewind(cursor.pos);
    let i = this.firstAfter(cursor.pos);
    if (i >= this.buf.length) {
      await this.fetch();
      if (this.behind(cursor.pos)) return []; // rewound by another cursor meanwhile: read again next turn
      i = this.firstAfter(cursor.pos);
    }
    const out = this.buf.slice(i, i + limit);
    if (out.length > 0) cursor.pos = seqOf(out[out.length - 1]);
    return out;
  }

  private fetch(): Promise<void> {
    this.fetching ??= this.fetchOnce().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchOnce(): Promise<void> {
    const interval = Math.max(this.pacing.minFetchIntervalMs, this.idleMs);
    const wait = this.lastFetchAt + interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.trim();
    if (this.buf.length >= MAX_BUFFERED) return;
    try {
      if (!this.iterator) {
        const last = this.seqs.length > 0 ? this.seqs[this.seqs.length - 1] : this.coveredAfter;
        this.iterator = (
          await this.kinesis.send(
            new GetShardIteratorCommand({
              StreamName: this.streamName,
              ShardId: this.shardId,
              ...(last === START
                ? { ShardIteratorType: 'TRIM_HORIZON' }
                : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: last.toString() }),
            }),
          )
        ).ShardIterator;
      }
      const iterator = this.iterator;
      const page = await this.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: READ_LIMIT }),
      );
      // A rewind while this read was out: its records may not follow the buffer; drop them.
      if (this.iterator !== iterator) return;
      const last = this.seqs.length > 0 ? this.seqs[this.seqs.length - 1] : this.coveredAfter;
      const had = this.buf.length;
      for (const r of page.Records ?? []) {
        const seq = seqOf(r);
        if (seq <= last) continue;
        this.buf.push(r);
        this.seqs.push(seq);
      }
      this.iterator = page.NextShardIterator;
      this.idleMs =
        this.buf.length > had
          ? 0
          : Math.min(
              this.idleMs > 0 ? this.idleMs * 2 : this.pacing.idleFetchIntervalMs,
              this.pacing.maxIdleFetchIntervalMs,
            );
    } catch (err) {
      this.iterator = undefined; // a fresh iterator from the buffer's end next time
      throw err;
    } finally {
      this.lastFetchAt = performance.now();
    }
  }

  /** Drops the front of the buffer every cursor has committed past (in chunks, so it stays cheap). */
  private trim(): void {
    if (this.cursors.size === 0) return;
    let min: bigint | undefined;
    for (const c of this.cursors) if (min === undefined || c.committed < min) min = c.committed;
    const n = this.firstAfter(min as bigint);
    if (n < 1_000 && n < this.buf.length) return;
    if (n === 0) return;
    this.coveredAfter = this.seqs[n - 1];
    this.buf = this.buf.slice(n);
    this.seqs = this.seqs.slice(n);
  }
}

/** The feeds of one stream's shards, shared by the pollers of one process. */
export class ShardFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly opts: ShardFeedOptions = {},
  ) {}

  /** A cursor on `shardId` reading after `after` (undefined: the start of the shard). */
  cursor(shardId: string, after: string | undefined): ShardCursor {
    const start = positionOf(after);
    let feed = this.feeds.get(shardId);
    if (!feed) {
      feed = new Feed(this.kinesis, this.streamName, shardId, start, {
        minFetchIntervalMs: this.opts.minFetchIntervalMs ?? 10,
        idleFetchIntervalMs: this.opts.idleFetchIntervalMs ?? 25,
        maxIdleFetchIntervalMs: this.opts.maxIdleFetchIntervalMs ?? 100,
      });
      this.feeds.set(shardId, feed);
    }
    const f = feed;
    const state = { pos: start, committed: start };
    f.cursors.add(state);
    return {
      read: (limit) => f.read(state, limit),
      seek: (to) => {
        state.pos = positionOf(to);
      },
      commit: (to) => {
        state.committed = positionOf(to);
      },
      close: () => {
        f.cursors.delete(state);
      },
    };
  }
}
