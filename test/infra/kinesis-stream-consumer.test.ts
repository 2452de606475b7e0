// KinesisStreamConsumer on its own: the mapping's defaults and each override, the failure queue (SSE-KMS, TLS
// only, its cdk-nag acknowledgement, the logical ID of a queue under the construct's id), a shared queue, the
// grants, and the props Lambda would refuse at deploy time refused at synth with a clear error.
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  KinesisStreamConsumer,
  type KinesisStreamConsumerProps,
} from '@lib/constructs/kinesis-stream-consumer';

function fixture() {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key');
  const stream = new kinesis.Stream(stack, 'Stream', {
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: key,
  });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] })'),
  });
  return { stack, key, stream, fn };
}

type Overrides = Partial<KinesisStreamConsumerProps>;

/** One consumer with the given overrides; the template and the construct. */
function consume(overrides: Overrides = {}) {
  const f = fixture();
  const consumer = new KinesisStreamConsumer(f.stack, 'Consumer', {
    fn: f.fn,
    stream: f.stream,
    encryptionKey: f.key,
    ...overrides,
  });
  return { ...f, consumer, template: Template.fromStack(f.stack) };
}

const mappingOf = (t: Template) => {
  const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
  expect(mappings).toHaveLength(1);
  return mappings[0].Properties;
};

