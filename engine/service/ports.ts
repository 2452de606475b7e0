// What the engine service needs from the outside world. The real adapters (SQS, Kinesis, S3, CloudWatch)
// implement these; unit tests use small in-memory doubles.
import type { EngineSnapshot } from '../core';
import type { EventRecord } from '@contracts/messages';

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
}

export interface CommandSource {
  /** Long-polls for up to `max` messages (FIFO: in group order). */
  receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]>;
  /** Deletes messages whose effects are durable. */
  delete(receiptHandles: string[]): Promise<void>;
  /** Keeps messages invisible while they are still being worked on. */
  extendVisibility(receiptHandles: string[], seconds: number): Promise<void>;
}

/** Position in the event log, per stream shard (Kinesis shard id → sequence number). */
export type StreamPositions = Record<string, string>;

export interface PutOutcome {
  ok: boolean;
  shardId?: string;
  sequenceNumber?: string;
}

export interface EventSink {
  /** Puts records (at most one per market per call); outcomes are in request order. */
  put(records: EventRecord[]): Promise<PutOutcome[]>;
}

export interface LoggedRecord {
  record: EventRecord;
  shardId: string;
  sequenceNumber: string;
}

export interface EventLog {
  /** Every record after the given positions (from the oldest where a shard has none), to the current end. */
  readAfter(positions: StreamPositions): AsyncIterable<LoggedRecord>;
}

export interface ServiceSnapshot {
  v: 1;
  shard: string;
  takenAt: number;
  engine: EngineSnapshot;
  /** Ids of recently applied commands, oldest first: a redelivered command is recognised and skipped. */
  appliedCommandIds: string[];
  /** Where the event log stood when the snapshot was taken: recovery reads only what comes after. */
  streamPositions: StreamPositions;
}

export interface SnapshotStore {
  save(snapshot: ServiceSnapshot): Promise<void>;
  loadLatest(shard: string): Promise<ServiceSnapshot | undefined>;
}

export interface Heartbeat {
  beat(stats: { commandsApplied: number; pendingEvents: number }): Promise<void>;
}

export interface ServiceLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}
