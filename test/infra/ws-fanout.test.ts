// The WebSocket fan-out in CDK: a third consumer of the engine-event stream (nested stack of Workers) with
// exactly the grants lambdas/ws-fanout makes calls with, and cdk-nag clean.
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp } from '@lib/app';
import {
  CDK_CONTEXT,
  statementsOfFunction,
  withService,
  actionsOf,
  functionNamed,
} from '../support/cdk-synth';

jest.setTimeout(180_000);

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim');
const app = new App({ context: CDK_CONTEXT });
const built = buildApp(app, { nag: false, engineImage: image });
const fanout = Template.fromStack(built.wsFanout);

describe('ws-fanout', () => {
  it('consumes the engine-event stream from LATEST, never blocking on a batch, posting to the stage callback URL', () => {
    const { props } = functionNamed(fanout, 'cirrus-dev-ws-fanout');
    expect(props.Environment.Variables).toMatchObject({ WS_CALLBACK_URL: expect.anything() });
    // In the VPC for the ledger (user data streams' balances), with the database client security group.
    expect(props.VpcConfig).toBeDefined();
    expect(props.Environment.Variables).toMatchObject({ DB_SECRET_ARN: expect.anything() });
    // Two sources: the engine events and the wallet events (balanceUpdate), alike.
    fanout.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    // One failure queue for both, under the logical ID it was deployed with.
    expect(Object.keys(fanout.findResources('AWS::SQS::Queue'))).toEqual(['WsFanoutStreamFailuresF828EE14']);
    const mappings = Object.values(fanout.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((m) => JSON.stringify(m.Properties.EventSourceArn)).sort()).toEqual([
      expect.stringMatching(/EngineEventsStream/),
      expect.stringMatching(/WalletEventsStream/),
    ]);
    fanout.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    fanout.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('gets POST on the connections of its API and exactly the table calls it makes', () => {
    const { props } = functionNamed(fanout, 'cirrus-dev-ws-fanout');
    const roles = fanout.findResources('AWS::IAM::Role');
    const role = Object.values(roles).find((r) =>
      JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('WebSocketPushPolicy'),
    );
    expect(role).toBeDefined();

    const statements = statementsOfFunction(fanout, props);
    const dynamo = withService(statements, 'dynamodb').map((s) => ({
      actions: actionsOf(s).sort(),
      resources: JSON.stringify(s.Resource),
    }));
    const on = (table: string) => dynamo.filter((s) => s.resources.includes(table));
    expect(on('ConnectionsTable').map((s) => s.actions)).toEqual([
      ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
    ]);
    expect(on('ConnectionsTable')[0].resources).toContain('/index/gsi1');
    expect(on('MarketDataTable').map((s) => s.actions)).toEqual([['dynamodb:GetItem', 'dynamodb:Query']]);
    expect(on('TradesTable').map((s) => s.actions)).toEqual([['dynamodb:Query']]);
    expect(on('TradesTable')[0].resources).not.toContain('/index/');
    // User data streams read the order facts from the ledger (the database secret below), not the orders table.
    expect(on('OrdersTable')).toEqual([]);
    expect(dynamo).toHaveLength(3);
    expect(JSON.stringify(withService(statements, 'dynamodb'))).not.toContain('*');
    // The database secret only (read), no order queues, no wallet key.
    expect(withService(statements, 'secretsmanager').flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(withService(statements, 'sqs').flatMap(actionsOf)).not.toContain('sqs:ReceiveMessage');

    // The push policy (beside the API): ManageConnections on POST /@connections/* of this API's stage only.
    Template.fromStack(built.api).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'execute-api:ManageConnections',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/POST/@connections/\\*$')])],
            },
          },
        ],
      },
    });
  });

  it('is a nested stack of Workers (the consumers deploy together)', () => {
    Template.fromStack(built.workers).resourceCountIs('AWS::CloudFormation::Stack', 1);
  });

  it('leaves no cdk-nag AwsSolutions finding unacknowledged (whole app, dev)', () => {
    const nagged = new App({ context: CDK_CONTEXT });
    buildApp(nagged, { engineImage: image });
    expect(() => nagged.synth()).not.toThrow();
  });
});
