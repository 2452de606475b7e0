// The long-running engine task (one per shard, one writer per market): SQS FIFO commands in → engine core →
// events out to Kinesis. A message is deleted only after the events it produced are in Kinesis, so a crash
// loses nothing; on start the service loads its latest snapshot and re-applies the commands recorded in the
// event log after it, so a redelivered command is recognised by its id and never applied twice.
//
// This file receives and applies; its parts are each a file of their own: recovery (./recovery.ts), the
// group commit to the event log (./event-publisher.ts), snapshots (./snapshot-scheduler.ts) and the
// visibility of messages in work (./in-flight-messages.ts).
import { MatchingEngine } from '../core';
import type { Command, MarketRules } from '../core/types';
import { commandMessageSchema } from '@contracts/messages';
import { EventPublisher } from './event-publisher';
import { InFlightMessages } from './in-flight-messages';
import type {
  CommandSource,
  EventLog,
  EventSink,
  Heartbeat,
  ReceivedMessage,
  ServiceLogger,
  SnapshotStore,
  StreamPositions,
} from './ports';
import { RecentIds } from './recent-ids';
import { recoverEngine } from './recovery';
import { SnapshotScheduler } from './snapshot-scheduler';

export { ReplayMismatchError } from './recovery';

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

/** SQS returns at most 10 messages per receive. */
const RECEIVE_BATCH = 10;

export class EngineService {
  private engine: MatchingEngine;
  private applied: RecentIds;
  /** The event log's position per stream shard: recovery sets it, the publisher advances it. */
  private readonly positions: StreamPositions = {};
  private readonly publisher: EventPublisher;
  private readonly snapshots: SnapshotScheduler;
  private readonly inFlight: InFlightMessages;
  private stopping = false;
  private readonly abort = new AbortController();
  private totalApplied = 0;
  private receivers: Promise<void>[] = [];
  /** The last receive came back full: more is waiting, the extra receivers help. */
  private backlogged = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly clock: () => number;
  private readonly marketSymbols: Set<string>;

  constructor(private readonly opts: EngineServiceOptions) {
    this.engine = new MatchingEngine(opts.markets);
    this.applied = new RecentIds(opts.rememberCommandIds ?? 200_000);
    this.clock = opts.clock ?? Date.now;
    this.marketSymbols = new Set(opts.markets.map((m) => m.symbol));
    this.snapshots = new SnapshotScheduler({
      store: opts.snapshots,
      every: opts.snapshotEveryCommands ?? 10_000,
      logger: opts.logger,
      capture: () => ({
        v: 1,
        shard: opts.shard,
        takenAt: this.clock(),
        engine: this.engine.snapshot(),
        appliedCommandIds: this.applied.toArray(),
        streamPositions: { ...this.positions },
      }),
      pendingEvents: () => this.publisher.pendingEventCount(),
    });
    this.publisher = new EventPublisher({
      sink: opts.sink,
      logger: opts.logger,
      positions: this.positions,
      onFlushed: () => this.snapshots.maybeTake(),
    });
    this.inFlight = new InFlightMessages(
      opts.source,
      opts.visibilityTimeoutSeconds ?? 30,
      this.clock,
      opts.logger,
    );
  }

  /** Load the latest snapshot and re-apply every logged command after it. */
  async recover(): Promise<{ fromSnapshot: boolean; replayedCommands: number; stateHash: string }> {
    const state = await recoverEngine({
      shard: this.opts.shard,
      markets: this.opts.markets,
      snapshots: this.opts.snapshots,
      log: this.opts.log,
      rememberCommandIds: this.opts.rememberCommandIds ?? 200_000,
    });
    this.engine = state.engine;
    this.applied = state.applied;
    Object.assign(this.positions, state.positions);
    for (const market of this.marketSymbols)
      this.publisher.markRecovered(market, this.engine.lastSeq(market));
    const summary = {
      fromSnapshot: state.fromSnapshot,
      replayedCommands: state.replayedCommands,
      stateHash: this.engine.stateHash(),
    };
    this.opts.logger.info('engine recovered', { shard: this.opts.shard, ...summary });
    return summary;
  }

  /** Recover, then run the receive loops, the flusher, visibility extension and the heartbeat. */
  async start(): Promise<void> {
    await this.recover();
    this.publisher.start();
    for (let i = 0; i < (this.opts.receivers ?? 4); i++) this.receivers.push(this.receiveLoop(i));
    this.timers.push(setInterval(() => void this.inFlight.extendDue(), this.inFlight.checkEveryMs));
    if (this.opts.heartbeat) {
      const heartbeat = this.opts.heartbeat;
      const beat = (): void =>
        void heartbeat
          .beat({ commandsApplied: this.totalApplied, pendingEvents: this.publisher.pendingEventCount() })
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
    await this.publisher.stop();
    await this.snapshots.settled();
    if (opts.finalSnapshot) await this.snapshots.take();
  }

  get stateHash(): string {
    return this.engine.stateHash();
  }

  get matchingEngine(): MatchingEngine {
    return this.engine;
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
      const received = messages.map((m) => m.receiptHandle);
      this.inFlight.add(received);
      const deletable = this.applyMessages(messages);
      await this.publisher.publishedUpTo((market) => this.engine.lastSeq(market));
      const handles = deletable.map((m) => m.receiptHandle);
      try {
        if (handles.length > 0) await this.opts.source.delete(handles);
      } catch (err) {
        // Not fatal: the messages come back and are recognised as applied.
        this.opts.logger.warn('delete failed', { err: String(err) });
      }
      this.inFlight.remove(received);
    }
  }

  /**
   * Applies the messages in order (synchronously: nothing else touches the engine meanwhile) and returns
   * those that may be deleted once everything pending now is published. A malformed message is left for
   * the queue's redrive policy to move to the DLQ.
   */
  private applyMessages(messages: ReceivedMessage[]): ReceivedMessage[] {
    const deletable: ReceivedMessage[] = [];
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
    const events = this.publisher.eventsOf(command.market);
    const start = events.length;
    this.engine.apply(command, events);
    this.publisher.commandApplied(command.market, { cmdId, command }, start);
    this.applied.add(cmdId);
    this.snapshots.commandApplied();
    this.totalApplied++;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
