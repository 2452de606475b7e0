// A Lambda function consuming a Kinesis stream the way every Cirrus consumer does (in the manner of
// aws-solutions-constructs' kinesisstreams-lambda): an event source mapping that batches as its
// StreamConsumerDef says, splits a failing batch in two, takes partial batch responses and retries a bounded
// number of times, then parks the batch's pointers in an encrypted SQS queue. The mapping and the grants (read
// on the stream, send on the queue) belong to the function; the queue is this construct's own resource.
import { Duration, Token, Validations } from 'aws-cdk-lib';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StreamConsumerDef } from '@contracts/resources';

/** Lambda's limits for a Kinesis event source mapping (AWS::Lambda::EventSourceMapping). */
export const KINESIS_MAPPING_LIMITS = {
  batchSize: { min: 1, max: 10_000 },
  batchingWindowSeconds: { min: 0, max: 300 },
  /** -1 retries until the record expires from the stream. */
  retryAttempts: { min: -1, max: 10_000 },
  parallelizationFactor: { min: 1, max: 10 },
} as const;

/** Lambda's own defaults for a Kinesis source: 100 records, no batching window. */
export const DEFAULT_STREAM_BATCHING: StreamConsumerDef = { batchSize: 100, batchingWindowSeconds: 0 };

export interface KinesisStreamConsumerProps {
  /** The function that consumes the stream; the event source mapping and the grants are added to it. */
  readonly fn: lambda.IFunction;
  /** The stream it reads; the function is granted read on it (and decrypt on its key). */
  readonly stream: kinesis.IStream;
  /**
   * Batch size and batching window (whole seconds), e.g. an entry of STREAM_CONSUMERS
   * (contracts/resources.ts).
   * @default DEFAULT_STREAM_BATCHING: 100 records, no batching window (Lambda's defaults)
   */
  readonly batching?: StreamConsumerDef;
  /**
   * Where a new mapping starts reading. LATEST suits live fan-out, where old records have nobody to go to.
   * @default lambda.StartingPosition.TRIM_HORIZON (the oldest record still in the stream)
   */
  readonly startingPosition?: lambda.StartingPosition;
  /**
   * How many times a failing batch (or its halves) is retried before its pointers go to the failure queue;
   * -1 retries until the records expire.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Concurrent batches per shard (1 keeps each shard's records in order).
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Split a failing batch in two and retry each half.
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * The handler reports the failed records (`batchItemFailures`): retries resume from the first of them.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * The key the failure queue is encrypted with (SSE-KMS). Required unless `failureQueue` is given.
   * @default none: an error when neither this nor `failureQueue` is given
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * An existing on-failure queue, e.g. another consumer's when one function reads two streams.
   * @default a new queue of this construct, SSE-KMS with `encryptionKey`, TLS only, kept 14 days
   */
  readonly failureQueue?: sqs.IQueue;
  /**
   * How long the new failure queue keeps a parked batch (SQS's maximum is 14 days).
   * @default Duration.days(14)
   */
  readonly failureQueueRetention?: Duration;
}

/**
 * Wires a function to a Kinesis stream with a bounded retry and an on-failure queue.
 *
 * A queue it creates is its default child (id `Default`): its logical ID is the one a queue with this
 * construct's id would get, so a consumer whose failure queue was created directly in a stack keeps its queue
 * when it is wired with this construct under that queue's id.
 */
export class KinesisStreamConsumer extends Construct {
  /** Where a batch lands after its retries are exhausted (created here, or the one given). */
  readonly failureQueue: sqs.IQueue;
  /** The event source bound to the function (its mapping's id and ARN). */
  readonly eventSource: sources.KinesisEventSource;

  constructor(scope: Construct, id: string, props: KinesisStreamConsumerProps) {
    super(scope, id);
    const batching = props.batching ?? DEFAULT_STREAM_BATCHING;
    const retryAttempts = props.retryAttempts ?? 10;
    const parallelizationFactor = props.parallelizationFactor ?? 1;
    const where = `KinesisStreamConsumer ${this.node.path}`;
    checkInteger(where, 'batchSize', batching.batchSize, KINESIS_MAPPING_LIMITS.batchSize);
    checkInteger(
      where,
      'batchingWindowSeconds',
      batching.batchingWindowSeconds,
      KINESIS_MAPPING_LIMITS.batchingWindowSeconds,
    );
    checkInteger(where, 'retryAttempts', retryAttempts, KINESIS_MAPPING_LIMITS.retryAttempts);
    checkInteger(
      where,
      'parallelizationFactor',
      parallelizationFactor,
      KINESIS_MAPPING_LIMITS.parallelizationFactor,
    );
    if (props.failureQueue && props.encryptionKey)
      throw new Error(
        `${where}: give encryptionKey or failureQueue, not both (an existing queue has its key)`,
      );
    if (!props.failureQueue && !props.encryptionKey)
      throw new Error(
        `${where}: encryptionKey is required to create the failure queue (or give failureQueue)`,
      );

    if (props.failureQueue) {
      this.failureQueue = props.failureQueue;
    } else {
      const queue = new sqs.Queue(this, 'Default', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.encryptionKey,
        enforceSSL: true,
        retentionPeriod: props.failureQueueRetention ?? Duration.days(14),
      });
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the on-failure destination of a stream consumer (it holds batch pointers).',
      });
      this.failureQueue = queue;
    }

    this.eventSource = new sources.KinesisEventSource(props.stream, {
      startingPosition: props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
      batchSize: batching.batchSize,
      maxBatchingWindow: Duration.seconds(batching.batchingWindowSeconds),
      bisectBatchOnError: props.bisectBatchOnError ?? true,
      reportBatchItemFailures: props.reportBatchItemFailures ?? true,
      retryAttempts,
      parallelizationFactor,
      onFailure: new sources.SqsDlq(this.failureQueue),
    });
    props.fn.addEventSource(this.eventSource);
  }
}

function checkInteger(where: string, name: string, value: number, range: { min: number; max: number }) {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < range.min || value > range.max)
    throw new Error(
      `${where}: ${name} must be a whole number from ${range.min} to ${range.max} (Lambda's range for a Kinesis source), got ${value}`,
    );
}
