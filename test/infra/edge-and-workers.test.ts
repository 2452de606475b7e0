// The API edge, the stream workers, the chain node, search, the ledger database and the alarms:
// fine-grained assertions on the synthesised templates (dev and prod).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { REST_ROUTES } from '@contracts/api-routes';
import { DEFAULT_ENGINE_SHARDS } from '@contracts/resources';
import { ORIGIN_SECRET_HEADER } from '@lib/stacks/api-stack';
import { prodContext, synthTemplates } from '../support/cdk-synth';

const dev = synthTemplates();
const prod = synthTemplates(prodContext());

const resourcesOf = (t: Template, type: string) => Object.values(t.findResources(type));

/** A synthesised resource's properties (CloudFormation JSON). */
type Properties = ReturnType<Template['findResources']>[string]['Properties'];

/** Logical id and properties of the function with this physical name. */
function functionNamed(t: Template, name: string): { id: string; props: Properties } {
  const found = Object.entries(
    t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }),
  );
  expect(found).toHaveLength(1);
  return { id: found[0][0], props: found[0][1].Properties };
}

/** Every REST API method as "VERB /full/path", sorted: paths rebuilt from the resources' parent links. */
function restMethods(t: Template): string[] {
  const resources = t.findResources('AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`method on unknown resource ${id}`);
    const parent = r.Properties.ParentId as { Ref?: string };
    const prefix = parent.Ref !== undefined ? pathOf(parent.Ref) : ''; // else the API's root resource
    return `${prefix}/${String(r.Properties.PathPart)}`;
  };
  return resourcesOf(t, 'AWS::ApiGateway::Method')
    .map((m) => {
      const resource = m.Properties.ResourceId as { Ref?: string };
      const path = resource.Ref !== undefined ? pathOf(resource.Ref) : '/';
      return `${String(m.Properties.HttpMethod)} ${path}`;
    })
    .sort();
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the policies attached to the function's role. */
function statementsOf(t: Template, fnProps: Properties): Statement[] {
  const roleId = fnProps.Role['Fn::GetAtt'][0] as string;
  return resourcesOf(t, 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement) => [s.Action].flat();
const withService = (statements: Statement[], service: string) =>
  statements.filter((s) => actionsOf(s).some((a) => a.startsWith(`${service}:`)));

describe('api', () => {
  it('REST: only reachable through the mTLS custom domain in prod, with the Cloudflare CA as truststore', () => {
    prod.api.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    prod.api.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.cirrus.example',
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      MutualTlsAuthentication: { TruststoreUri: Match.stringLikeRegexp('^s3://.+\\.pem$') },
    });
    prod.api.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
    // dev without a domain keeps execute-api so the stack can be tried without Cloudflare.
    dev.api.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: false });
    dev.api.resourceCountIs('AWS::ApiGateway::DomainName', 0);
  });

  it('REST stage: access logs, throttling, tracing; a WAF web ACL with a rate rule and managed rules', () => {
    dev.api.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000, MetricsEnabled: true }),
      ]),
    });
    dev.api.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'RatePerClientIp',
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: Match.objectLike({ Limit: 3000, AggregateKeyType: 'FORWARDED_IP' }),
          },
        }),
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
          },
        }),
      ]),
    });
    dev.api.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('routes the Binance paths to their functions', () => {
    const paths = resourcesOf(dev.api, 'AWS::ApiGateway::Resource').map((r) => r.Properties.PathPart);
    for (const p of ['order', 'openOrders', 'allOrders', 'account', 'myTrades', 'depth', 'klines', '24hr'])
      expect(paths).toContain(p);
    for (const p of ['users', 'apiKeys']) expect(paths).toContain(p);
    // Exactly these methods, written out here rather than read from contracts/api-routes.ts (the table the stack
    // loops over), so a route dropped from or added to that table, or a loop that skips one, fails this test.
    dev.api.resourceCountIs('AWS::ApiGateway::Method', 64);
    dev.api.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'GET' }, 41);
    dev.api.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'POST' }, 15);
    dev.api.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'PUT' }, 2);
    dev.api.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'DELETE' }, 6);
    expect(restMethods(dev.api)).toEqual(
      [
        'GET /api/v3/ping',
        'GET /api/v3/time',
        'GET /api/v3/exchangeInfo',
        'GET /api/v3/depth',
        'GET /api/v3/trades',
        'GET /api/v3/klines',
        'GET /api/v3/ticker/24hr',
        'GET /api/v3/ticker/price',
        'GET /api/v3/ticker/bookTicker',
        'GET /api/v3/ticker',
        'GET /api/v3/aggTrades',
        'GET /api/v3/historicalTrades',
        'GET /api/v3/avgPrice',
        'GET /api/v3/uiKlines',
        'GET /api/v3/account/commission',
        'GET /api/v3/rateLimit/order',
        'GET /sapi/v1/system/status',
        'GET /sapi/v1/asset/tradeFee',
        'GET /sapi/v1/capital/config/getall',
        'GET /sapi/v1/capital/deposit/address',
        'GET /sapi/v1/capital/deposit/hisrec',
        'POST /sapi/v1/capital/withdraw/apply',
        'GET /sapi/v1/capital/withdraw/history',
        'GET /cirrus/v1/totp',
        'POST /cirrus/v1/totp/enroll',
        'POST /cirrus/v1/totp/confirm',
        'POST /cirrus/v1/totp/disable',
        'GET /cirrus/v1/withdrawAddresses',
        'POST /cirrus/v1/withdrawAddresses',
        'DELETE /cirrus/v1/withdrawAddresses',
        'GET /sapi/v1/margin/allPairs',
        'GET /sapi/v1/margin/isolated/allPairs',
        'GET /fapi/v1/exchangeInfo',
        'GET /dapi/v1/exchangeInfo',
        'GET /eapi/v1/exchangeInfo',
        'POST /api/v3/order',
        'GET /api/v3/order',
        'DELETE /api/v3/order',
        'POST /api/v3/order/test',
        'POST /api/v3/order/cancelReplace',
        'PUT /api/v3/order/amend/keepPriority',
        'GET /api/v3/order/amendments',
        'GET /api/v3/openOrders',
        'DELETE /api/v3/openOrders',
        'GET /api/v3/allOrders',
        'POST /api/v3/orderList/oco',
        'POST /api/v3/orderList/oto',
        'POST /api/v3/orderList/otoco',
        'POST /api/v3/order/oco',
        'DELETE /api/v3/orderList',
        'GET /api/v3/orderList',
        'GET /api/v3/allOrderList',
        'GET /api/v3/openOrderList',
        'GET /api/v3/myPreventedMatches',
        'GET /api/v3/account',
        'GET /api/v3/myTrades',
        'POST /cirrus/v1/users',
        'GET /cirrus/v1/apiKeys',
        'POST /cirrus/v1/apiKeys',
        'DELETE /cirrus/v1/apiKeys',
        'GET /cirrus/v1/search',
        'POST /api/v3/userDataStream',
        'PUT /api/v3/userDataStream',
        'DELETE /api/v3/userDataStream',
      ].sort(),
    );
    // The local API Gateway serves the same table: it must agree with the deployed methods too.
    expect(REST_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(restMethods(dev.api));
  });

  it('WebSocket: route selection on the method, $connect guarded by the Cloudflare origin-secret authorizer', () => {
    dev.api.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.method',
    });
    dev.api.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: [`route.request.header.${ORIGIN_SECRET_HEADER}`],
    });
    dev.api.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
    });
    for (const key of ['$disconnect', '$default', 'SUBSCRIBE', 'UNSUBSCRIBE'])
      dev.api.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key });
    dev.api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'live',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500 }),
    });
    dev.api.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: Match.anyValue(),
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
  });

  it('functions: Node 22 on arm64, traced, Powertools settings; no database password in the environment', () => {
    // Ours, not CDK's own helpers (the custom-resource provider framework).
    const functions = [
      ...resourcesOf(dev.api, 'AWS::Lambda::Function'),
      ...resourcesOf(dev.workers, 'AWS::Lambda::Function'),
    ].filter((fn) => String(fn.Properties.FunctionName ?? '').startsWith('cirrus-dev-'));
    expect(functions).toHaveLength(19); // with the user data streams' api-userstream and ws-userdata, and api-search
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: { POWERTOOLS_SERVICE_NAME: expect.any(String) } },
      });
      expect(JSON.stringify(fn.Properties.Environment)).not.toMatch(/password|SecretString/i);
    }
  });

  it('grants the trading function its queue and tables only: explicit indexes, no table wildcard', () => {
    const policies = JSON.stringify(resourcesOf(dev.api, 'AWS::IAM::Policy'));
    expect(policies).not.toContain('/index/*');
    expect(policies).toContain('/index/gsi1');
    dev.api.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Effect: 'Allow' }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^TradingFunctionServiceRole') }],
    });
    // The market-data function is public: it may read, never write.
    const marketData = resourcesOf(dev.api, 'AWS::IAM::Policy').find((p) =>
      JSON.stringify(p.Properties.Roles).includes('MarketDataFunctionServiceRole'),
    );
    expect(JSON.stringify(marketData)).not.toMatch(/PutItem|UpdateItem|DeleteItem|sqs:SendMessage/);
  });
});

