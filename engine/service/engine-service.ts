// The long-running engine task (one per shard, one writer per market): SQS FIFO commands in → engine core →
// events out to Kinesis. A message is deleted only after the events it produced are in Kinesis, so a crash
// loses nothing; on start the service loads its latest snapshot and re-applies the commands recorded in the
// event log after it, so a redelivered command is recognised by its id and never applied twice.
import { MatchingEngine } from '../core';
import type { Command, EngineEvent, MarketRules } from '../core/types';
import { commandMessageSchema, type AppliedCommand, type EventRecord } from '../../contracts/messages';
import type {
  CommandSource,
  EventLog,
  EventSink,
  Heartbeat,
  PutOutcome,
  ServiceLogger,
  ServiceSnapshot,
  SnapshotStore,
  StreamPositions,
} from './ports';
import { RecentIds } from './recent-ids';

export interface EngineServiceOptions {
  shard: string;
  /** Markets this shard owns (used when no snapshot exists yet; new markets are added to a restored engine). */
  markets: MarketRules[];
  source: CommandSource;
  sink: EventSink;
  log: EventLog;
  snapshots: SnapshotStore;
  heartbeat?: Heartbeat;
  logger: ServiceLogger;
  /**
   * SQS receivers at most; publishing is group-committed by one flusher, so order is kept. The first always
   * receives; the others only while the queue is backlogged (the last receive came back full), so a light
   * load is taken in few, full batches rather than many one-message receives.
   */
  receivers?: number;
  snapshotEveryCommands?: number;
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait; short in tests. */
  receiveWaitSeconds?: number;
  heartbeatIntervalMs?: number;
  /** How many applied command ids are remembered to recognise redeliveries. */
  rememberCommandIds?: number;
  clock?: () => number;
}

interface MarketOutbox {
  commands: AppliedCommand[];
  events: EngineEvent[];
}

/** Thrown when re-applying a logged command does not reproduce the logged events: never continue then. */
export class ReplayMismatchError extends Error {}

const MAX_COMMANDS_PER_RECORD = 500;
/** SQS returns at most 10 messages per receive. */
const RECEIVE_BATCH = 10;

export class EngineService {
  private engine: MatchingEngine;
  private applied: RecentIds;
  private positions: StreamPositions = {};
  private readonly outbox = new Map<string, MarketOutbox>();
  private wakeFlusher: (() => void) | undefined;
  private stopping = false;
  private flusherStopping = false;
  private readonly publishedSeq = new Map<string, number>();
  private seqWaiters: Array<{ market: string; seq: number; resolve: () => void }> = [];
  private readonly abort = new AbortController();
  private commandsSinceSnapshot = 0;
  private totalApplied = 0;
  private snapshotInProgress: Promise<void> | undefined;
  private readonly inFlight = new Map<string, number>(); // receipt handle → received at
  private receivers: Promise<void>[] = [];
  /** The last receive came back full: more is waiting, the extra receivers help. */
  private backlogged = false;
  private flusher: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly clock: () => number;
  private readonly marketSymbols: Set<string>;

  constructor(private readonly opts: EngineServiceOptions) {
    this.engine = new MatchingEngine(opts.markets);
    this.applied = new RecentIds(opts.rememberCommandIds ?? 200_000);
    this.clock = opts.clock ?? Date.now;
    this.marketSymbols = new Set(opts.markets.map((m) => m.symbol));
  }

  /** Load the latest snapshot and re-apply every logged command after it. */
  async recover(): Promise<{ fromSnapshot: boolean; replayedCommands: number; stateHash: string }> {
    const snapshot = await this.opts.snapshots.loadLatest(this.opts.shard);
    if (snapshot) {
      this.engine = MatchingEngine.restore(snapshot.engine);
      this.applied = new RecentIds(this.opts.rememberCommandIds ?? 200_000, snapshot.appliedCommandIds);
      this.positions = { ...snapshot.streamPositions };
    }
    let replayed = 0;
    const events: EngineEvent[] = [];
    for await (const logged of this.opts.log.readAfter(this.positions)) {
      this.positions[logged.shardId] = logged.sequenceNumber;
      const { record } = logged;
      if (!this.marketSymbols.has(record.market)) continue;
      for (const applied of record.commands) {
        const lastSeq = this.engine.lastSeq(record.market);
        // Already in the snapshot, or a duplicate record from a retried put.
        if (applied.lastSeq <= lastSeq || this.applied.has(applied.cmdId)) continue;
        if (applied.firstSeq !== lastSeq + 1) {
          throw new ReplayMismatchError(
            `event log gap in ${record.market}: engine at seq ${lastSeq}, next logged command starts at ${applied.firstSeq}`,
          );
        }
        events.length = 0;
        this.engine.apply(applied.command, events);
        const first = events[0]?.seq;
        const last = events[events.length - 1]?.seq;
        if (first !== applied.firstSeq || last !== applied.lastSeq) {
          throw new ReplayMismatchError(
            `replay of ${applied.cmdId} produced seq ${first}..${last}, log says ${applied.firstSeq}..${applied.lastSeq}`,
          );
        }
        this.applied.add(applied.cmdId);
        replayed++;
      }
    }
    for (const market of this.marketSymbols) this.publishedSeq.set(market, this.engine.lastSeq(market));
    this.opts.logger.info('engine recovered', {
      shard: this.opts.shard,
      fromSnapshot: !!snapshot,
      replayedCommands: replayed,
      stateHash: this.engine.stateHash(),
    });
    return { fromSnapshot: !!snapshot, replayedCommands: replayed, stateHash: this.engine.stateHash() };
  }

