// An SQS FIFO queue in high-throughput mode with a FIFO dead-letter queue and redrive, KMS-encrypted.
import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FifoQueueWithDlqProps {
  queueName: string;
  dlqName: string;
  visibilityTimeout: Duration;
  retentionPeriod: Duration;
  maxReceiveCount: number;
  encryptionKey: kms.IKey;
}

export class FifoQueueWithDlq extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: FifoQueueWithDlqProps) {
    super(scope, id);
    const common = {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      ...common,
      queueName: props.dlqName,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      queueName: props.queueName,
      // High-throughput FIFO: dedup and throughput limits per message group (market + user bucket).
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retentionPeriod,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
