// The WebSocket fan-out: a third consumer of the engine-event stream (beside settlement and the read models,
// lib/stacks/workers-stack.ts) that posts Binance market-stream frames to the WebSocket API's connections
// (lambdas/ws-fanout). A nested stack of the Workers stack (lib/app.ts): its own template, deployed with the
// other consumers, no state. Least privilege: POST to this API's stage connections (the push policy defined beside the API),
// Query of the connections table and its gsi1 (subscribers) and BatchWriteItem there (a gone connection's
// items), GetItem/Query of the market data (book view, candles) and Query of the public trades; for user data
// streams the database secret (the order rows an execution report repeats, settled seqs and balances in the
// ledger, read only).
import { Duration, NestedStack, Stack, type NestedStackProps } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { CirrusFunction } from '../constructs/cirrus-function';
import { denyApiKeySecrets } from '../constructs/key-access';
import { KinesisStreamConsumer } from '../constructs/kinesis-stream-consumer';
import { grantSecretRead } from '../constructs/secret-access';
import { bindTable } from '../constructs/table-access';
import { STREAM_CONSUMERS, TABLES } from '@contracts/resources';
import { databaseEnvironment, type TableKey } from './data-stack';

export interface WsFanoutStackProps extends NestedStackProps {
  dataKey: kms.IKey;
  tables: Record<TableKey, dynamodb.ITable>;
  eventStream: kinesis.IStream;
  /** Balance events (deposits, withdrawals): balanceUpdate frames (docs/wallets.md#balance-events). */
  walletEventStream: kinesis.IStream;
  webSocketStage: apigwv2.IWebSocketStage;
  /** execute-api:ManageConnections on POST /@connections/* of the WebSocket API's stage. */
  webSocketPushPolicy: iam.IManagedPolicy;
  /** The ledger, for the balances of user data streams (outboundAccountPosition): read-only queries. */
  vpc: ec2.IVpc;
  databaseProxy: rds.IDatabaseProxy;
  databaseSecret: secretsmanager.ISecret;
  databaseClientSecurityGroup: ec2.ISecurityGroup;
}

export class WsFanoutStack extends NestedStack {
  readonly fanout: lambda.Function;
  readonly failures: sqs.IQueue;
  readonly functions: Record<string, lambda.IFunction> = {};

  constructor(scope: Construct, id: string, config: StageConfig, props: WsFanoutStackProps) {
    super(scope, id, props);
    // Its parent (Workers) depends on the Keys stack before any grant: key grants land in this stack's
    // policies, not in the key policy (no cycle).
    if (!Stack.of(scope).dependencies.includes(Stack.of(props.dataKey)))
      Stack.of(scope).addStackDependency(Stack.of(props.dataKey));
    const { tables } = props;

    this.fanout = new CirrusFunction(this, 'WsFanout', {
      entry: 'lambdas/ws-fanout/handler.ts',
      serviceName: 'ws-fanout',
      stage: config.stage,
      description: 'market and user data streams: engine and wallet events -> WebSocket connections',
      memorySize: 512,
      timeout: Duration.seconds(30),
      environment: {
        WS_CALLBACK_URL: props.webSocketStage.callbackUrl,
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
      },
      // In the VPC for the ledger (balances after settlement); DynamoDB through its gateway endpoint, the
      // management API through the NAT.
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
    }).function;
    grantSecretRead(props.databaseSecret, this.fanout);
    this.fanout.role!.addManagedPolicy(props.webSocketPushPolicy);
    bindTable(this.fanout, tables.connections, TABLES.connections, {
      operations: ['Query', 'BatchWriteItem'],
      indexes: ['gsi1'],
    });
    bindTable(this.fanout, tables.marketData, TABLES.marketData, { operations: ['GetItem', 'Query'] });
    bindTable(this.fanout, tables.trades, TABLES.trades, { operations: ['Query'], indexes: [] });
    this.functions.WsFanout = this.fanout;

    // As the other consumers (workers-stack.ts consumeStream), but from LATEST: these are live frames, a new
    // deployment has nobody to send last week's events to. Batches never fail (the handler reports none),
    // so the failure queue only holds what Lambda itself could not invoke.
    denyApiKeySecrets(this.fanout, props.dataKey);
    const live = {
      fn: this.fanout,
      startingPosition: lambda.StartingPosition.LATEST,
      batching: STREAM_CONSUMERS.wsFanout,
      retryAttempts: 2,
    };
    // Under the id its failure queue was deployed with: the queue (the consumer's default child) keeps it.
    const engineEvents = new KinesisStreamConsumer(this, 'WsFanoutStreamFailures', {
      ...live,
      stream: props.eventStream,
      encryptionKey: props.dataKey,
    });
    this.failures = engineEvents.failureQueue;
    // The second source: balance events, from LATEST for the same reason, one batch at a time per shard
    // (a user's events in order); its failures go to the same queue.
    new KinesisStreamConsumer(this, 'WalletEvents', {
      ...live,
      stream: props.walletEventStream,
      failureQueue: this.failures,
    });
  }
}