  /** Recover, then run the receive loops, the flusher, visibility extension and the heartbeat. */
  async start(): Promise<void> {
    await this.recover();
    this.flusher = this.flushLoop();
    for (let i = 0; i < (this.opts.receivers ?? 4); i++) this.receivers.push(this.receiveLoop(i));
    const visibility = this.opts.visibilityTimeoutSeconds ?? 30;
    this.timers.push(setInterval(() => void this.extendVisibility(visibility), (visibility * 1000) / 3));
    if (this.opts.heartbeat) {
      const heartbeat = this.opts.heartbeat;
      const beat = (): void =>
        void heartbeat
          .beat({ commandsApplied: this.totalApplied, pendingEvents: this.pendingEventCount() })
          .catch((err: unknown) => this.opts.logger.warn('heartbeat failed', { err: String(err) }));
      beat();
      this.timers.push(setInterval(beat, this.opts.heartbeatIntervalMs ?? 30_000));
    }
  }

  /** Stop receiving, publish what is pending, take a final snapshot (tests pass false to mimic a crash). */
  async stop(opts: { finalSnapshot: boolean } = { finalSnapshot: true }): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.receivers);
    this.flusherStopping = true;
    this.wakeFlusher?.();
    await this.flusher;
    await this.snapshotInProgress;
    if (opts.finalSnapshot) await this.takeSnapshot();
  }

  get stateHash(): string {
    return this.engine.stateHash();
  }

  get matchingEngine(): MatchingEngine {
    return this.engine;
  }

  private pendingEventCount(): number {
    let n = 0;
    for (const box of this.outbox.values()) n += box.events.length;
    return n;
  }

  private async receiveLoop(index: number): Promise<void> {
    const wait = this.opts.receiveWaitSeconds ?? 20;
    while (!this.stopping) {
      if (index > 0 && !this.backlogged) {
        await sleep(20);
        continue;
      }
      let messages;
      try {
        messages = await this.opts.source.receive(RECEIVE_BATCH, wait, this.abort.signal);
        this.backlogged = messages.length === RECEIVE_BATCH;
      } catch (err) {
        if (this.stopping) break;
        this.opts.logger.warn('receive failed', { err: String(err) });
        await sleep(500);
        continue;
      }
      if (messages.length === 0) continue;
      const now = this.clock();
      for (const m of messages) this.inFlight.set(m.receiptHandle, now);
      const deletable = this.applyMessages(messages);
      await this.publishedNow();
      const handles = deletable.map((m) => m.receiptHandle);
      try {
        if (handles.length > 0) await this.opts.source.delete(handles);
      } catch (err) {
        // Not fatal: the messages come back and are recognised as applied.
        this.opts.logger.warn('delete failed', { err: String(err) });
      }
      for (const m of messages) this.inFlight.delete(m.receiptHandle);
    }
  }

  /**
   * Applies the messages in order (synchronously: nothing else touches the engine meanwhile) and returns
   * those that may be deleted once everything pending now is published. A malformed message is left for
   * the queue's redrive policy to move to the DLQ.
   */
  private applyMessages(messages: { receiptHandle: string; body: string; messageId: string }[]) {
    const deletable: typeof messages = [];
    for (const message of messages) {
      let parsed;
      try {
        parsed = commandMessageSchema.safeParse(JSON.parse(message.body));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        this.opts.logger.error('malformed command message left for the DLQ', {
          messageId: message.messageId,
        });
        continue;
      }
      const { cmdId, command } = parsed.data;
      if (!this.marketSymbols.has(command.market)) {
        this.opts.logger.error('command for a market this shard does not own left for the DLQ', {
          messageId: message.messageId,
          market: command.market,
        });
        continue;
      }
      if (!this.applied.has(cmdId)) this.applyCommand(cmdId, { ...command, ts: this.clock() } as Command);
      deletable.push(message);
    }
    return deletable;
  }

  private applyCommand(cmdId: string, command: Command): void {
    const box = this.outboxFor(command.market);
    const start = box.events.length;
    this.engine.apply(command, box.events);
    const produced = box.events.length - start;
    if (produced > 0) {
      box.commands.push({
        cmdId,
        command,
        firstSeq: box.events[start].seq,
        lastSeq: box.events[box.events.length - 1].seq,
      });
    }
    this.applied.add(cmdId);
    this.commandsSinceSnapshot++;
    this.totalApplied++;
    this.wakeFlusher?.();
  }

  private outboxFor(market: string): MarketOutbox {
    let box = this.outbox.get(market);
    if (!box) {
      box = { commands: [], events: [] };
      this.outbox.set(market, box);
    }
    return box;
  }

  /** Resolves when every event applied so far (in every market) is in the event log. */
  private publishedNow(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const market of this.outbox.keys()) {
      const target = this.engine.lastSeq(market);
      if (target > (this.publishedSeq.get(market) ?? 0)) {
        waits.push(new Promise<void>((resolve) => this.seqWaiters.push({ market, seq: target, resolve })));
      }
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  }

  private markPublished(market: string, seq: number): void {
    this.publishedSeq.set(market, seq);
    this.seqWaiters = this.seqWaiters.filter((w) => {
      if (w.market !== market || w.seq > seq) return true;
      w.resolve();
      return false;
    });
  }

  private async flushLoop(): Promise<void> {
    let backoffMs = 50;
    while (true) {
      const ready = [...this.outbox.entries()].filter(([, box]) => box.commands.length > 0);
      if (ready.length === 0) {
        if (this.flusherStopping) return;
        await new Promise<void>((resolve) => {
          this.wakeFlusher = resolve;
          setTimeout(resolve, 50);
        });
        this.wakeFlusher = undefined;
        continue;
      }
      // One record per market, whole commands only, at most MAX_COMMANDS_PER_RECORD each.
      const records: EventRecord[] = ready.map(([market, box]) => {
        const commands = box.commands.slice(0, MAX_COMMANDS_PER_RECORD);
        const eventCount = commands[commands.length - 1].lastSeq - commands[0].firstSeq + 1;
        return { v: 1, market, commands, events: box.events.slice(0, eventCount) };
      });
      let outcomes: PutOutcome[];
      try {
        outcomes = await this.opts.sink.put(records);
      } catch (err) {
        this.opts.logger.warn('event put failed', { err: String(err) });
        outcomes = records.map(() => ({ ok: false }));
      }
      let failed = false;
      records.forEach((record, i) => {
        const outcome = outcomes[i];
        if (!outcome?.ok) {
          failed = true; // stays at the head of its outbox and goes again, so order is kept
          return;
        }
        const box = this.outboxFor(record.market);
        box.commands.splice(0, record.commands.length);
        box.events.splice(0, record.events.length);
        if (outcome.shardId && outcome.sequenceNumber)
          this.positions[outcome.shardId] = outcome.sequenceNumber;
        this.markPublished(record.market, record.commands[record.commands.length - 1].lastSeq);
      });
      if (failed) {
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
        continue;
      }
      backoffMs = 50;
      this.maybeSnapshot();
    }
  }

  private maybeSnapshot(): void {
    const every = this.opts.snapshotEveryCommands ?? 10_000;
    if (this.commandsSinceSnapshot < every || this.snapshotInProgress) return;
    if (this.pendingEventCount() > 0) return; // a snapshot must not run ahead of the event log
    this.snapshotInProgress = this.takeSnapshot()
      .catch((err: unknown) => this.opts.logger.warn('snapshot failed', { err: String(err) }))
      .finally(() => {
        this.snapshotInProgress = undefined;
      });
  }

  private async takeSnapshot(): Promise<void> {
    // Captured synchronously so it matches exactly the published events and stream positions.
    const snapshot: ServiceSnapshot = {
      v: 1,
      shard: this.opts.shard,
      takenAt: this.clock(),
      engine: this.engine.snapshot(),
      appliedCommandIds: this.applied.toArray(),
      streamPositions: { ...this.positions },
    };
    this.commandsSinceSnapshot = 0;
    await this.opts.snapshots.save(snapshot);
    this.opts.logger.info('snapshot saved', { shard: this.opts.shard, takenAt: snapshot.takenAt });
  }

  private async extendVisibility(visibilitySeconds: number): Promise<void> {
    const now = this.clock();
    const stale = [...this.inFlight.entries()]
      .filter(([, at]) => now - at > (visibilitySeconds * 1000) / 3)
      .map(([handle]) => handle);
    if (stale.length === 0) return;
    try {
      await this.opts.source.extendVisibility(stale, visibilitySeconds);
      for (const h of stale) this.inFlight.set(h, now);
    } catch (err) {
      this.opts.logger.warn('visibility extension failed', { err: String(err) });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
