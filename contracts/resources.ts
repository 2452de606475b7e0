// The data resources of Cirrus, declared once. The CDK stacks (lib/stacks) turn these into CloudFormation
// and the local runtime (local/) creates the same tables, queues and streams on the stand-ins, so both
// sides agree on names, keys and settings. Plain data only: no CDK or SDK imports here.

export type AttributeType = 'S' | 'N';

export interface KeyDef {
  name: string;
  type: AttributeType;
}

export interface IndexDef {
  indexName: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
}

export interface TableDef {
  /** Logical id used by CDK and the key under which handlers find the table name (env var below). */
  id: string;
  /** Physical name suffix: the stage prefix is added in front (`cirrus-dev-orders`). */
  name: string;
  /** Environment variable that carries the physical table name to handlers and the engine. */
  envVar: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  globalIndexes?: IndexDef[];
  /** Attribute holding an epoch-seconds expiry, if items expire. */
  ttlAttribute?: string;
  /** Holds state that cannot be rebuilt from the event stream: RETAIN + PITR matter most here. */
  stateful: boolean;
}

const S = (name: string): KeyDef => ({ name, type: 'S' });

/**
 * DynamoDB tables. Item layouts use generic `pk`/`sk` and `gsi1pk`/`gsi1sk` keys so that one table can
 * serve several access patterns (documented beside the repositories in lambdas/shared).
 */
export const TABLES = {
  orders: {
    id: 'OrdersTable',
    name: 'orders',
    envVar: 'ORDERS_TABLE',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    globalIndexes: [
      { indexName: 'gsi1', partitionKey: S('gsi1pk'), sortKey: S('gsi1sk') },
      { indexName: 'gsi2', partitionKey: S('gsi2pk'), sortKey: S('gsi2sk') },
    ],
    stateful: true,
  },
  trades: {
    id: 'TradesTable',
    name: 'trades',
    envVar: 'TRADES_TABLE',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    globalIndexes: [{ indexName: 'gsi1', partitionKey: S('gsi1pk'), sortKey: S('gsi1sk') }],
    stateful: true,
  },
  marketData: {
    id: 'MarketDataTable',
    name: 'market-data',
    envVar: 'MARKET_DATA_TABLE',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    stateful: false,
  },
  connections: {
    id: 'ConnectionsTable',
    name: 'ws-connections',
    envVar: 'CONNECTIONS_TABLE',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    globalIndexes: [{ indexName: 'gsi1', partitionKey: S('gsi1pk'), sortKey: S('gsi1sk') }],
    ttlAttribute: 'expiresAt',
    stateful: false,
  },
  checkpoints: {
    id: 'CheckpointsTable',
    name: 'checkpoints',
    envVar: 'CHECKPOINTS_TABLE',
    partitionKey: S('pk'),
    stateful: true,
  },
  idempotency: {
    id: 'IdempotencyTable',
    name: 'idempotency',
    envVar: 'IDEMPOTENCY_TABLE',
    // Powertools idempotency's default key attribute is `id`; the same table also holds signed-request
    // replay markers (`replay#<signature>`), both expiring through TTL.
    partitionKey: S('id'),
    ttlAttribute: 'expiration',
    stateful: false,
  },
} as const satisfies Record<string, TableDef>;

export interface QueueDef {
  id: string;
  /** Suffix; FIFO queues end in `.fifo`. */
  name: string;
  envVar: string;
  visibilityTimeoutSeconds: number;
  /** Days a message is kept (SQS max 14). */
  retentionDays: number;
  /** Receives after which a message moves to the DLQ. */
  maxReceiveCount: number;
}

/** One FIFO order queue (+ FIFO DLQ) per engine shard (docs/architecture.md#invariants). */
export const ORDER_QUEUE: QueueDef = {
  id: 'OrderQueue',
  name: 'orders',
  envVar: 'ORDER_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  retentionDays: 4,
  maxReceiveCount: 5,
};

export interface StreamDef {
  id: string;
  name: string;
  envVar: string;
  shardCount: number;
  /** Hours; long enough to replay from the oldest engine snapshot kept. */
  retentionHours: number;
}

export const EVENT_STREAM: StreamDef = {
  id: 'EngineEventsStream',
  name: 'engine-events',
  envVar: 'EVENT_STREAM_NAME',
  shardCount: 2,
  retentionHours: 168,
};

/**
 * Balance changes that are not trades (deposits credited, withdrawals requested, sent or released), one record
 * per user and asset, written by the outbox relay from the ledger's `balance_events` and read by the WebSocket
 * fan-out (Binance's `balanceUpdate`). A stream of its own: the engine-event stream is the engine's log, which
 * its recovery replays (docs/wallets.md#balance-events).
 */
export const WALLET_EVENT_STREAM: StreamDef = {
  id: 'WalletEventsStream',
  name: 'wallet-events',
  envVar: 'WALLET_EVENT_STREAM_NAME',
  shardCount: 1,
  retentionHours: 24,
};

/**
 * The engine-event stream's consumers and how their event source mappings batch (CDK's KinesisEventSource and
 * the local pollers both read this). Settlement, the read models and the WebSocket fan-out take records as
 * soon as they come: the engine's answer to a FULL order, `/api/v3/myTrades` after a fill and the live streams
 * wait for them. Under load their batches grow by themselves (records gather while the previous invocation
 * runs). Only the search indexer, which nobody waits for, waits a second to take more records per invocation.
 */
export interface StreamConsumerDef {
  batchSize: number;
  /** Lambda's MaximumBatchingWindowInSeconds (whole seconds for a Kinesis source). */
  batchingWindowSeconds: number;
}

export const STREAM_CONSUMERS = {
  dataProcessor: { batchSize: 100, batchingWindowSeconds: 0 },
  readModels: { batchSize: 100, batchingWindowSeconds: 0 },
  wsFanout: { batchSize: 100, batchingWindowSeconds: 0 },
  searchIndexer: { batchSize: 500, batchingWindowSeconds: 1 },
} as const satisfies Record<string, StreamConsumerDef>;

export const SNAPSHOT_BUCKET = {
  id: 'EngineSnapshotBucket',
  envVar: 'SNAPSHOT_BUCKET',
  /** Keep this many days of snapshots (and so of replayable events: see EVENT_STREAM.retentionHours). */
  retentionDays: 7,
} as const;

/** Markets grouped into engine shards: each shard is one FIFO queue + one Fargate service (one writer). */
export interface EngineShardDef {
  id: string;
  markets: string[];
}

export const DEFAULT_ENGINE_SHARDS: EngineShardDef[] = [{ id: 'shard0', markets: ['BTCUSDT', 'ETHUSDT'] }];

/** Physical names: `cirrus-<stage>-<name>`, FIFO queues keep their `.fifo` suffix. */
export function physicalName(stage: string, name: string): string {
  return `cirrus-${stage}-${name}`;
}

export function queueName(stage: string, shardId: string, dlq = false): string {
  return physicalName(stage, `${ORDER_QUEUE.name}-${shardId}${dlq ? '-dlq' : ''}.fifo`);
}