describe('workers', () => {
  it('consumes the event stream: batches, bisect on error, partial batch response, on-failure queue', () => {
    // The three engine-event consumers, and the search indexer's second source: the wallet events.
    dev.workers.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    const sources = Object.values(dev.workers.findResources('AWS::Lambda::EventSourceMapping')).map((m) =>
      JSON.stringify(m.Properties.EventSourceArn),
    );
    expect(sources.filter((arn) => /EngineEventsStream/.test(arn))).toHaveLength(3);
    expect(sources.filter((arn) => /WalletEventsStream/.test(arn))).toHaveLength(1);
    for (const batchSize of [100, 500]) {
      dev.workers.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: batchSize,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
    dev.workers.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('runs the chain listener every minute and lets the data processor push to WebSocket clients', () => {
    dev.workers.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    dev.api.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: 'execute-api:ManageConnections' })],
      },
    });
  });

  it('applies the ledger migrations through a custom resource that changes when they change', () => {
    dev.workers.hasResourceProperties('AWS::CloudFormation::CustomResource', {
      schemaHash: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
    });
    dev.workers.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cirrus-dev-db-migrate',
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ DB_SECRET_ARN: Match.anyValue() }) },
    });
  });

  it('the wallet runs as the role the hot-wallet key policy names; only that role may sign', () => {
    dev.workers.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cirrus-dev-wallet',
      Role: { 'Fn::Join': ['', Match.arrayWith([':role/cirrus-dev-wallet-fn'])] },
    });
    dev.keys.hasResourceProperties('AWS::IAM::Role', { RoleName: 'cirrus-dev-wallet-fn' });
    dev.keys.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_SECG_P256K1',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'WalletFunctionSigns', Action: Match.arrayWith(['kms:Sign']) }),
          Match.objectLike({
            Sid: 'OnlyTheWalletFunctionSigns',
            Effect: 'Deny',
            Action: 'kms:Sign',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('engine-events consumers: settlement and read models', () => {
  const dataProcessor = () => functionNamed(dev.workers, 'cirrus-dev-data-processor');
  const readModels = () => functionNamed(dev.workers, 'cirrus-dev-read-models');

  /** The one event source mapping of the function with this logical id. */
  const mappingOf = (t: Template, fnId: string): Properties => {
    const found = resourcesOf(t, 'AWS::Lambda::EventSourceMapping').filter(
      (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: fnId }),
    );
    expect(found).toHaveLength(1);
    return found[0].Properties;
  };

  /** The DynamoDB actions granted per table, by the table's construct id in the data stack's export name. */
  const dynamoGrants = (statements: Statement[]): Record<string, string[]> => {
    const byTable: Record<string, string[]> = {};
    for (const s of withService(statements, 'dynamodb'))
      for (const resource of [s.Resource].flat()) {
        const exported = (resource as { 'Fn::ImportValue'?: string })['Fn::ImportValue'] ?? '';
        // Anything else (an index ARN, a wildcard) is reported whole, so the equality below fails on it.
        const table =
          /^Cirrus-dev-Data:ExportsOutputFnGetAtt([A-Za-z]+Table)[0-9A-F]{8}Arn/.exec(exported)?.[1] ??
          JSON.stringify(resource);
        byTable[table] = [...new Set([...(byTable[table] ?? []), ...actionsOf(s)])].sort();
      }
    return byTable;
  };

  it('the read models consume the stream as the data processor does: each its own mapping and failure queue', () => {
    const rm = mappingOf(dev.workers, readModels().id);
    expect(rm).toEqual({
      FunctionName: { Ref: readModels().id },
      EventSourceArn: {
        'Fn::ImportValue': expect.stringMatching(
          /^Cirrus-dev-Messaging:ExportsOutputFnGetAttEngineEventsStream[0-9A-F]+Arn/,
        ),
      },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      // No batching window: /api/v3/myTrades after a fill waits for this mapping (contracts/resources.ts).
      MaximumBatchingWindowInSeconds: 0,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      ParallelizationFactor: 1,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ReadModelsStreamFailures/), 'Arn'] },
        },
      },
    });
    const dp = mappingOf(dev.workers, dataProcessor().id);
    expect(dp.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^DataProcessorStreamFailures/), 'Arn'],
    });
    // Everything but the function and its failure queue is the data processor's configuration.
    const shared = ({ FunctionName: _f, DestinationConfig: _d, ...rest }: Properties) => rest;
    expect(shared(rm)).toEqual(shared(dp));
    // The failure queue is encrypted with the data key, like the data processor's.
    const [queueId] = rm.DestinationConfig.OnFailure.Destination['Fn::GetAtt'];
    expect(dev.workers.toJSON().Resources[queueId].Properties).toMatchObject({
      KmsMasterKeyId: { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Keys:.*DataKey/) },
      MessageRetentionPeriod: 1209600,
    });
    prod.workers.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
  });

  it('the read models reach the ledger as the data processor does: VPC, database client group, proxy, secret', () => {
    for (const { props } of [readModels(), dataProcessor()]) {
      expect(props.VpcConfig.SecurityGroupIds).toEqual([
        { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*DatabaseClientSecurityGroup/) },
      ]);
      expect(props.Environment.Variables.DB_SECRET_ARN).toEqual({
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*LedgerDatabaseSecret/),
      });
      expect(JSON.stringify(props.Environment.Variables.DATABASE_URL)).toMatch(
        /LedgerProxy.*sslmode=require/,
      );
      const statements = statementsOf(dev.workers, props);
      const secrets = withService(statements, 'secretsmanager');
      expect(secrets).toHaveLength(1);
      expect(secrets[0].Resource).toEqual({
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*LedgerDatabaseSecret/),
      });
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        }),
      );
    }
    expect(readModels().props).toMatchObject({ Handler: 'index.handler', Timeout: 60, MemorySize: 1024 });
    expect(readModels().props.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('read-models');
  });

  it('the read models may call only the DynamoDB operations they make, on their three tables', () => {
    const statements = statementsOf(dev.workers, readModels().props);
    expect(dynamoGrants(statements)).toEqual({
      OrdersTable: ['dynamodb:BatchWriteItem'],
      TradesTable: ['dynamodb:BatchWriteItem'],
      MarketDataTable: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    });
    const json = JSON.stringify(statements);
    expect(json).not.toMatch(/\/index\/|"dynamodb:\*"|Connections|Checkpoints|Idempotency/);
    // The tables' key, and only through DynamoDB.
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Keys:.*DataKey/) },
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    });
    expect(withService(statements, 's3')).toEqual([]);
    const roleId = readModels().props.Role['Fn::GetAtt'][0] as string;
    expect(JSON.stringify(dev.workers.toJSON().Resources[roleId].Properties.ManagedPolicyArns)).not.toMatch(
      /WebSocketPushPolicy/,
    );
    // The names of the tables it writes, and no other table.
    const tableVars = Object.entries(readModels().props.Environment.Variables).filter(([k]) =>
      k.endsWith('_TABLE'),
    );
    expect(Object.fromEntries(tableVars)).toEqual({
      ORDERS_TABLE: {
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:ExportsOutputRefOrdersTable/),
      },
      TRADES_TABLE: {
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:ExportsOutputRefTradesTable/),
      },
      MARKET_DATA_TABLE: {
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:ExportsOutputRefMarketDataTable/),
      },
    });
  });

  it('the data processor settles in PostgreSQL only: no DynamoDB action, table or table key grant', () => {
    const { props } = dataProcessor();
    expect(props.Description).toMatch(/^settlement: /);
    const statements = statementsOf(dev.workers, props);
    expect(withService(statements, 'dynamodb')).toEqual([]);
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb|Table/);
    expect(Object.keys(props.Environment.Variables).filter((k) => k.endsWith('_TABLE'))).toEqual([]);
    // It still reads the stream and parks failed batches in its queue.
    expect(withService(statements, 'kinesis')).toHaveLength(1);
    expect(withService(statements, 'sqs')).toHaveLength(1);
  });
});

