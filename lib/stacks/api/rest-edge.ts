// The REST edge of the API stack: the functions behind the REST routes of contracts/api-routes.ts (Binance
// spot v3 subset + /cirrus/v1), each granted exactly the calls it makes, and the REST API itself: one Lambda
// integration per function, its WAF, and the Cloudflare-only mTLS custom domain (the execute-api endpoint is
// off whenever that domain is configured).
//
// Not a construct level of its own: its resources are created in the stack it is given (the API stack), so they
// keep the logical IDs they were deployed with. A construct level would rename every one of them, and the
// base path mapping, whose construct id embeds the API's path, cannot be replaced in place.
import { CfnOutput, RemovalPolicy, Validations, type Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { StageConfig } from '@lib/config';
import { REST_FUNCTION_ENTRIES, REST_ROUTES, type RestFunction } from '@contracts/api-routes';
import { DEFAULT_ENGINE_SHARDS, TABLES, type EngineShardDef } from '@contracts/resources';
import { CirrusFunction } from '@lib/constructs/cirrus-function';
import { CloudflareOnlyOrigin } from '@lib/constructs/cloudflare-only-origin';
import type { FifoQueueWithDlq } from '@lib/constructs/fifo-queue-with-dlq';
import { grantApiKeySecrets, grantKeyThroughServices, grantTotpSecrets } from '@lib/constructs/key-access';
import { RegionalWebAcl } from '@lib/constructs/regional-web-acl';
import { grantSecretRead } from '@lib/constructs/secret-access';
import { bindTable, bindTableName } from '@lib/constructs/table-access';
import { databaseEnvironment, type TableKey } from '../data-stack';
import { orderQueueEnvironment } from '../messaging-stack';
import { grantSearchRead, searchOperators } from '../search-stack';
import { API_STAGE_NAME, apiServiceName } from './names';

export interface RestEdgeProps {
  vpc: ec2.IVpc;
  dataKey: kms.IKey;
  tables: Record<TableKey, dynamodb.ITable>;
  orderQueues: Record<string, FifoQueueWithDlq>;
  /** @default DEFAULT_ENGINE_SHARDS */
  shards?: EngineShardDef[];
  databaseProxy: rds.IDatabaseProxy;
  /** The API's database login (cirrus_api). */
  databaseSecret: secretsmanager.ISecret;
  databaseClientSecurityGroup: ec2.ISecurityGroup;
  /** The deposit account's xpub (Chain stack): GET /sapi/v1/capital/deposit/address derives addresses from it. */
  depositXpubSecret?: secretsmanager.ISecret;
  /** The search domain (Search stack) and the security group it admits: GET /cirrus/v1/search. */
  searchDomain: opensearch.IDomain;
  searchClientSecurityGroup: ec2.ISecurityGroup;
}

export class RestEdge {
  readonly restApi: apigw.RestApi;
  /** Every REST function by service name (`Api<Name>`: alarms and dashboard). */
  readonly functions: Record<string, lambda.IFunction> = {};
  /** GET /cirrus/v1/search: its role is mapped to the domain's read-only role by the indexer. */
  readonly searchFunction: lambda.IFunction;

  /** Creates the REST functions and API in `stack` (the API stack: see the file's header). */
  constructor(stack: Stack, config: StageConfig, props: RestEdgeProps) {
    const prod = config.stage === 'prod';
    const { tables } = props;
    const shards = props.shards ?? DEFAULT_ENGINE_SHARDS;

    // Every REST handler builds one shared context when it starts (lambdas/api/context.ts), which requires
    // the names of the four REST tables, DATA_KEY_ID and DATABASE_URL whether or not the handler calls them:
    // those names are given to all four, but each grant only to the function that makes the call.
    const NAMED_FOR_CONTEXT =
      'lambdas/api/context.ts requires every REST table name when the context is built; this function never calls the table';
    const apiFunction = (
      name: string,
      entry: string,
      description: string,
      usesDatabase: boolean,
      environment: Record<string, string> = {},
    ) => {
      const fn = new CirrusFunction(stack, name, {
        entry,
        serviceName: apiServiceName(name),
        stage: config.stage,
        description,
        environment: {
          DATA_KEY_ID: props.dataKey.keyArn,
          ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
          ...environment,
        },
        vpc: usesDatabase ? props.vpc : undefined,
        securityGroups: usesDatabase ? [props.databaseClientSecurityGroup] : undefined,
      }).function;
      if (usesDatabase) grantSecretRead(props.databaseSecret, fn);
      this.functions[`Api${name}`] = fn;
      return fn;
    };
    // Public market data: the book (GetItem) and candles (Query) in market data, recent public trades (Query
    // on the table's own key) in trades.
    const marketData = apiFunction(
      'MarketData',
      REST_FUNCTION_ENTRIES['market-data'],
      'Public market data (Binance v3)',
      false,
    );
    bindTable(marketData, tables.marketData, TABLES.marketData, { operations: ['GetItem', 'Query'] });
    bindTable(marketData, tables.trades, TABLES.trades, { operations: ['Query'], indexes: [] });
    bindTableName(marketData, tables.orders, TABLES.orders, NAMED_FOR_CONTEXT);
    bindTableName(marketData, tables.idempotency, TABLES.idempotency, NAMED_FOR_CONTEXT);

    // Orders: replay markers (conditional PutItem), the book for market orders (GetItem), order history
    // (/allOrders: Query on gsi1); live orders, fills and the outbox are in PostgreSQL; commands go to SQS.
    const trading = apiFunction('Trading', REST_FUNCTION_ENTRIES.trading, 'Signed order endpoints', true, {
      ...orderQueueEnvironment(stack, props.orderQueues, shards),
    });
    bindTable(trading, tables.orders, TABLES.orders, { operations: ['Query'], indexes: ['gsi1'] });
    bindTable(trading, tables.marketData, TABLES.marketData, { operations: ['GetItem'] });
    bindTable(trading, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    bindTableName(trading, tables.trades, TABLES.trades, NAMED_FOR_CONTEXT);
    // The queue actions without CDK's unconditioned key grant: the key only through SQS (SSE-KMS).
    for (const q of Object.values(props.orderQueues))
      q.queue.grant(trading, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
    grantKeyThroughServices(trading, props.dataKey, ['kms:Decrypt', 'kms:GenerateDataKey'], ['sqs']);
    grantApiKeySecrets(trading, props.dataKey, 'decrypt');

    // Balances (PostgreSQL) and /myTrades: Query on trades, by order id on gsi1; replay markers.
    const account = apiFunction('Account', REST_FUNCTION_ENTRIES.account, 'Account and my trades', true);
    bindTable(account, tables.trades, TABLES.trades, { operations: ['Query'], indexes: ['gsi1'] });
    bindTable(account, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    bindTableName(account, tables.orders, TABLES.orders, NAMED_FOR_CONTEXT);
    bindTableName(account, tables.marketData, TABLES.marketData, NAMED_FOR_CONTEXT);
    grantApiKeySecrets(account, props.dataKey, 'decrypt');
    // Second factor (lambdas/shared/auth/totp.ts): sealing a new seed and opening it to check a code.
    grantTotpSecrets(account, props.dataKey);
    // The chain's tokens and confirmations (configuration, not secrets): withdraw/apply, the coins of
    // /sapi/v1/capital/config/getall (minConfirm) and the deposit endpoints read them.
    account.addEnvironment('CHAIN_TOKENS', JSON.stringify(config.chainTokens));
    account.addEnvironment('CHAIN_CONFIRMATIONS', String(config.chainConfirmations));
    // Deposit addresses (lambdas/api/capital.ts): the xpub secret's ARN (never its value).
    if (props.depositXpubSecret) {
      account.addEnvironment('DEPOSIT_XPUB_SECRET_ARN', props.depositXpubSecret.secretArn);
      grantSecretRead(props.depositXpubSecret, account);
    }

    // Registration and API keys (PostgreSQL; secrets encrypted with the data key); replay markers.
    const users = apiFunction('Users', REST_FUNCTION_ENTRIES.users, 'Registration, API keys, 2FA', true, {
      REGISTRATION_OPEN: prod ? 'false' : 'true',
    });
    bindTable(users, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    for (const key of ['orders', 'trades', 'marketData'] as const)
      bindTableName(users, tables[key], TABLES[key], NAMED_FOR_CONTEXT);
    grantApiKeySecrets(users, props.dataKey, 'encryptDecrypt');
    // A key with the withdraw permission is created only with the user's 2FA code: opening the seed to check it.
    grantTotpSecrets(users, props.dataKey, 'decrypt');

    // Listen keys (lambdas/api/user-stream.ts): the API key is resolved from PostgreSQL (secret decrypted with
    // the data key); the keys themselves are items of the connections table, written with conditions on
    // their owner (put, update, delete), no read of anything else.
    const userStream = apiFunction(
      'UserStream',
      REST_FUNCTION_ENTRIES['user-stream'],
      'Listen keys of the user data streams',
      true,
    );
    bindTable(userStream, tables.connections, TABLES.connections, {
      operations: ['PutItem', 'UpdateItem', 'DeleteItem'],
      indexes: [],
    });
    grantApiKeySecrets(userStream, props.dataKey, 'decrypt');

    // Search (lambdas/api/search.ts): `_search` on the domain only, API keys from PostgreSQL, replay markers.
    // Operators (scope=ALL) are the user ids of the context value `searchOperators` (docs/api.md#search).
    const search = new CirrusFunction(stack, 'Search', {
      entry: REST_FUNCTION_ENTRIES.search,
      serviceName: apiServiceName('Search'),
      stage: config.stage,
      description: 'Search over the caller orders and trades (OpenSearch)',
      environment: {
        DATA_KEY_ID: props.dataKey.keyArn,
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
        OPENSEARCH_URL: `https://${props.searchDomain.domainEndpoint}`,
        SEARCH_OPERATOR_USER_IDS: searchOperators(stack),
      },
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup, props.searchClientSecurityGroup],
    }).function;
    grantSecretRead(props.databaseSecret, search);
    this.functions.ApiSearch = search;
    this.searchFunction = search;
    grantSearchRead(search, props.searchDomain);
    bindTable(search, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    for (const key of ['orders', 'trades', 'marketData'] as const)
      bindTableName(search, tables[key], TABLES[key], NAMED_FOR_CONTEXT);
    grantApiKeySecrets(search, props.dataKey, 'decrypt');

    // --- the API --------------------------------------------------------------------------------------
    const accessLogs = new logs.LogGroup(stack, 'RestAccessLogs', {
      retention: prod ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const customDomain = config.domainName !== undefined && config.certificateArn !== undefined;
    this.restApi = new apigw.RestApi(stack, 'RestApi', {
      restApiName: `cirrus-${config.stage}-rest`,
      description: 'Cirrus REST API (Binance spot v3 subset + /cirrus/v1)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Only Cloudflare, through the mTLS custom domain; dev without a domain keeps execute-api for testing.
      disableExecuteApiEndpoint: customDomain,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: config.restRateLimit,
        throttlingBurstLimit: config.restBurstLimit,
      },
    });
    const validator = this.restApi.addRequestValidator('ParameterValidator', {
      validateRequestParameters: true,
      // Bodies are form-encoded Binance parameters, validated by zod in the function; this turns on
      // API Gateway's own checks for any model a method declares.
      validateRequestBody: true,
    });
    // The routes of contracts/api-routes.ts, which the local API Gateway serves too; one integration per function.
    const functionFor: Record<RestFunction, lambda.IFunction> = {
      'market-data': marketData,
      trading,
      account,
      users,
      'user-stream': userStream,
      search,
    };
    const integrations = new Map<RestFunction, apigw.LambdaIntegration>();
    for (const r of REST_ROUTES) {
      let integration = integrations.get(r.fn);
      if (!integration) {
        integration = new apigw.LambdaIntegration(functionFor[r.fn], { proxy: true, allowTestInvoke: false });
        integrations.set(r.fn, integration);
      }
      this.restApi.root
        .resourceForPath(r.path)
        .addMethod(r.method, integration, { requestValidator: validator });
    }

    new RegionalWebAcl(stack, 'RestWaf', {
      name: `cirrus-${config.stage}-rest`,
      rateLimitPer5Min: config.wafRateLimitPer5Min,
      associate: { RestStage: this.restApi.deploymentStage.stageArn },
    });
    if (customDomain) {
      const origin = new CloudflareOnlyOrigin(stack, 'CloudflareOrigin', {
        api: this.restApi,
        domainName: config.domainName!,
        certificateArn: config.certificateArn!,
        caBundlePath: config.cloudflareCaBundlePath,
        requireCertificate: prod,
      });
      new CfnOutput(stack, 'RestOriginHost', {
        description: `Cloudflare: proxied CNAME ${config.domainName} -> this host (docs/deploy.md)`,
        value: origin.domain.domainNameAliasDomainName,
      });
    }
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Market data is public by design; signed endpoints authenticate in the function with Binance-style HMAC API keys (X-MBX-APIKEY + signature), which API Gateway authorizers cannot verify over the body.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Clients are trading bots holding API keys (HMAC signing), not Cognito users.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account-level logging role uses the AWS policy made for it.",
    });
  }
}
