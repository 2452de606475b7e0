// The public edge behind Cloudflare: the REST API (Binance-compatible + Cirrus endpoints) and the
// WebSocket API, each route a Lambda. REST is reachable only on its mTLS custom domain (the execute-api
// endpoint is off); the WebSocket $connect authorizer admits only requests carrying Cloudflare's origin
// secret header (API Gateway has no mTLS for WebSocket APIs).
import {
  CfnElement,
  CfnOutput,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { REST_FUNCTION_ENTRIES, REST_ROUTES, type RestFunction } from '../../contracts/api-routes';
import { CirrusFunction } from '../constructs/cirrus-function';
import { grantApiKeySecrets, grantKeyThroughServices, grantTotpSecrets } from '../constructs/key-access';
import { bindTable, bindTableName } from '../constructs/table-access';
import { CloudflareOnlyOrigin } from '../constructs/cloudflare-only-origin';
import type { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';
import { RegionalWebAcl } from '../constructs/regional-web-acl';
import { grantSecretRead, secretsKeyRef } from '../constructs/secret-access';
import { DEFAULT_ENGINE_SHARDS, TABLES, type EngineShardDef } from '../../contracts/resources';
import { databaseEnvironment, type TableKey } from './data-stack';
import { orderQueueEnvironment } from './messaging-stack';
import { grantSearchRead, searchOperators } from './search-stack';

/** Header Cloudflare adds (Transform Rule) to every WebSocket upgrade it forwards to the origin. */
export const ORIGIN_SECRET_HEADER = 'X-Cirrus-Origin-Secret';
export const API_STAGE_NAME = 'live';

/** POWERTOOLS_SERVICE_NAME of a REST function (its Powertools metrics' `service` dimension), e.g. `api-trading`. */
export const apiServiceName = (name: string): string => `api-${name.toLowerCase()}`;

/** How cdk-nag prints an ARN part: the literal when known at synth, else the pseudo parameter. */
const nagForm = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

export interface ApiStackProps extends StackProps {
  vpc: ec2.IVpc;
  dataKey: kms.IKey;
  tables: Record<TableKey, dynamodb.ITable>;
  orderQueues: Record<string, FifoQueueWithDlq>;
  shards?: EngineShardDef[];
  databaseProxy: rds.IDatabaseProxy;
  databaseSecret: secretsmanager.ISecret;
  databaseClientSecurityGroup: ec2.ISecurityGroup;
  /** The deposit account's xpub (Chain stack): GET /sapi/v1/capital/deposit/address derives addresses from it. */
  depositXpubSecret?: secretsmanager.ISecret;
  /** The search domain (Search stack) and the security group it admits: GET /cirrus/v1/search. */
  searchDomain: opensearch.IDomain;
  searchClientSecurityGroup: ec2.ISecurityGroup;
}

export class ApiStack extends Stack {
  readonly restApi: apigw.RestApi;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Attached by the stream workers that push to subscribers (data processor). */
  readonly webSocketPushPolicy: iam.ManagedPolicy;
  readonly originSecret: secretsmanager.Secret;
  /** Every function of this stack by service name (alarms and dashboard). */
  readonly functions: Record<string, lambda.IFunction> = {};
  /** GET /cirrus/v1/search: its role is mapped to the domain's read-only role by the indexer. */
  readonly searchFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, config: StageConfig, props: ApiStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
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
      const fn = new CirrusFunction(this, name, {
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
      ...orderQueueEnvironment(this, props.orderQueues, shards),
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
    // Deposit addresses (lambdas/api/capital.ts): the xpub secret's ARN (never its value) and the tokens.
    if (props.depositXpubSecret) {
      account.addEnvironment('DEPOSIT_XPUB_SECRET_ARN', props.depositXpubSecret.secretArn);
      account.addEnvironment('CHAIN_TOKENS', JSON.stringify(config.chainTokens));
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
    const search = new CirrusFunction(this, 'Search', {
      entry: REST_FUNCTION_ENTRIES.search,
      serviceName: apiServiceName('Search'),
      stage: config.stage,
      description: 'Search over the caller orders and trades (OpenSearch)',
      environment: {
        DATA_KEY_ID: props.dataKey.keyArn,
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
        OPENSEARCH_URL: `https://${props.searchDomain.domainEndpoint}`,
        SEARCH_OPERATOR_USER_IDS: searchOperators(this),
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

    // --- REST API -------------------------------------------------------------------------------------
    const accessLogs = new logs.LogGroup(this, 'RestAccessLogs', {
      retention: prod ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const customDomain = config.domainName !== undefined && config.certificateArn !== undefined;
    this.restApi = new apigw.RestApi(this, 'RestApi', {
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

    new RegionalWebAcl(this, 'RestWaf', {
      name: `cirrus-${config.stage}-rest`,
      rateLimitPer5Min: config.wafRateLimitPer5Min,
      associate: { RestStage: this.restApi.deploymentStage.stageArn },
    });
    if (customDomain) {
      const origin = new CloudflareOnlyOrigin(this, 'CloudflareOrigin', {
        api: this.restApi,
        domainName: config.domainName!,
        certificateArn: config.certificateArn!,
        caBundlePath: config.cloudflareCaBundlePath,
        requireCertificate: prod,
      });
      new CfnOutput(this, 'RestOriginHost', {
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

    // --- WebSocket API --------------------------------------------------------------------------------
    this.originSecret = new secretsmanager.Secret(this, 'CloudflareOriginSecret', {
      secretName: `cirrus-${config.stage}/cloudflare-origin-secret`,
      description: `Value Cloudflare sends in ${ORIGIN_SECRET_HEADER} on WebSocket upgrades to the origin`,
      encryptionKey: secretsKeyRef(this, props.dataKey),
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(this.originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it means changing the Cloudflare Transform Rule at the same moment; docs/deploy.md describes the two-value rotation, which the authorizer supports (AWSCURRENT and AWSPREVIOUS).',
    });
    const wsFunction = (
      name: string,
      entry: string,
      description: string,
      env: Record<string, string> = {},
    ) => {
      const fn = new CirrusFunction(this, name, {
        entry,
        serviceName: `ws-${name.toLowerCase()}`,
        stage: config.stage,
        description,
        environment: env,
        memorySize: 256,
      }).function;
      this.functions[`Ws${name}`] = fn;
      return fn;
    };
    const authorizer = wsFunction('Authorizer', 'lambdas/ws/authorizer.ts', 'Admits only Cloudflare', {
      ORIGIN_SECRET_ARN: this.originSecret.secretArn,
      ORIGIN_SECRET_HEADER,
    });
    grantSecretRead(this.originSecret, authorizer);
    // Exactly the calls of lambdas/ws/connection-store.ts: $connect puts the connection; $disconnect and the
    // message routes query its subscriptions (table key, no index) and batch-write puts and deletes.
    // $connect also reads a listen key (Query of the table key) to bind `/ws/<listenKey>` to its user.
    const connect = wsFunction('Connect', 'lambdas/ws/connect.ts', 'WebSocket $connect');
    bindTable(connect, tables.connections, TABLES.connections, {
      operations: ['PutItem', 'Query'],
      indexes: [],
    });
    const subscriptions = { operations: ['Query', 'BatchWriteItem'], indexes: [] } as const;
    const disconnect = wsFunction('Disconnect', 'lambdas/ws/disconnect.ts', 'WebSocket $disconnect');
    bindTable(disconnect, tables.connections, TABLES.connections, subscriptions);
    const messages = wsFunction('Messages', 'lambdas/ws/messages.ts', 'SUBSCRIBE / UNSUBSCRIBE');
    bindTable(messages, tables.connections, TABLES.connections, subscriptions);

    const messagesIntegration = new WebSocketLambdaIntegration('Messages', messages);
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      apiName: `cirrus-${config.stage}-ws`,
      description: 'Cirrus market and user data streams',
      routeSelectionExpression: '$request.body.method',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Connect', connect),
        authorizer: new WebSocketLambdaAuthorizer('OriginSecretAuthorizer', authorizer, {
          identitySource: [`route.request.header.${ORIGIN_SECRET_HEADER}`],
        }),
      },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('Disconnect', disconnect) },
      defaultRouteOptions: { integration: messagesIntegration, returnResponse: true },
    });
    for (const method of ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS'])
      this.webSocketApi.addRoute(method, { integration: messagesIntegration, returnResponse: true });
    // User data on the WebSocket API (lambdas/ws/user-data.ts): a function of its own, the only WebSocket one
    // that reads API keys (PostgreSQL in the VPC, the secret's decrypt) and records signatures (replay).
    const userData = new CirrusFunction(this, 'UserData', {
      entry: 'lambdas/ws/user-data.ts',
      serviceName: 'ws-userdata',
      stage: config.stage,
      description: 'userDataStream.subscribe.signature / unsubscribe',
      memorySize: 256,
      environment: {
        DATA_KEY_ID: props.dataKey.keyArn,
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
      },
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
    }).function;
    this.functions.WsUserData = userData;
    grantSecretRead(props.databaseSecret, userData);
    grantApiKeySecrets(userData, props.dataKey, 'decrypt');
    bindTable(userData, tables.connections, TABLES.connections, {
      operations: ['PutItem', 'BatchWriteItem'],
    });
    bindTable(userData, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    const userDataIntegration = new WebSocketLambdaIntegration('UserData', userData);
    for (const method of ['userDataStream.subscribe.signature', 'userDataStream.unsubscribe'])
      this.webSocketApi.addRoute(method, { integration: userDataIntegration, returnResponse: true });

    const wsAccessLogs = new logs.LogGroup(this, 'WebSocketAccessLogs', {
      retention: prod ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const wsDomain =
      config.wsDomainName && config.certificateArn
        ? new apigwv2.DomainName(this, 'WebSocketDomain', {
            domainName: config.wsDomainName,
            certificate: acm.Certificate.fromCertificateArn(this, 'WsCertificate', config.certificateArn),
          })
        : undefined;
    this.webSocketStage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: API_STAGE_NAME,
      autoDeploy: true,
      throttle: { rateLimit: config.restRateLimit, burstLimit: config.restBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(wsAccessLogs),
        format: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
      domainMapping: wsDomain ? { domainName: wsDomain } : undefined,
    });
    if (wsDomain) {
      new CfnOutput(this, 'WebSocketOriginHost', {
        description: `Cloudflare: proxied CNAME ${config.wsDomainName} -> this host (docs/deploy.md)`,
        value: wsDomain.regionalDomainName,
      });
    }
    new CfnOutput(this, 'OriginSecretName', {
      description: `Secret whose value Cloudflare must send in ${ORIGIN_SECRET_HEADER} on WebSocket upgrades`,
      value: this.originSecret.secretName,
    });
    this.webSocketPushPolicy = new iam.ManagedPolicy(this, 'WebSocketPushPolicy', {
      description: 'Post to WebSocket connections of this API (the data processor pushes market/user data)',
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:ManageConnections'],
          resources: [
            this.formatArn({
              service: 'execute-api',
              resource: this.webSocketApi.apiId,
              resourceName: `${API_STAGE_NAME}/POST/@connections/*`,
            }),
          ],
        }),
      ],
    });
    const apiLogicalId = this.getLogicalId(this.webSocketApi.node.defaultChild as CfnElement);
    Validations.of(this.webSocketPushPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${nagForm(this.partition, 'AWS::Partition')}:execute-api:${nagForm(this.region, 'AWS::Region')}:${nagForm(this.account, 'AWS::AccountId')}:<${apiLogicalId}>/${API_STAGE_NAME}/POST/@connections/*]`,
      reason: 'Connection ids exist only at runtime; the ARN is limited to this API, its stage and POST.',
    });
    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        '$connect has the origin-secret authorizer; $disconnect and message routes ride an already authorized connection and cannot carry an authorizer in API Gateway.',
    });
  }
}
