// Fine-grained assertions on the synthesised stacks, and cdk-nag (AwsSolutions) over the whole app.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '@lib/app';
import { loadStageConfig } from '@lib/config';
import { CDK_CONTEXT, prodContext, synthTemplates } from '../support/cdk-synth';
import { TABLES } from '@contracts/resources';

const dev = synthTemplates();
const prod = synthTemplates(prodContext());

describe('keys', () => {
  it('has a rotating data key and a secp256k1 signing key for the hot wallet', () => {
    dev.keys.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeySpec: Match.absent() });
    dev.keys.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' });
    dev.keys.hasResource('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_SECG_P256K1' },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('data', () => {
  it('declares every shared table: on demand, PITR, encrypted with the data key', () => {
    dev.data.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
    for (const t of Object.values(TABLES)) {
      dev.data.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: `cirrus-dev-${t.name}`,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      });
    }
    dev.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'cirrus-dev-orders',
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'gsi1' }),
        Match.objectLike({ IndexName: 'gsi2' }),
      ],
    });
    dev.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'cirrus-dev-idempotency',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('retains and protects stateful tables in prod only', () => {
    prod.data.hasResource('AWS::DynamoDB::Table', {
      Properties: { TableName: 'cirrus-prod-orders', DeletionProtectionEnabled: true },
      DeletionPolicy: 'Retain',
    });
    prod.data.hasResource('AWS::DynamoDB::Table', {
      Properties: { TableName: 'cirrus-prod-market-data' },
      DeletionPolicy: 'Delete',
    });
    dev.data.hasResource('AWS::DynamoDB::Table', {
      Properties: { TableName: 'cirrus-dev-orders' },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('messaging', () => {
  it('order queue: FIFO high-throughput, KMS, redrive to a FIFO DLQ', () => {
    dev.messaging.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'cirrus-dev-orders-shard0.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: 30,
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    dev.messaging.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'cirrus-dev-orders-shard0-dlq.fifo',
      FifoQueue: true,
      MessageRetentionPeriod: 1209600,
    });
    dev.messaging.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('event stream: KMS-encrypted, retained long enough to replay from a snapshot', () => {
    dev.messaging.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'cirrus-dev-engine-events',
      RetentionPeriodHours: 168,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
    });
  });

  it('snapshot bucket: private, KMS, versioned, TLS only, expiring old snapshots', () => {
    dev.messaging.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'snapshots/', ExpirationInDays: 7 })]),
      },
    });
  });
});

describe('network', () => {
  it('spans two AZs with private compute and isolated data subnets, flow logs and service endpoints', () => {
    dev.network.resourceCountIs('AWS::EC2::Subnet', 6);
    dev.network.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    dev.network.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 8);
    const endpoints = JSON.stringify(dev.network.findResources('AWS::EC2::VPCEndpoint'));
    for (const service of [
      'sqs',
      'kinesis-streams',
      'kms',
      'monitoring',
      'logs',
      'ecr.api',
      'ecr.dkr',
      'secretsmanager',
      's3',
      'dynamodb',
    ]) {
      expect(endpoints).toContain(`.${service}"`);
    }
    dev.network.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
  });

  it('has no security group open to 0.0.0.0/0', () => {
    for (const t of Object.values(dev)) {
      for (const sg of Object.values(t.findResources('AWS::EC2::SecurityGroup'))) {
        for (const rule of (sg.Properties?.SecurityGroupIngress ?? []) as Array<{ CidrIp?: string }>)
          expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      }
      expect(
        t.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { CidrIp: '0.0.0.0/0' } }),
      ).toEqual({});
    }
  });
});