describe('outbox relay', () => {
  const relay = () => functionNamed(dev.workers, 'cirrus-dev-outbox-relay');

  it('runs every minute, one at a time, for at most 60 s, without retries piling onto the next run', () => {
    const { id, props } = relay();
    expect(props).toMatchObject({ Timeout: 60, ReservedConcurrentExecutions: 1, Handler: 'index.handler' });
    dev.workers.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
    dev.workers.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('reaches the ledger like the API: in the VPC behind the database client group, proxy URL and secret ARN', () => {
    const { props } = relay();
    expect(props.VpcConfig.SecurityGroupIds).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*DatabaseClientSecurityGroup/) },
    ]);
    expect(props.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'outbox-relay',
      DB_SECRET_ARN: { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*LedgerDatabaseSecret/) },
    });
    expect(JSON.stringify(props.Environment.Variables.DATABASE_URL)).toMatch(/LedgerProxy.*sslmode=require/);
  });

  it('gets the order queue URLs exactly as the trading function does: one queue per market', () => {
    const env = relay().props.Environment.Variables;
    const trading = functionNamed(dev.api, 'cirrus-dev-api-trading').props.Environment.Variables;
    expect(env.ORDER_QUEUE_URL).toEqual(trading.ORDER_QUEUE_URL);
    expect(env.ORDER_QUEUE_URLS).toEqual(trading.ORDER_QUEUE_URLS);
    const shard0Url = {
      'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Messaging:.*OrderQueueshard0Queue/),
    };
    expect(env.ORDER_QUEUE_URL).toEqual(shard0Url);
    expect(env.ORDER_QUEUE_URLS).toEqual({
      'Fn::Join': ['', ['{"BTCUSDT":"', shard0Url, '","ETHUSDT":"', shard0Url, '"}']],
    });
  });

  it('may only send, only to the order queues (not their DLQs), with the data key for their encryption', () => {
    const statements = statementsOf(dev.workers, relay().props);
    const sqs = withService(statements, 'sqs');
    expect(sqs).toHaveLength(1);
    expect(sqs[0].Action).toBe('sqs:SendMessage');
    expect([sqs[0].Resource].flat()).toEqual([
      {
        'Fn::ImportValue': expect.stringMatching(
          /^Cirrus-dev-Messaging:ExportsOutputFnGetAttOrderQueueshard0Queue[0-9A-F]+Arn/,
        ),
      },
    ]);
    expect(
      statements.find(
        (s) =>
          JSON.stringify(actionsOf(s).sort()) === '["kms:Decrypt","kms:GenerateDataKey"]' && !s.Condition,
      )?.Resource,
    ).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Keys:.*DataKey/) });
    for (const service of ['s3', 'dynamodb']) expect(withService(statements, service)).toEqual([]);
    expect(JSON.stringify(statements)).not.toMatch(/"sqs:\*"|ReceiveMessage|DeleteMessage|Dlq/);
  });

  it('publishes balance events: PutRecords on the wallet-event stream alone, named in its environment', () => {
    const statements = statementsOf(dev.workers, relay().props);
    const kinesis = withService(statements, 'kinesis');
    expect(kinesis).toHaveLength(1);
    expect(actionsOf(kinesis[0])).toEqual(['kinesis:PutRecords']);
    expect([kinesis[0].Resource].flat()).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Messaging:.*WalletEventsStream/) },
    ]);
    expect(relay().props.Environment.Variables).toMatchObject({
      WALLET_EVENT_STREAM_NAME: { 'Fn::ImportValue': expect.stringMatching(/WalletEventsStream/) },
    });
  });
});

