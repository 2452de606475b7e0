// Creates the stage's resources on the stand-ins from the same definitions the CDK stacks use
// (contracts/resources.ts), idempotently, and returns the environment the handlers and the engine read.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  DEFAULT_ENGINE_SHARDS,
  EVENT_STREAM,
  WALLET_EVENT_STREAM,
  type StreamDef,
  ORDER_QUEUE,
  SNAPSHOT_BUCKET,
  TABLES,
  physicalName,
  queueName,
  type TableDef,
} from '@contracts/resources';

export interface Provisioned {
  env: Record<string, string>;
  queueUrls: Record<string, string>;
  dlqUrls: Record<string, string>;
  streamName: string;
  /** The wallet-event stream (balance events): docs/wallets.md#balance-events. */
  walletStreamName: string;
  snapshotBucket: string;
  dataKeyId: string;
  hotWalletKeyId: string;
}

export async function provision(stage: string, endpoints: Record<string, string>): Promise<Provisioned> {
  const common = {
    region: endpoints.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamo = new DynamoDBClient({ ...common, endpoint: endpoints.AWS_ENDPOINT_URL_DYNAMODB });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.AWS_ENDPOINT_URL_SQS });
  const kinesis = new KinesisClient({
    ...common,
    endpoint: endpoints.AWS_ENDPOINT_URL_KINESIS,
    requestHandler: new NodeHttpHandler(),
  });
  const s3 = new S3Client({ ...common, endpoint: endpoints.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
  const kms = new KMSClient({ ...common, endpoint: endpoints.AWS_ENDPOINT_URL_KMS });
  try {
    const env: Record<string, string> = {};
    await Promise.all(
      Object.values(TABLES).map(async (t: TableDef) => {
        const name = physicalName(stage, t.name);
        env[t.envVar] = name;
        await createTable(dynamo, name, t);
      }),
    );

    const queueUrls: Record<string, string> = {};
    const dlqUrls: Record<string, string> = {};
    for (const shard of DEFAULT_ENGINE_SHARDS) {
      const fifo = {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      };
      const dlq = await sqs.send(
        new CreateQueueCommand({
          QueueName: queueName(stage, shard.id, true),
          Attributes: { ...fifo, MessageRetentionPeriod: String(14 * 86400) },
        }),
      );
      const dlqArn = (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
        )
      ).Attributes?.QueueArn;
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: queueName(stage, shard.id),
          Attributes: {
            ...fifo,
            VisibilityTimeout: String(ORDER_QUEUE.visibilityTimeoutSeconds),
            MessageRetentionPeriod: String(ORDER_QUEUE.retentionDays * 86400),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: ORDER_QUEUE.maxReceiveCount,
            }),
          },
        }),
      );
      queueUrls[shard.id] = queue.QueueUrl as string;
      dlqUrls[shard.id] = dlq.QueueUrl as string;
    }
    env[ORDER_QUEUE.envVar] = queueUrls[DEFAULT_ENGINE_SHARDS[0].id];
    env.ORDER_QUEUE_URLS = JSON.stringify(
      Object.fromEntries(DEFAULT_ENGINE_SHARDS.flatMap((s) => s.markets.map((m) => [m, queueUrls[s.id]]))),
    );

    const ensureStream = async (def: StreamDef): Promise<string> => {
      const name = physicalName(stage, def.name);
      try {
        await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: def.shardCount }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
      }
      for (let i = 0; ; i++) {
        const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        if (i > 100) throw new Error(`stream ${name} did not become ACTIVE`);
        await new Promise((r) => setTimeout(r, 50));
      }
      env[def.envVar] = name;
      return name;
    };
    const streamName = await ensureStream(EVENT_STREAM);
    const walletStreamName = await ensureStream(WALLET_EVENT_STREAM);

    const snapshotBucket = physicalName(stage, 'engine-snapshots');
    try {
      await s3.send(new HeadBucketCommand({ Bucket: snapshotBucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket: snapshotBucket }));
    }
    env[SNAPSHOT_BUCKET.envVar] = snapshotBucket;

    const aliases = new Map(
      ((await kms.send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => [a.AliasName, a.TargetKeyId]),
    );
    const keyFor = async (alias: string, spec: 'SYMMETRIC_DEFAULT' | 'ECC_SECG_P256K1') => {
      const existing = aliases.get(alias);
      if (existing) return existing;
      const key = await kms.send(
        new CreateKeyCommand({
          KeySpec: spec,
          KeyUsage: spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
          Description: alias,
        }),
      );
      const id = key.KeyMetadata?.KeyId as string;
      await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: id }));
      return id;
    };
    const dataKeyId = await keyFor(`alias/cirrus-${stage}-data`, 'SYMMETRIC_DEFAULT');
    const hotWalletKeyId = await keyFor(`alias/cirrus-${stage}-hot-wallet`, 'ECC_SECG_P256K1');
    env.DATA_KEY_ID = dataKeyId;
    env.HOT_WALLET_KEY_ID = hotWalletKeyId;
    return {
      env,
      queueUrls,
      dlqUrls,
      streamName,
      walletStreamName,
      snapshotBucket,
      dataKeyId,
      hotWalletKeyId,
    };
  } finally {
    for (const c of [dynamo, sqs, kinesis, s3, kms]) c.destroy();
  }
}

export async function createTable(dynamo: DynamoDBClient, name: string, t: TableDef): Promise<void> {
  const keys = (
    pk: { name: string; type: 'S' | 'N' },
    sk?: { name: string; type: 'S' | 'N' },
  ): KeySchemaElement[] => [
    { AttributeName: pk.name, KeyType: 'HASH' },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  const attributes = new Map<string, 'S' | 'N'>();
  for (const k of [
    t.partitionKey,
    t.sortKey,
    ...(t.globalIndexes ?? []).flatMap((g) => [g.partitionKey, g.sortKey]),
  ])
    if (k) attributes.set(k.name, k.type);
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keys(t.partitionKey, t.sortKey),
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
        AttributeName,
        AttributeType,
      })),
      GlobalSecondaryIndexes: t.globalIndexes?.map((g) => ({
        IndexName: g.indexName,
        KeySchema: keys(g.partitionKey, g.sortKey),
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  if (t.ttlAttribute) {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true },
      }),
    );
  }
}