describe('engine', () => {
  it('runs exactly one task per shard, never two writers during a deploy', () => {
    dev.engine.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ MaximumPercent: 100, MinimumHealthyPercent: 0 }),
    });
    dev.engine.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('task: health check, logs, shard settings, least-privilege access to its queue, stream and snapshots', () => {
    dev.engine.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: Match.objectLike({ Command: Match.arrayWith(['CMD', 'node']) }),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([
            { Name: 'ENGINE_SHARD', Value: 'shard0' },
            { Name: 'ENGINE_MARKETS', Value: 'BTCUSDT,ETHUSDT' },
          ]),
        }),
      ],
    });
    const policies = JSON.stringify(dev.engine.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('sqs:ReceiveMessage');
    expect(policies).toContain('kinesis:PutRecords');
    expect(policies).toContain('/snapshots/shard0/*');
    expect(policies).not.toMatch(/"(s3|kinesis|sqs):\*"/);
    // ListBucket only on its own prefix, so a missing first snapshot reads as NoSuchKey, not AccessDenied.
    dev.engine.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['snapshots/shard0/*'] } },
          }),
        ]),
      },
    });
  });
});

describe('monitoring', () => {
  it('alarms on queue age, DLQ depth and a missing engine heartbeat, to an encrypted topic', () => {
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 30,
    });
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Cirrus/Engine',
      MetricName: 'Heartbeat',
      TreatMissingData: 'breaching',
      AlarmActions: [Match.anyValue()],
    });
    dev.monitoring.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    prod.monitoring.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('logical IDs', () => {
  // Deployed under these IDs: a refactor that moves their constructs must keep them (a new logical ID is a new
  // resource, and these hold state, names or an endpoint, or cannot exist twice beside the old one).
  it.each<[keyof typeof prod, string, string[]]>([
    ['api', 'AWS::ApiGateway::RestApi', ['RestApi0C43BF4B']],
    ['api', 'AWS::ApiGateway::Stage', ['RestApiDeploymentStageliveE585F0C9']],
    ['api', 'AWS::ApiGateway::DomainName', ['CloudflareOriginDomainF42871DE']],
    [
      'api',
      'AWS::ApiGateway::BasePathMapping',
      ['CloudflareOriginDomainMapCirrusprodApiRestApiA0B124A188E807A1'],
    ],
    ['api', 'AWS::ApiGatewayV2::Api', ['WebSocketApi34BCF99B']],
    ['api', 'AWS::ApiGatewayV2::Stage', ['WebSocketStageC46B7E43']],
    ['api', 'AWS::ApiGatewayV2::DomainName', ['WebSocketDomain39D2A650']],
    ['api', 'AWS::ApiGatewayV2::ApiMapping', ['WebSocketStageCirrusprodApiWebSocketDomainundefinedF9C4B309']],
    ['api', 'AWS::SecretsManager::Secret', ['CloudflareOriginSecret5F405486']],
    [
      'workers',
      'AWS::SQS::Queue',
      [
        'DataProcessorStreamFailures7D5A994A',
        'ReadModelsStreamFailures6F6ED231',
        'SearchIndexerStreamFailures14D84D5A',
      ],
    ],
  ])('%s keeps its %s', (stack, type, ids) => {
    expect(Object.keys(prod[stack].findResources(type)).sort()).toEqual([...ids].sort());
  });
});

describe('configuration', () => {
  it('refuses a prod stage without an account or an alarm e-mail', () => {
    const ctx = (values: Record<string, unknown>) => (k: string) => values[k];
    expect(() => loadStageConfig(ctx({ stage: 'prod', alarmEmail: 'a@b.co' }))).toThrow(/account/);
    expect(() => loadStageConfig(ctx({ stage: 'prod', account: '123456789012' }))).toThrow(/alarmEmail/);
    expect(() => loadStageConfig(ctx({ stage: 'qa' }))).toThrow(/stage/);
    expect(loadStageConfig(ctx({})).stage).toBe('dev');
    const usdt = '0xdAC17F958D2ee523a2206206994597C13D831ec7';
    expect(loadStageConfig(ctx({ chainTokens: `{"USDT":"${usdt}"}` })).chainTokens).toEqual({ USDT: usdt });
    expect(() => loadStageConfig(ctx({ chainTokens: '{"USDT":"not-an-address"}' }))).toThrow(/chainTokens/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['dev', {}],
    ['prod', prodContext()],
  ])('finds nothing unacknowledged in the whole app (%s)', (_stage, context) => {
    const app = new App({ context: { ...CDK_CONTEXT, ...context } });
    buildApp(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('does fail the synth on a finding (the check can fail)', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
