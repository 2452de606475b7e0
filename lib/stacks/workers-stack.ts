// Asynchronous workers: the data processor (settlement), the read-model projector and the search indexer
// consume the engine event stream, each at its own pace; the wallet signs withdrawals with the hot-wallet
// key; the chain listener scans new blocks on a schedule; the outbox relay delivers engine commands the API's
// send did not; the reconciliation checks the ledger against itself and against the engine snapshots.
import { createHash } from 'node:crypto';
import { Aws, CfnElement, CustomResource, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { MIGRATIONS, type DatabaseRole } from '@contracts/migrations';
import type { StageConfig } from '../config';
import { acknowledgeFunctionDefaults, CirrusFunction } from '../constructs/cirrus-function';
import type { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';
import { KinesisStreamConsumer } from '../constructs/kinesis-stream-consumer';
import { denyApiKeySecrets, grantKeyThroughServices } from '../constructs/key-access';
import { bindTable } from '../constructs/table-access';
import { grantSecretRead } from '../constructs/secret-access';
import {
  DEFAULT_ENGINE_SHARDS,
  SNAPSHOT_BUCKET,
  STREAM_CONSUMERS,
  TABLES,
  type EngineShardDef,
  type StreamConsumerDef,
  WALLET_EVENT_STREAM,
} from '@contracts/resources';
import { databaseEnvironment, databaseLoginsOf, type TableKey } from './data-stack';
import { walletRoleName } from './keys-stack';
import { orderQueueEnvironment, snapshotBucketName } from './messaging-stack';
import { searchIndexerRoleName } from './search-stack';

export interface WorkersStackProps extends StackProps {
  vpc: ec2.IVpc;
  dataKey: kms.IKey;
  hotWalletKey: kms.IKey;
  tables: Record<TableKey, dynamodb.ITable>;
  eventStream: kinesis.IStream;
  /** The outbox relay publishes balance events to it; the WebSocket fan-out reads it. */
  walletEventStream: kinesis.IStream;
  /** The engine shards' order queues: the outbox relay sends to them. */
  orderQueues: Record<string, FifoQueueWithDlq>;
  /** The engine snapshots: the reconciliation reads each shard's latest. */
  snapshotBucket: s3.IBucket;
  shards?: EngineShardDef[];
  databaseProxy: rds.IDatabaseProxy;
  /** The master user's secret: the migration function's alone (the other functions get their role's login). */
  databaseSecret: secretsmanager.ISecret;
  databaseClientSecurityGroup: ec2.ISecurityGroup;
  searchDomain: opensearch.IDomain;
  searchClientSecurityGroup: ec2.ISecurityGroup;
  chainRpcUrl: string;
  walletSecurityGroup: ec2.ISecurityGroup;
  listenerSecurityGroup: ec2.ISecurityGroup;
  webSocketStage: apigwv2.IWebSocketStage;
  /** Lets a function push to this API's WebSocket connections (defined beside the API). */
  webSocketPushPolicy: iam.IManagedPolicy;
}

export class WorkersStack extends Stack {
  readonly dataProcessor: lambda.IFunction;
  readonly readModels: lambda.Function;
  readonly searchIndexer: lambda.IFunction;
  readonly wallet: lambda.IFunction;
  readonly chainListener: lambda.Function;
  readonly outboxRelay: lambda.IFunction;
  readonly reconciliation: lambda.IFunction;
  /** The event stream's consumers by name (iterator age alarms). */
  readonly streamConsumers: Record<string, lambda.IFunction> = {};
  /** Where a stream batch lands after its retries are exhausted (per consumer). */
  readonly failureQueues: Record<string, sqs.IQueue> = {};
  readonly functions: Record<string, lambda.IFunction> = {};

  constructor(scope: Construct, id: string, config: StageConfig, props: WorkersStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    const { tables } = props;
    const shards = props.shards ?? DEFAULT_ENGINE_SHARDS;
    // Each function connects as its family's own database role (docs/architecture.md#database-roles): that
    // login's secret in its environment and its read grant, no other database secret. Only the migration
    // function uses the master secret (props.databaseSecret).
    const logins = databaseLoginsOf(props.databaseProxy);
    const databaseEnv = (role: DatabaseRole) => databaseEnvironment(props.databaseProxy, logins[role]);
    const databaseFunctions: lambda.IFunction[] = [];
    const grantDatabaseLogin = (role: DatabaseRole, fn: lambda.IFunction) => {
      grantSecretRead(logins[role], fn);
      databaseFunctions.push(fn);
    };
    const rpcUrl = config.chainRpcUrl ?? props.chainRpcUrl;
    const importRole = (name: string) => {
      const role = iam.Role.fromRoleArn(
        this,
        `${name}Role`,
        `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${name}`,
        { mutable: true },
      );
      acknowledgeFunctionDefaults(role);
      return role;
    };

    // Settlement and read models read the stream each on its own iterator, batching as STREAM_CONSUMERS says.
    // --- data processor: settlement, PostgreSQL only (WebSocket pushes are the ws-fanout consumer's) -----
    this.dataProcessor = new CirrusFunction(this, 'DataProcessor', {
      entry: 'lambdas/data-processor/handler.ts',
      serviceName: 'data-processor',
      stage: config.stage,
      description: 'settlement: engine events -> ledger (PostgreSQL), quarantine of unsettleable records',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
      environment: databaseEnv('cirrus_processor'),
    }).function;
    grantDatabaseLogin('cirrus_processor', this.dataProcessor);
    this.consumeStream('DataProcessor', this.dataProcessor, props, STREAM_CONSUMERS.dataProcessor);

    // --- read models: a consumer of its own, so DynamoDB's pace never delays settlement -----------------
    // Reads the live rows of the orders a batch closes from PostgreSQL (a SELECT, through the proxy like the
    // data processor) and writes order history, user and public trades, candles and the book to DynamoDB.
    this.readModels = new CirrusFunction(this, 'ReadModels', {
      entry: 'lambdas/read-models/handler.ts',
      serviceName: 'read-models',
      stage: config.stage,
      description: 'read models: engine events -> DynamoDB order history, trades, candles, book',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
      environment: databaseEnv('cirrus_read_models'),
    }).function;
    grantDatabaseLogin('cirrus_read_models', this.readModels);
    // Exactly the calls of lambdas/shared/stores as the projector makes them: order history and trades
    // (user and public) are batch writes; the book is read then conditionally put, candles are updated.
    bindTable(this.readModels, tables.orders, TABLES.orders, { operations: ['BatchWriteItem'] });
    bindTable(this.readModels, tables.trades, TABLES.trades, { operations: ['BatchWriteItem'] });
    bindTable(this.readModels, tables.marketData, TABLES.marketData, {
      operations: ['GetItem', 'PutItem', 'UpdateItem'],
    });
    this.consumeStream('ReadModels', this.readModels, props, STREAM_CONSUMERS.readModels);

    // --- search indexer ----------------------------------------------------------------------------------
    this.searchIndexer = new CirrusFunction(this, 'SearchIndexer', {
      entry: 'lambdas/search-indexer/handler.ts',
      serviceName: 'search-indexer',
      stage: config.stage,
      description: 'Engine and chain events -> OpenSearch bulk index',
      memorySize: 512,
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      securityGroups: [props.searchClientSecurityGroup],
      role: importRole(searchIndexerRoleName(config.stage)),
      environment: { OPENSEARCH_ENDPOINT: `https://${props.searchDomain.domainEndpoint}` },
    }).function;
    // No identity grant needed: the domain's access policy admits this role (search stack).
    this.consumeStream('SearchIndexer', this.searchIndexer, props, STREAM_CONSUMERS.searchIndexer);
    // Its second source: the wallet events (deposit and withdrawal documents, docs/wallets.md#balance-events);
    // failures to the same queue.
    new KinesisStreamConsumer(this, 'SearchIndexerWalletEvents', {
      fn: this.searchIndexer,
      stream: props.walletEventStream,
      batching: STREAM_CONSUMERS.searchIndexer,
      failureQueue: this.failureQueues.SearchIndexer,
    });

    // --- wallet ------------------------------------------------------------------------------------------
    this.wallet = new CirrusFunction(this, 'Wallet', {
      entry: 'lambdas/wallet/handler.ts',
      serviceName: 'wallet',
      stage: config.stage,
      description: 'Hot wallet: address and withdrawal signing with the KMS secp256k1 key',
      timeout: Duration.seconds(55),
      // One sender at a time: the nonce sequence is taken in a run (lambdas/wallet/withdrawal-sender.ts).
      reservedConcurrentExecutions: 1,
      vpc: props.vpc,
      securityGroups: [props.walletSecurityGroup, props.databaseClientSecurityGroup],
      // The key policy of the hot-wallet key names this role: no other principal can sign.
      role: importRole(walletRoleName(config.stage)),
      environment: {
        ...databaseEnv('cirrus_wallet'),
        HOT_WALLET_KEY_ID: props.hotWalletKey.keyArn,
        CHAIN_RPC_URL: rpcUrl,
        CHAIN_NETWORK: config.chainNetwork,
        CHAIN_CONFIRMATIONS: String(config.chainConfirmations),
        CHAIN_TOKENS: JSON.stringify(config.chainTokens),
        // Stuck transactions (docs/wallets.md#withdrawals): when to replace, and the fee ceiling if any.
        WITHDRAW_REPLACE_AFTER_SECONDS: String(config.withdrawReplaceAfterSeconds),
        ...(config.withdrawMaxFeePerGasGwei
          ? { WITHDRAW_MAX_FEE_PER_GAS_GWEI: config.withdrawMaxFeePerGasGwei }
          : {}),
      },
    }).function;
    grantDatabaseLogin('cirrus_wallet', this.wallet);
    // Signing needs no IAM grant: the hot-wallet key's own policy names this role and denies every other.
    this.wallet.configureAsyncInvoke({ retryAttempts: 0 });
    new events.Rule(this, 'WithdrawalSchedule', {
      description: 'Sign, send and finalise withdrawals',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.wallet, {
          event: events.RuleTargetInput.fromObject({ action: 'processWithdrawals' }),
          retryAttempts: 0,
        }),
      ],
    });

    // --- chain listener ----------------------------------------------------------------------------------
    this.chainListener = new CirrusFunction(this, 'ChainListener', {
      entry: 'lambdas/chain-listener/handler.ts',
      serviceName: 'chain-listener',
      stage: config.stage,
      description: 'Scans new blocks for deposits, credits them after the confirmations, rolls back reorgs',
      timeout: Duration.seconds(55),
      // One scanner at a time: a second would only lose the checkpoint's conditional write.
      reservedConcurrentExecutions: 1,
      vpc: props.vpc,
      // The node's JSON-RPC and the ledger (deposits are recorded and credited in PostgreSQL).
      securityGroups: [props.listenerSecurityGroup, props.databaseClientSecurityGroup],
      environment: {
        ...databaseEnv('cirrus_chain_listener'),
        CHAIN_RPC_URL: rpcUrl,
        CHAIN_CONFIRMATIONS: String(config.chainConfirmations),
        // ERC-20 contracts to watch (context `chainTokens`), JSON { "USDT": "0x..." }.
        CHAIN_TOKENS: JSON.stringify(config.chainTokens),
      },
    }).function;
    grantDatabaseLogin('cirrus_chain_listener', this.chainListener);
    // Its checkpoint only (lambdas/chain-listener/checkpoint-store.ts: a consistent GetItem and a conditional
    // PutItem). It writes nothing to the engine event stream, so it gets neither the stream's name nor access.
    // No deposit xpub either: it finds deposit addresses in the ledger, derived when they were handed out.
    bindTable(this.chainListener, tables.checkpoints, TABLES.checkpoints, {
      operations: ['GetItem', 'PutItem'],
    });
    this.chainListener.configureAsyncInvoke({ retryAttempts: 0 });
    new events.Rule(this, 'ChainListenerSchedule', {
      description: 'Scan the chain for deposits',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.chainListener, { retryAttempts: 0 })],
    });

    // --- outbox relay: one run at a time, every minute, passing once a second for ~50 s -----------------
    this.outboxRelay = new CirrusFunction(this, 'OutboxRelay', {
      entry: 'lambdas/outbox-relay/handler.ts',
      serviceName: 'outbox-relay',
      stage: config.stage,
      description:
        'Sends accepted engine commands the API did not deliver (PostgreSQL outbox -> order queues)',
      timeout: Duration.seconds(60),
      // Two relays would only send the same rows twice (harmless, but no faster).
      reservedConcurrentExecutions: 1,
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
      environment: {
        ...databaseEnv('cirrus_relay'),
        ...orderQueueEnvironment(this, props.orderQueues, shards),
        [WALLET_EVENT_STREAM.envVar]: props.walletEventStream.streamName,
      },
    }).function;
    grantDatabaseLogin('cirrus_relay', this.outboxRelay);
    // Balance events (docs/wallets.md#balance-events): put records on the wallet-event stream, nothing else.
    this.outboxRelay.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kinesis:PutRecords'],
        resources: [props.walletEventStream.streamArn],
      }),
    );
    // Send only (SendMessage also authorizes SendMessageBatch), on the order queues only; the data key for
    // the queues' SSE-KMS, as the engine task gets it.
    this.outboxRelay.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: shards.map((s) => props.orderQueues[s.id].queue.queueArn),
      }),
    );
    props.dataKey.grant(this.outboxRelay, 'kms:Decrypt', 'kms:GenerateDataKey');
    // That grant has no condition (its SQS sends need the key): API-key secrets are denied explicitly.
    denyApiKeySecrets(this.outboxRelay, props.dataKey);
    // A run Lambda retries, or a tick held back by the concurrency of 1, would only overlap the next tick.
    this.outboxRelay.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    new events.Rule(this, 'OutboxRelaySchedule', {
      description: 'Deliver engine commands left in the outbox',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.outboxRelay, { retryAttempts: 0 })],
    });

    // --- reconciliation: ledger conservation, ledger locks vs engine snapshots, backlogs ----------------
    this.reconciliation = new CirrusFunction(this, 'Reconciliation', {
      entry: 'lambdas/reconciliation/handler.ts',
      serviceName: 'reconciliation',
      stage: config.stage,
      description: 'Every 5 minutes: ledger conservation, open locks vs engine snapshots, quarantine, outbox',
      // Each shard's snapshot is parsed whole.
      memorySize: 1024,
      timeout: Duration.minutes(3),
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
      environment: {
        ...databaseEnv('cirrus_reconciliation'),
        [SNAPSHOT_BUCKET.envVar]: props.snapshotBucket.bucketName,
        ENGINE_SHARDS: JSON.stringify(shards.map((s) => s.id)),
      },
    }).function;
    grantDatabaseLogin('cirrus_reconciliation', this.reconciliation);
    // Read only, and only the snapshot prefixes (as the engine stack names them: no cross-stack token).
    const snapshotBucketArn = `arn:${Aws.PARTITION}:s3:::${snapshotBucketName(config.stage)}`;
    this.reconciliation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: shards.map((s) => `${snapshotBucketArn}/snapshots/${s.id}/*`),
      }),
    );
    // The snapshots are SSE-KMS with the data key: decrypt, only in requests S3 makes for it.
    grantKeyThroughServices(this.reconciliation, props.dataKey, ['kms:Decrypt'], ['s3']);
    for (const s of shards)
      Validations.of(this.reconciliation).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cirrus-${config.stage}-engine-snapshots-<AWS::AccountId>/snapshots/${s.id}/*]`,
        reason:
          "Reads a shard's latest snapshot, whose key holds its time; GetObject only, that shard's prefix only.",
      });
    this.reconciliation.configureAsyncInvoke({ retryAttempts: 0 });
    new events.Rule(this, 'ReconciliationSchedule', {
      description: 'Reconcile the ledger with itself and with the engine snapshots',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.reconciliation, { retryAttempts: 0 })],
    });

    // --- ledger schema: migrations applied by a custom resource on each deploy that changes them ------------
    // The master user (the schema's owner) applies the migrations, then creates or updates every role's login
    // user from that login's secret (lambdas/db-migrate/logins.ts): it reads all of them, as only it does.
    const loginSecretArns = Object.fromEntries(
      Object.entries(logins).map(([role, secret]) => [role, secret.secretArn]),
    );
    const migrator = new CirrusFunction(this, 'LedgerMigrations', {
      entry: 'lambdas/db-migrate/handler.ts',
      serviceName: 'db-migrate',
      stage: config.stage,
      description:
        'Applies the ledger schema migrations and the database logins (CloudFormation custom resource)',
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
      environment: {
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
        DB_POOL_MAX: '1',
        DB_LOGIN_SECRETS: Stack.of(this).toJsonString(loginSecretArns),
      },
    }).function;
    grantSecretRead(props.databaseSecret, migrator);
    for (const secret of Object.values(logins)) grantSecretRead(secret, migrator);
    const provider = new cr.Provider(this, 'LedgerMigrationsProvider', { onEventHandler: migrator });
    acknowledgeFunctionDefaults(provider);
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(migrator.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: "The CDK provider framework invokes the migration function's versions and aliases (ARN:*).",
    });
    const schema = new CustomResource(this, 'LedgerSchema', {
      serviceToken: provider.serviceToken,
      // A new hash (a migration added) or a new login makes CloudFormation send an Update, which applies it.
      properties: {
        schemaHash: createHash('sha256').update(MIGRATIONS.join('\n')).digest('hex'),
        logins: Object.keys(logins).sort(),
      },
    });
    // A function changed to a new login (or created) only once the schema and that login exist. The search
    // indexer too: lib/app.ts gives it its login (wireSearchIndexer).
    for (const fn of [...databaseFunctions, this.searchIndexer]) fn.node.addDependency(schema);

    Object.assign(this.functions, {
      DataProcessor: this.dataProcessor,
      ReadModels: this.readModels,
      SearchIndexer: this.searchIndexer,
      Wallet: this.wallet,
      ChainListener: this.chainListener,
      OutboxRelay: this.outboxRelay,
      Reconciliation: this.reconciliation,
      LedgerMigrations: migrator,
    });
  }

  /** A Kinesis consumer: batches, bisect on error, partial batch responses, failures parked in SQS. */
  private consumeStream(
    name: string,
    fn: lambda.IFunction,
    props: WorkersStackProps,
    batching: StreamConsumerDef,
  ) {
    // The event source grants the stream's and the failure queue's key with no condition (CDK's grants).
    denyApiKeySecrets(fn, props.dataKey);
    // Under the id its failure queue was deployed with: the queue (the consumer's default child) keeps it.
    const consumer = new KinesisStreamConsumer(this, `${name}StreamFailures`, {
      fn,
      stream: props.eventStream,
      batching,
      encryptionKey: props.dataKey,
    });
    this.failureQueues[name] = consumer.failureQueue;
    this.streamConsumers[name] = fn;
  }
}
