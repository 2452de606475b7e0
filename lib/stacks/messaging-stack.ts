// The order pipeline's transport: one SQS FIFO queue (+ FIFO DLQ) per engine shard, the Kinesis event
// stream, and the engine snapshot bucket — all encrypted with the data key.
import { Aws, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';
import {
  DEFAULT_ENGINE_SHARDS,
  EVENT_STREAM,
  WALLET_EVENT_STREAM,
  ORDER_QUEUE,
  SNAPSHOT_BUCKET,
  physicalName,
  queueName,
  type EngineShardDef,
} from '@contracts/resources';

/** A predictable name, so the engine's policy can name its own prefix without a cross-stack token. */
export function snapshotBucketName(stage: string): string {
  return `cirrus-${stage}-engine-snapshots-${Aws.ACCOUNT_ID}`;
}

/**
 * Where a function that sends engine commands finds the order queues (lambdas/shared/outbox/sqs-sender.ts
 * `queueUrlFor`): ORDER_QUEUE_URLS maps each market to its shard's queue, ORDER_QUEUE_URL is the first
 * shard's. `stack` is the consumer's stack: it renders the cross-stack URLs into the JSON.
 */
export function orderQueueEnvironment(
  stack: Stack,
  orderQueues: Record<string, FifoQueueWithDlq>,
  shards: EngineShardDef[],
): Record<string, string> {
  const queueUrls = Object.fromEntries(
    shards.flatMap((s) => s.markets.map((m) => [m, orderQueues[s.id].queue.queueUrl])),
  );
  return {
    [ORDER_QUEUE.envVar]: orderQueues[shards[0].id].queue.queueUrl,
    ORDER_QUEUE_URLS: stack.toJsonString(queueUrls),
  };
}

export class MessagingStack extends Stack {
  readonly orderQueues: Record<string, FifoQueueWithDlq>;
  readonly eventStream: kinesis.Stream;
  /** Balance events (deposits, withdrawals) for the WebSocket fan-out: docs/wallets.md#balance-events. */
  readonly walletEventStream: kinesis.Stream;
  readonly snapshotBucket: s3.Bucket;

  constructor(
    scope: Construct,
    id: string,
    config: StageConfig,
    dataKey: kms.IKey,
    shards: EngineShardDef[] = DEFAULT_ENGINE_SHARDS,
    props?: StackProps,
  ) {
    super(scope, id, props);
    this.orderQueues = Object.fromEntries(
      shards.map((shard) => [
        shard.id,
        new FifoQueueWithDlq(this, `${ORDER_QUEUE.id}-${shard.id}`, {
          queueName: queueName(config.stage, shard.id),
          dlqName: queueName(config.stage, shard.id, true),
          visibilityTimeout: Duration.seconds(ORDER_QUEUE.visibilityTimeoutSeconds),
          retentionPeriod: Duration.days(ORDER_QUEUE.retentionDays),
          maxReceiveCount: ORDER_QUEUE.maxReceiveCount,
          encryptionKey: dataKey,
        }),
      ]),
    );

    this.eventStream = new kinesis.Stream(this, EVENT_STREAM.id, {
      streamName: physicalName(config.stage, EVENT_STREAM.name),
      shardCount: EVENT_STREAM.shardCount,
      retentionPeriod: Duration.hours(config.eventRetentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: dataKey,
    });
    Validations.of(this.eventStream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'Engine events are the financial record of every order and trade: they are encrypted with the Cirrus data key so the platform team controls its key policy and rotation, as for every other store.',
    });

    this.walletEventStream = new kinesis.Stream(this, WALLET_EVENT_STREAM.id, {
      streamName: physicalName(config.stage, WALLET_EVENT_STREAM.name),
      shardCount: WALLET_EVENT_STREAM.shardCount,
      retentionPeriod: Duration.hours(WALLET_EVENT_STREAM.retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: dataKey,
    });
    Validations.of(this.walletEventStream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'Balance events name users and amounts: encrypted with the Cirrus data key, as the engine events are.',
    });

    const logs = new s3.Bucket(this, 'SnapshotAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: config.stage !== 'prod',
    });
    this.snapshotBucket = new s3.Bucket(this, SNAPSHOT_BUCKET.id, {
      bucketName: snapshotBucketName(config.stage),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'snapshots/',
      // Snapshots older than the event stream's retention can no longer be replayed from: expire them.
      lifecycleRules: [
        {
          prefix: 'snapshots/',
          expiration: Duration.days(SNAPSHOT_BUCKET.retentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: config.stage !== 'prod',
    });
  }
}
