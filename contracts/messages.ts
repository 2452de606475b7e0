// Wire formats around the engine: the SQS command message (written by the order API, read by the engine
// service) and the Kinesis event record (written by the engine service, read by the data processor, the
// search indexer and the engine's own recovery). Plain zod schemas: no AWS imports.
import { z } from 'zod';
import {
  CONTINGENCY_TYPES,
  ORDER_TYPES,
  SIDES,
  STP_MODES,
  TIME_IN_FORCES,
  type Command,
  type EngineEvent,
} from '@engine/core/types';

const positiveId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const lots = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const side = z.enum(SIDES);

/** What a place and a list leg share (a leg has no market, user, time or STP mode of its own). */
const orderFields = {
  clientOrderId: z.string().max(64),
  side,
  type: z.enum(ORDER_TYPES),
  timeInForce: z.enum(TIME_IN_FORCES).optional(),
  price: lots.optional(),
  quantity: lots.optional(),
  quoteQuantity: lots.optional(),
  stopPrice: lots.optional(),
  icebergQuantity: lots.optional(),
  /** Trailing stops: BIPS (engine/core checks 1..9999, the API the TRAILING_DELTA filter). */
  trailingDelta: z.number().int().positive().max(9_999).optional(),
};

const placeSchema = z.object({
  kind: z.literal('place'),
  market: z.string().min(1).max(20),
  orderId: positiveId,
  userId: positiveId,
  ...orderFields,
  stpMode: z.enum(STP_MODES).optional(),
  ts: z.number().int().nonnegative(),
});

/** OCO / OTO / OTOCO (docs/engine.md#order-lists): the engine checks the legs' combination. */
const placeListSchema = z.object({
  kind: z.literal('placeList'),
  market: z.string().min(1).max(20),
  listId: positiveId,
  userId: positiveId,
  listClientOrderId: z.string().max(64),
  contingencyType: z.enum(CONTINGENCY_TYPES),
  legs: z
    .array(z.object({ orderId: positiveId, ...orderFields }))
    .min(2)
    .max(3),
  stpMode: z.enum(STP_MODES).optional(),
  ts: z.number().int().nonnegative(),
});

const cancelListSchema = z.object({
  kind: z.literal('cancelList'),
  market: z.string().min(1).max(20),
  listId: positiveId,
  userId: positiveId,
  ts: z.number().int().nonnegative(),
});

const cancelSchema = z.object({
  kind: z.literal('cancel'),
  market: z.string().min(1).max(20),
  orderId: positiveId,
  userId: positiveId,
  ts: z.number().int().nonnegative(),
});

const amendSchema = z.object({
  kind: z.literal('amend'),
  market: z.string().min(1).max(20),
  orderId: positiveId,
  userId: positiveId,
  newQuantity: lots.optional(),
  newPrice: lots.optional(),
  ts: z.number().int().nonnegative(),
});

export const commandSchema = z.discriminatedUnion('kind', [
  placeSchema,
  cancelSchema,
  amendSchema,
  placeListSchema,
  cancelListSchema,
]);

/** One SQS message = one command. `cmdId` is also the FIFO deduplication id. */
export const commandMessageSchema = z.object({
  v: z.literal(1),
  cmdId: z.string().min(1).max(128),
  command: commandSchema,
});
export type CommandMessage = { v: 1; cmdId: string; command: Command };

/** Command ids: one place per order id (one placeList per list id); cancels and amends carry the request's own id. */
export const commandId = {
  place: (orderId: number): string => `p-${orderId}`,
  cancel: (orderId: number): string => `c-${orderId}`,
  amend: (orderId: number, requestId: string): string => `a-${orderId}-${requestId}`,
  placeList: (listId: number): string => `pl-${listId}`,
  cancelList: (listId: number): string => `cl-${listId}`,
};

/** The FIFO message group: market + user bucket keeps one user's commands ordered (docs/architecture.md#invariants). */
export const USER_BUCKETS = 16;
export function messageGroupId(market: string, userId: number): string {
  return `${market}-${userId % USER_BUCKETS}`;
}

/** A command the engine applied, with the seq range of the events it produced. */
export interface AppliedCommand {
  cmdId: string;
  command: Command;
  firstSeq: number;
  lastSeq: number;
}

/**
 * One Kinesis record: every event of one market produced by a run of commands, in seq order, with the
 * commands themselves so recovery can re-apply exactly what was applied (the engine is deterministic).
 * Partition key = market, so a market's records stay ordered within one shard.
 */
export interface EventRecord {
  v: 1;
  market: string;
  commands: AppliedCommand[];
  events: EngineEvent[];
}

export function encodeRecord(record: EventRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record));
}

export function decodeRecord(data: Uint8Array): EventRecord {
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as EventRecord;
  if (parsed.v !== 1 || typeof parsed.market !== 'string' || !Array.isArray(parsed.events)) {
    throw new Error('not a Cirrus event record');
  }
  return parsed;
}
