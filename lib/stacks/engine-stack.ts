// The matching engine: one Fargate service per shard with exactly one task (one writer per market, ever),
// reading its FIFO queue, writing the event stream and its snapshots, reporting a heartbeat.
import * as path from 'node:path';
import { Aws, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import type { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';
import { grantKeyThroughServices } from '../constructs/key-access';
import { ENGINE_HEALTH_PORT, engineEnvironment } from '@contracts/engine-environment';
import { DEFAULT_ENGINE_SHARDS, type EngineShardDef } from '@contracts/resources';
import { snapshotBucketName } from './messaging-stack';

/** The namespace of the engine's heartbeat metric (engine/service/adapters/cloudwatch-heartbeat.ts). */
export const ENGINE_METRIC_NAMESPACE = 'Cirrus/Engine';

export interface EngineStackProps extends StackProps {
  vpc: ec2.IVpc;
  orderQueues: Record<string, FifoQueueWithDlq>;
  eventStream: kinesis.IStream;
  snapshotBucket: s3.IBucket;
  dataKey: kms.IKey;
  shards?: EngineShardDef[];
  /** Tests pass a prebuilt image so synth needs no Docker. */
  image?: ecs.ContainerImage;
}

export class EngineStack extends Stack {
  readonly services: Record<string, ecs.FargateService>;

  constructor(scope: Construct, id: string, config: StageConfig, props: EngineStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    const cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: `cirrus-${config.stage}-engine`,
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const image =
      props.image ??
      ecs.ContainerImage.fromAsset(path.join(__dirname, '..', '..'), {
        file: 'engine/Dockerfile',
        exclude: [
          'node_modules',
          'cdk.out',
          '.git',
          '.cirrus',
          'test',
          'docs',
          'lambdas',
          'local',
          'bin',
          'coverage',
        ],
      });
    this.services = {};
    for (const shard of props.shards ?? DEFAULT_ENGINE_SHARDS) {
      const queue = props.orderQueues[shard.id].queue;
      const task = new ecs.FargateTaskDefinition(this, `Task-${shard.id}`, {
        cpu: 1024,
        memoryLimitMiB: 2048,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64 },
      });
      task.addContainer('engine', {
        image,
        logging: ecs.LogDrivers.awsLogs({
          streamPrefix: `engine-${shard.id}`,
          logGroup: new logs.LogGroup(this, `Logs-${shard.id}`, {
            retention: logs.RetentionDays.THREE_MONTHS,
          }),
        }),
        environment: engineEnvironment({
          shard,
          orderQueueUrl: queue.queueUrl,
          eventStreamName: props.eventStream.streamName,
          snapshotBucket: props.snapshotBucket.bucketName,
          heartbeat: true,
        }),
        healthCheck: {
          command: [
            'CMD',
            'node',
            '-e',
            `fetch('http://127.0.0.1:${ENGINE_HEALTH_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
          ],
          interval: Duration.seconds(15),
          startPeriod: Duration.seconds(60),
        },
        stopTimeout: Duration.seconds(60),
      });
      // The consume actions of queue.grantConsumeMessages, without its unconditioned kms:Decrypt (below).
      queue.grant(
        task.taskRole,
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueUrl',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
      );
      // Explicit actions instead of grant helpers: no wildcards, and only this shard's snapshot prefix.
      const bucketArn = `arn:${Aws.PARTITION}:s3:::${snapshotBucketName(config.stage)}`;
      task.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'kinesis:PutRecords',
            'kinesis:PutRecord',
            'kinesis:GetRecords',
            'kinesis:GetShardIterator',
            'kinesis:ListShards',
            'kinesis:DescribeStreamSummary',
          ],
          resources: [props.eventStream.streamArn],
        }),
      );
      task.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [`${bucketArn}/snapshots/${shard.id}/*`],
        }),
      );
      // Listing its own prefix makes S3 answer a missing snapshot with NoSuchKey (a first start, an empty
      // bucket) instead of AccessDenied, which the snapshot store would take for a real failure.
      task.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucketArn],
          conditions: { StringLike: { 's3:prefix': [`snapshots/${shard.id}/*`] } },
        }),
      );
      // The data key encrypts the queue, the stream and the snapshots: the task never calls KMS itself, so the
      // key is usable only in requests SQS, Kinesis and S3 make for it.
      grantKeyThroughServices(
        task.taskRole,
        props.dataKey,
        ['kms:Decrypt', 'kms:GenerateDataKey'],
        ['sqs', 'kinesis', 's3'],
      );
      // The heartbeat (engine/service/adapters/cloudwatch-heartbeat.ts); PutMetricData has no resource ARN,
      // the namespace condition is what scopes it.
      task.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': ENGINE_METRIC_NAMESPACE } },
        }),
      );
      Validations.of(task).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cirrus-${config.stage}-engine-snapshots-<AWS::AccountId>/snapshots/${shard.id}/*]`,
        reason: "The task reads and writes only its own shard's snapshot objects.",
      });
      Validations.of(task).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "cloudwatch:PutMetricData has no resource ARNs; it is limited by condition to the Cirrus/Engine namespace. The execution role's ecr:GetAuthorizationToken is account-wide by AWS design.",
      });
      Validations.of(task).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment holds resource names only (shard, markets, queue URL, stream, bucket); there are no secrets in it.',
      });
      // Exactly one task: a deploy stops the old writer before the new one starts.
      this.services[shard.id] = new ecs.FargateService(this, `Service-${shard.id}`, {
        cluster,
        taskDefinition: task,
        desiredCount: 1,
        minHealthyPercent: 0,
        maxHealthyPercent: 100,
        circuitBreaker: { rollback: true },
        vpcSubnets: { subnetGroupName: 'compute' },
        enableExecuteCommand: false,
      });
    }
  }
}