describe('KinesisStreamConsumer', () => {
  it('defaults: TRIM_HORIZON, 100 records, no window, bisect, partial batch responses, 10 retries, 1 per shard', () => {
    const { template, stack, stream, fn, consumer } = consume();
    expect(mappingOf(template)).toEqual({
      FunctionName: stack.resolve(fn.functionName),
      EventSourceArn: stack.resolve(stream.streamArn),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(consumer.failureQueue.queueArn) } },
    });
  });

  it('takes batch size and window from a StreamConsumerDef, and every other setting as given', () => {
    const { template } = consume({
      batching: { batchSize: 500, batchingWindowSeconds: 1 },
      startingPosition: lambda.StartingPosition.LATEST,
      retryAttempts: 2,
      parallelizationFactor: 4,
      bisectBatchOnError: false,
      reportBatchItemFailures: false,
    });
    expect(mappingOf(template)).toMatchObject({
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      StartingPosition: 'LATEST',
      MaximumRetryAttempts: 2,
      ParallelizationFactor: 4,
      BisectBatchOnFunctionError: false,
    });
    expect(mappingOf(template).FunctionResponseTypes).toBeUndefined();
  });

  it("accepts the ends of Lambda's ranges: -1 (until expiry) and 10000 retries, 10000 records, a 300 s window", () => {
    expect(mappingOf(consume({ retryAttempts: -1 }).template).MaximumRetryAttempts).toBe(-1);
    const { template } = consume({
      retryAttempts: 10_000,
      parallelizationFactor: 10,
      batching: { batchSize: 10_000, batchingWindowSeconds: 300 },
    });
    expect(mappingOf(template)).toMatchObject({
      MaximumRetryAttempts: 10_000,
      ParallelizationFactor: 10,
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 300,
    });
  });

  it('creates an SSE-KMS failure queue with the given key, TLS only, kept 14 days unless told', () => {
    const { template, stack, key } = consume();
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: stack.resolve(key.keyArn),
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    consume({ failureQueueRetention: Duration.days(4) }).template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 345_600,
    });
  });

  it('grants the function read on the stream and send on the queue, through their key', () => {
    const { template, stack, stream, consumer } = consume();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const on = (resource: unknown) =>
      statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource))
        .flatMap((s) => [s.Action].flat());
    expect(on(stack.resolve(stream.streamArn))).toEqual(
      expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator']),
    );
    expect(on(stack.resolve(consumer.failureQueue.queueArn))).toEqual(
      expect.arrayContaining(['sqs:SendMessage']),
    );
    expect(statements.flatMap((s) => [s.Action].flat())).toContain('kms:Decrypt');
  });

  it("its queue is its default child: the logical ID a queue with the construct's id gets", () => {
    const { stack, consumer } = consume();
    const plain = new sqs.Queue(new Stack(new App(), 'S'), 'Consumer');
    expect(stack.getLogicalId((consumer.failureQueue as sqs.Queue).node.defaultChild as sqs.CfnQueue)).toBe(
      Stack.of(plain).getLogicalId(plain.node.defaultChild as sqs.CfnQueue),
    );
  });

  it('shares a given queue: a second source of one function adds a mapping and no queue', () => {
    const { stack, fn, key, stream } = fixture();
    const first = new KinesisStreamConsumer(stack, 'First', { fn, stream, encryptionKey: key });
    const other = new kinesis.Stream(stack, 'Other', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: key,
    });
    const second = new KinesisStreamConsumer(stack, 'Second', {
      fn,
      stream: other,
      failureQueue: first.failureQueue,
    });
    expect(second.failureQueue).toBe(first.failureQueue);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).map(
      (m) => m.Properties,
    );
    expect(mappings.map((m) => m.EventSourceArn)).toEqual([
      stack.resolve(stream.streamArn),
      stack.resolve(other.streamArn),
    ]);
    for (const m of mappings)
      expect(m.DestinationConfig.OnFailure.Destination).toEqual(stack.resolve(first.failureQueue.queueArn));
  });

  it('acknowledges AwsSolutions-SQS3 on its queue, which cdk-nag reports on a bare queue', () => {
    /** cdk-nag's report on the fixture plus what `add` makes (the bare fixture has findings of its own). */
    const report = (add: (f: ReturnType<typeof fixture>) => void): string => {
      const f = fixture();
      add(f);
      const app = f.stack.node.root as App;
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      try {
        app.synth();
        return '';
      } catch (e) {
        return String(e);
      }
    };
    const consumer = report(
      (f) => new KinesisStreamConsumer(f.stack, 'C', { fn: f.fn, stream: f.stream, encryptionKey: f.key }),
    );
    expect(consumer).toContain('AwsSolutions-L1'); // the report is there (the fixture's function)...
    expect(consumer).not.toMatch(/AwsSolutions-SQS\d/); // ...with nothing on the queue
    const bare = report(
      (f) => new sqs.Queue(f.stack, 'Bare', { encryptionMasterKey: f.key, enforceSSL: true }),
    );
    expect(bare).toContain('AwsSolutions-SQS3');
  });

  describe('refuses props Lambda would refuse, naming the construct and the range', () => {
    it.each<[string, Overrides, RegExp]>([
      [
        'batch size 0',
        { batching: { batchSize: 0, batchingWindowSeconds: 0 } },
        /batchSize must be a whole number from 1 to 10000.*got 0/,
      ],
      [
        'batch size over 10000',
        { batching: { batchSize: 10_001, batchingWindowSeconds: 0 } },
        /batchSize .* got 10001/,
      ],
      [
        'a fractional batch size',
        { batching: { batchSize: 2.5, batchingWindowSeconds: 0 } },
        /batchSize .* got 2.5/,
      ],
      [
        'a window of half a second',
        { batching: { batchSize: 100, batchingWindowSeconds: 0.5 } },
        /batchingWindowSeconds must be a whole number from 0 to 300.*got 0.5/,
      ],
      [
        'a window over 5 minutes',
        { batching: { batchSize: 100, batchingWindowSeconds: 301 } },
        /batchingWindowSeconds .* got 301/,
      ],
      [
        'retries below -1',
        { retryAttempts: -2 },
        /retryAttempts must be a whole number from -1 to 10000.*got -2/,
      ],
      [
        'parallelization 0',
        { parallelizationFactor: 0 },
        /parallelizationFactor must be a whole number from 1 to 10.*got 0/,
      ],
      ['parallelization 11', { parallelizationFactor: 11 }, /parallelizationFactor .* got 11/],
    ])('%s', (_case, overrides, message) => {
      expect(() => consume(overrides)).toThrow(message);
      expect(() => consume(overrides)).toThrow(/KinesisStreamConsumer S\/Consumer/);
    });

    it('a new queue without a key, or a key beside an existing queue', () => {
      expect(() => consume({ encryptionKey: undefined })).toThrow(
        /encryptionKey is required to create the failure queue/,
      );
      const f = fixture();
      const existing = new sqs.Queue(f.stack, 'Existing', { encryptionMasterKey: f.key });
      expect(
        () =>
          new KinesisStreamConsumer(f.stack, 'Both', {
            fn: f.fn,
            stream: f.stream,
            encryptionKey: f.key,
            failureQueue: existing,
          }),
      ).toThrow(/give encryptionKey or failureQueue, not both/);
    });
  });
});
