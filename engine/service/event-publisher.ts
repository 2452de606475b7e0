// Group commit of the engine's output: applied commands and their events gather per market; one flusher puts
// one Kinesis record per market (whole commands, at most 500) and, once a record is in, drops it from the
// outbox, advances the stream position and wakes whoever waits for those seqs (the receive loop deletes its
// SQS messages only then). A failed put stays at the head of its market's outbox and goes again, with
// backoff, so order is kept.
import type { EngineEvent } from '../core/types';
import type { AppliedCommand, EventRecord } from '@contracts/messages';
import type { EventSink, PutOutcome, ServiceLogger, StreamPositions } from './ports';

const MAX_COMMANDS_PER_RECORD = 500;

interface MarketOutbox {
  commands: AppliedCommand[];
  events: EngineEvent[];
}

export class EventPublisher {
  private readonly outbox = new Map<string, MarketOutbox>();
  private readonly publishedSeq = new Map<string, number>();
  private seqWaiters: Array<{ market: string; seq: number; resolve: () => void }> = [];
  private wake: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      sink: EventSink;
      logger: ServiceLogger;
      /** The stream positions the service snapshots; advanced as records go in. */
      positions: StreamPositions;
      /** After every successful flush (the snapshot check). */
      onFlushed?: () => void;
    },
  ) {}

  /** Where each market stands after recovery: everything up to `seq` is already in the log. */
  markRecovered(market: string, seq: number): void {
    this.publishedSeq.set(market, seq);
  }

  /** The market's pending events: the engine appends to it, then `commandApplied` records the command. */
  eventsOf(market: string): EngineEvent[] {
    return this.boxOf(market).events;
  }

  /** A command that produced `events[start…]` of its market's pending events. */
  commandApplied(market: string, command: Omit<AppliedCommand, 'firstSeq' | 'lastSeq'>, start: number): void {
    const box = this.boxOf(market);
    if (box.events.length > start)
      box.commands.push({
        ...command,
        firstSeq: box.events[start].seq,
        lastSeq: box.events[box.events.length - 1].seq,
      });
    this.wake?.();
  }

  pendingEventCount(): number {
    let n = 0;
    for (const box of this.outbox.values()) n += box.events.length;
    return n;
  }

  /** Resolves when every event up to these seqs (the engine's last, per market) is in the event log. */
  publishedUpTo(lastSeqOf: (market: string) => number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const market of this.outbox.keys()) {
      const target = lastSeqOf(market);
      if (target > (this.publishedSeq.get(market) ?? 0))
        waits.push(new Promise<void>((resolve) => this.seqWaiters.push({ market, seq: target, resolve })));
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  }

  start(): void {
    this.loop = this.flushLoop();
  }

  /** Publishes what is pending, then ends the flusher. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private boxOf(market: string): MarketOutbox {
    let box = this.outbox.get(market);
    if (!box) {
      box = { commands: [], events: [] };
      this.outbox.set(market, box);
    }
    return box;
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
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 50);
        });
        this.wake = undefined;
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
        const box = this.boxOf(record.market);
        box.commands.splice(0, record.commands.length);
        box.events.splice(0, record.events.length);
        if (outcome.shardId && outcome.sequenceNumber)
          this.opts.positions[outcome.shardId] = outcome.sequenceNumber;
        this.markPublished(record.market, record.commands[record.commands.length - 1].lastSeq);
      });
      if (failed) {
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
        continue;
      }
      backoffMs = 50;
      this.opts.onFlushed?.();
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