describe('reconciliation', () => {
  const reconciliation = () => functionNamed(dev.workers, 'cirrus-dev-reconciliation');

  it('runs every 5 minutes with database access, the snapshot bucket and the shard ids', () => {
    const { id, props } = reconciliation();
    dev.workers.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
    expect(props.VpcConfig.SecurityGroupIds).toEqual([
      { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*DatabaseClientSecurityGroup/) },
    ]);
    expect(props.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'reconciliation',
      ENGINE_SHARDS: '["shard0"]',
      SNAPSHOT_BUCKET: {
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Messaging:.*EngineSnapshotBucket/),
      },
      DB_SECRET_ARN: { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Data:.*LedgerDatabaseSecret/) },
    });
    expect(props.Timeout).toBeLessThan(300); // done before the next run starts
  });

  it('reads the snapshots only: s3:GetObject on the snapshot prefix, no queue, no write', () => {
    const statements = statementsOf(dev.workers, reconciliation().props);
    const s3 = withService(statements, 's3');
    expect(s3).toHaveLength(1);
    expect(s3[0].Action).toBe('s3:GetObject');
    expect([s3[0].Resource].flat()).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':s3:::cirrus-dev-engine-snapshots-',
            { Ref: 'AWS::AccountId' },
            '/snapshots/shard0/*',
          ],
        ],
      },
    ]);
    for (const service of ['sqs', 'dynamodb', 'kinesis'])
      expect(withService(statements, service)).toEqual([]);
    // The data key to read SSE-KMS snapshots: decrypt only.
    const kms = withService(statements, 'kms').flatMap(actionsOf);
    expect([...new Set(kms)]).toEqual(['kms:Decrypt']);
  });
});

