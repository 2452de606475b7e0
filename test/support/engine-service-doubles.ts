// In-memory doubles of the engine service's ports, for unit tests only (the runtime uses SQS, Kinesis, S3).
import type { EventRecord } from '@contracts/messages';
import type {
  CommandSource,
  EventLog,
  EventSink,
  LoggedRecord,
  PutOutcome,
  ReceivedMessage,
  ServiceLogger,
  ServiceSnapshot,
  SnapshotStore,
  StreamPositions,
} from '@engine/service/ports';

interface QueuedMessage {
  messageId: string;
  body: string;
  inFlightHandle?: string;
}

/** A FIFO queue without groups: messages come back (in order) when their receipt is dropped by `crash()`. */
export class MemoryQueue implements CommandSource {
  private messages: QueuedMessage[] = [];
  private nextId = 1;
  private nextHandle = 1;
  deletes = 0;
  failDeletes = false;

  send(body: string): void {
    this.messages.push({ messageId: `m${this.nextId++}`, body });
  }

  get depth(): number {
    return this.messages.length;
  }

  async receive(max: number): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    for (const m of this.messages) {
      if (out.length >= max) break;
      if (m.inFlightHandle) continue;
      m.inFlightHandle = `h${this.nextHandle++}`;
      out.push({ messageId: m.messageId, receiptHandle: m.inFlightHandle, body: m.body });
    }
    if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
    return out;
  }

  async delete(handles: string[]): Promise<void> {
    if (this.failDeletes) throw new Error('delete failed (injected)');
    const set = new Set(handles);
    this.messages = this.messages.filter((m) => !(m.inFlightHandle && set.has(m.inFlightHandle)));
    this.deletes += handles.length;
  }

  async extendVisibility(): Promise<void> {}

  /** A consumer died: everything in flight becomes visible again (visibility timeout passed). */
  crash(): void {
    for (const m of this.messages) m.inFlightHandle = undefined;
  }
}

/** One-shard event log. `failNextPuts` makes the next n put calls fail whole. */
export class MemoryEventLog implements EventSink, EventLog {
  readonly records: LoggedRecord[] = [];
  failNextPuts = 0;
  /** Per-record failures, as PutRecords reports them (e.g. a shard's throughput exceeded): not stored. */
  failRecord?: (record: EventRecord) => boolean;
  failedRecords = 0;

  async put(records: EventRecord[]): Promise<PutOutcome[]> {
    if (this.failNextPuts > 0) {
      this.failNextPuts--;
      throw new Error('put failed (injected)');
    }
    return records.map((record) => {
      if (this.failRecord?.(record)) {
        this.failedRecords++;
        return { ok: false };
      }
      // Round-trip through JSON like the real stream, so nothing shares references with the engine.
      const stored = JSON.parse(JSON.stringify(record)) as EventRecord;
      const sequenceNumber = String(this.records.length + 1).padStart(20, '0');
      this.records.push({ record: stored, shardId: 'shard-0', sequenceNumber });
      return { ok: true, shardId: 'shard-0', sequenceNumber };
    });
  }

  async *readAfter(positions: StreamPositions): AsyncIterable<LoggedRecord> {
    const after = positions['shard-0'];
    for (const r of this.records) if (!after || r.sequenceNumber > after) yield r;
  }

  events() {
    return this.records.flatMap((r) => r.record.events);
  }
}

export class MemorySnapshotStore implements SnapshotStore {
  latest: ServiceSnapshot | undefined;
  saves = 0;

  async save(snapshot: ServiceSnapshot): Promise<void> {
    this.latest = JSON.parse(JSON.stringify(snapshot)) as ServiceSnapshot;
    this.saves++;
  }

  async loadLatest(): Promise<ServiceSnapshot | undefined> {
    return this.latest;
  }
}

export const silentLogger: ServiceLogger & { errors: string[] } = {
  errors: [],
  info() {},
  warn() {},
  error(message: string) {
    this.errors.push(message);
  },
};