describe('chain', () => {
  it('one node in a private subnet, encrypted volumes, IMDSv2; JSON-RPC only from wallet and listener', () => {
    dev.chain.hasResourceProperties('AWS::EC2::Instance', {
      BlockDeviceMappings: [
        Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) }),
        Match.objectLike({
          DeviceName: '/dev/sdf',
          Ebs: Match.objectLike({ Encrypted: true, KmsKeyId: Match.anyValue() }),
        }),
      ],
      UserData: Match.anyValue(),
    });
    dev.chain.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
    });
    const ingress = resourcesOf(dev.chain, 'AWS::EC2::SecurityGroupIngress');
    expect(ingress).toHaveLength(2);
    for (const rule of ingress) {
      expect(rule.Properties).toMatchObject({ FromPort: 8545, ToPort: 8545, IpProtocol: 'tcp' });
      expect(rule.Properties.SourceSecurityGroupId).toBeDefined();
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
    const userData = JSON.stringify(resourcesOf(dev.chain, 'AWS::EC2::Instance')[0].Properties.UserData);
    expect(userData).toContain('--sepolia');
    expect(userData).toContain('--http.port 8545');
    prod.chain.hasResourceProperties('AWS::EC2::Instance', { DisableApiTermination: true });
  });
});

describe('search', () => {
  it('OpenSearch in the VPC: encrypted at rest and node to node, HTTPS only, fine-grained access', () => {
    for (const t of [dev.search, prod.search]) {
      t.hasResourceProperties('AWS::OpenSearchService::Domain', {
        EncryptionAtRestOptions: { Enabled: true, KmsKeyId: Match.anyValue() },
        NodeToNodeEncryptionOptions: { Enabled: true },
        DomainEndpointOptions: Match.objectLike({ EnforceHTTPS: true }),
        AdvancedSecurityOptions: Match.objectLike({ Enabled: true, InternalUserDatabaseEnabled: false }),
        VPCOptions: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
      });
    }
    prod.search.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ ZoneAwarenessEnabled: true, DedicatedMasterEnabled: true }),
    });
  });
});

describe('ledger database', () => {
  it('encrypted PostgreSQL with rotated credentials behind a TLS-only RDS Proxy; Multi-AZ and protected in prod', () => {
    prod.data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 30,
    });
    prod.data.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Retain' });
    dev.data.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, DeletionProtection: false });
    dev.data.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    dev.data.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    dev.data.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });
});

describe('alarms', () => {
  const alarmNames = (t: Template) =>
    resourcesOf(t, 'AWS::CloudWatch::Alarm').map((a) => a.Properties.AlarmName as string);

  it('covers the pipeline, the stream consumers, the APIs, every function and the database', () => {
    const names = alarmNames(dev.monitoring);
    const expected = [
      ...DEFAULT_ENGINE_SHARDS.flatMap((s) => [
        `OrderQueueAge-${s.id}`,
        `OrderDlqDepth-${s.id}`,
        `EngineHeartbeat-${s.id}`,
        `EngineTaskCount-${s.id}`,
      ]),
      'DataProcessor-IteratorAge',
      'ReadModels-IteratorAge',
      'SearchIndexer-IteratorAge',
      'DataProcessor-StreamFailures',
      'ReadModels-StreamFailures',
      'SearchIndexer-StreamFailures',
      'Rest5xxRate',
      'WebSocketErrors',
      'DatabaseCpu',
      'DatabaseFreeStorage',
      'DatabaseConnections',
      'OutboxOldestUnappliedAge',
      'OutboxRelaySendFailures',
      'BalanceEventPublishFailures',
      'DataProcessor-QuarantinedRecords',
      'Reconciliation-ConservationProblems',
      'Reconciliation-OrphanLocks',
      'Reconciliation-UnlockedLiveOrders',
    ];
    for (const fn of [
      'ApiTrading',
      'ApiMarketData',
      'ApiAccount',
      'ApiUsers',
      'WsConnect',
      'WsAuthorizer',
      'DataProcessor',
      'ReadModels',
      'SearchIndexer',
      'Wallet',
      'ChainListener',
      'OutboxRelay',
      'Reconciliation',
    ])
      expected.push(`${fn}-Errors`, `${fn}-Throttles`);
    for (const name of expected) expect(names).toContain(`cirrus-dev-${name}`);
    // Every alarm notifies the topic when it fires and when it clears.
    for (const alarm of resourcesOf(dev.monitoring, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(alarm.Properties.OKActions).toHaveLength(1);
      expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(30);
    }
  });

  it('each stream consumer, the read models and the WebSocket fan-out included, has its iterator age, failure queue and error alarms', () => {
    const names = alarmNames(dev.monitoring);
    const consumersWith = (suffix: string) =>
      names
        .filter((n) => n.endsWith(`-${suffix}`))
        .map((n) => n.slice('cirrus-dev-'.length, -suffix.length - 1))
        .sort();
    expect(consumersWith('IteratorAge')).toEqual([
      'DataProcessor',
      'ReadModels',
      'SearchIndexer',
      'WsFanout',
    ]);
    expect(consumersWith('StreamFailures')).toEqual([
      'DataProcessor',
      'ReadModels',
      'SearchIndexer',
      'WsFanout',
    ]);
    expect(consumersWith('Errors')).toEqual(expect.arrayContaining(['WsFanout']));
    const readModelsFn = {
      'Fn::ImportValue': Match.stringLikeRegexp('^Cirrus-dev-Workers:ExportsOutputRefReadModelsFunction'),
    };
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cirrus-dev-ReadModels-IteratorAge',
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: readModelsFn }],
      Statistic: 'Maximum',
      Threshold: 60_000,
      EvaluationPeriods: 3,
    });
    for (const [alarm, metric] of [
      ['Errors', 'Errors'],
      ['Throttles', 'Throttles'],
    ])
      dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `cirrus-dev-ReadModels-${alarm}`,
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: readModelsFn }],
        Threshold: 1,
      });
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cirrus-dev-ReadModels-StreamFailures',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::ImportValue': Match.stringLikeRegexp(
              '^Cirrus-dev-Workers:ExportsOutputFnGetAttReadModelsStreamFailures',
            ),
          },
        },
      ],
      Threshold: 0,
    });
    expect(alarmNames(prod.monitoring)).toEqual(
      expect.arrayContaining(
        ['IteratorAge', 'StreamFailures', 'Errors', 'Throttles'].map((a) => `cirrus-prod-ReadModels-${a}`),
      ),
    );
  });

  it('outbox, quarantine and reconciliation alarms watch the metrics the functions publish', () => {
    const emfAlarm = (name: string, service: string, metric: string, rest: Record<string, unknown>) =>
      dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `cirrus-dev-${name}`,
        Namespace: 'Cirrus',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: service }],
        ComparisonOperator: 'GreaterThanThreshold',
        ...rest,
      });
    emfAlarm('OutboxOldestUnappliedAge', 'outbox-relay', 'OutboxOldestUnappliedAge', {
      Threshold: 60,
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'missing',
    });
    emfAlarm('OutboxRelaySendFailures', 'outbox-relay', 'OutboxRelaySendFailures', {
      Threshold: 0,
      Statistic: 'Sum',
    });
    emfAlarm('BalanceEventPublishFailures', 'outbox-relay', 'BalanceEventPublishFailures', {
      Threshold: 0,
      Statistic: 'Sum',
    });
    emfAlarm('DataProcessor-QuarantinedRecords', 'data-processor', 'QuarantinedRecords', {
      Threshold: 0,
      Statistic: 'Sum',
    });
    for (const metric of ['ConservationProblems', 'OrphanLocks', 'UnlockedLiveOrders'])
      emfAlarm(`Reconciliation-${metric}`, 'reconciliation', metric, {
        Threshold: 0,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
      });
  });

  it("the alarms' dimensions are exactly the ones Powertools writes (namespace Cirrus, dimension service)", () => {
    const emf = resourcesOf(dev.monitoring, 'AWS::CloudWatch::Alarm').filter(
      (a) => a.Properties.Namespace === 'Cirrus',
    );
    expect(emf.map((a) => a.Properties.AlarmName).sort()).toEqual([
      'cirrus-dev-Api-LoadShedding',
      'cirrus-dev-BalanceEventPublishFailures',
      'cirrus-dev-DataProcessor-QuarantinedRecords',
      'cirrus-dev-OutboxOldestUnappliedAge',
      'cirrus-dev-OutboxRelaySendFailures',
      'cirrus-dev-Reconciliation-ConservationProblems',
      'cirrus-dev-Reconciliation-OrphanLocks',
      'cirrus-dev-Reconciliation-UnlockedLiveOrders',
    ]);
    for (const alarm of emf) {
      const [dimension] = alarm.Properties.Dimensions as Array<{ Name: string; Value: string }>;
      const metrics = new Metrics({ namespace: 'Cirrus', serviceName: dimension.Value });
      metrics.addMetric(alarm.Properties.MetricName, MetricUnit.Count, 1);
      const written = metrics.serializeMetrics();
      expect(written._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: alarm.Properties.Namespace,
          Dimensions: [alarm.Properties.Dimensions.map((d: { Name: string }) => d.Name)],
          Metrics: [expect.objectContaining({ Name: alarm.Properties.MetricName })],
        },
      ]);
      expect(written).toMatchObject({ [dimension.Name]: dimension.Value });
    }
  });

  it('a missing engine heartbeat or task counts as breaching; one dashboard', () => {
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RunningTaskCount',
      Namespace: 'ECS/ContainerInsights',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 60_000,
    });
    dev.monitoring.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
