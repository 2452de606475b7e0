// Least privilege on the synthesised stacks: the data key usable only for what each principal does with it
// (API-key secrets by encryption context, stores by kms:ViaService), the engine's metric namespace, the
// chain listener without the event stream, each function bound to exactly the tables it calls, and the
// load-shedding alarm on the metric the trading function publishes.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { HEARTBEAT_NAMESPACE } from '@engine/service/adapters/cloudwatch-heartbeat';
import { TABLES } from '@contracts/resources';
import {
  actionsOf,
  functionNamed,
  prodContext,
  statementsOfFunction,
  statementsOfRole,
  synthTemplates,
  withService,
  type PolicyStatementJson,
  type Properties,
} from '../support/cdk-synth';

const dev = synthTemplates();
const prod = synthTemplates(prodContext());

const API_KEY_CONTEXT = { StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-api-key' } };
const via = (service: string) => ({
  'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']],
});
const DATA_KEY = { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Keys:.*DataKey/) };

const fn = (t: Template, name: string) => functionNamed(t, name);
const statements = (t: Template, name: string) => statementsOfFunction(t, fn(t, name).props);

/**
 * DynamoDB actions by table (construct id, e.g. `OrdersTable`) and index (`OrdersTable/index/gsi1`); any
 * other resource (a wildcard, a table of another stack) is reported whole so an equality on the map fails.
 */
function dynamoGrants(all: PolicyStatementJson[]): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const s of withService(all, 'dynamodb'))
    for (const resource of [s.Resource].flat()) {
      const json = JSON.stringify(resource);
      const table = /Cirrus-\w+-Data:ExportsOutputFnGetAtt([A-Za-z]+Table)[0-9A-F]{8}Arn/.exec(json)?.[1];
      const index = /"\/index\/([^"*]+)"/.exec(json)?.[1];
      const key = table ? (index ? `${table}/index/${index}` : table) : json;
      grants[key] = [...new Set([...(grants[key] ?? []), ...actionsOf(s)])].sort();
    }
  return grants;
}

const tableVariables = (props: Properties) =>
  Object.keys(props.Environment.Variables as Record<string, unknown>)
    .filter((k) => k.endsWith('_TABLE'))
    .sort();

describe('the data key: API-key secrets only with their encryption context', () => {
  const TOTP_CONTEXT = { StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-totp-secret' } };
  const apiKeys = (actions: string[]) => ({
    Effect: 'Allow',
    Action: actions.length === 1 ? actions[0] : [...actions].sort(),
    Resource: DATA_KEY,
    Condition: API_KEY_CONTEXT,
  });
  it.each([
    ['cirrus-dev-api-trading', [apiKeys(['kms:Decrypt'])]],
    // The account function also seals and opens TOTP seeds (withdrawal second factor), under their own purpose.
    [
      'cirrus-dev-api-account',
      [
        apiKeys(['kms:Decrypt']),
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:Encrypt'],
          Resource: DATA_KEY,
          Condition: TOTP_CONTEXT,
        },
      ],
    ],
    // The users function opens TOTP seeds (a withdraw key needs a 2FA code) but never seals one.
    [
      'cirrus-dev-api-users',
      [
        apiKeys(['kms:Decrypt', 'kms:Encrypt']),
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: DATA_KEY, Condition: TOTP_CONTEXT },
      ],
    ],
  ])('%s may use the data key directly only for its purposes', (name, expected) => {
    const direct = withService(statements(dev.api, name), 'kms').filter(
      (s) => !JSON.stringify(s.Condition ?? {}).includes('kms:ViaService'),
    );
    // Actions in a fixed order: CDK may merge or reorder a statement's actions.
    const sorted = (l: PolicyStatementJson[]) =>
      l.map((st) => ({ ...st, Action: Array.isArray(st.Action) ? [...st.Action].sort() : st.Action }));
    expect(sorted(direct)).toEqual(expected);
  });

  it('only the account function (sealing and opening) and the users function (opening) touch TOTP seeds', () => {
    const withTotp = Object.values(dev.api.findResources('AWS::Lambda::Function'))
      .map((f) => String(f.Properties.FunctionName ?? ''))
      .filter((n) => n.startsWith('cirrus-dev-'))
      .filter((n) => JSON.stringify(statements(dev.api, n)).includes('cirrus-totp-secret'));
    expect(withTotp.sort()).toEqual(['cirrus-dev-api-account', 'cirrus-dev-api-users']);
  });

  it('no REST or WebSocket function holds a key grant without a condition, nor a KMS wildcard action', () => {
    const names = Object.values(dev.api.findResources('AWS::Lambda::Function'))
      .map((f) => String(f.Properties.FunctionName ?? ''))
      .filter((n) => n.startsWith('cirrus-dev-'));
    expect(names).toHaveLength(11); // with the user data streams' api-userstream and ws-userdata, and api-search
    for (const name of names) {
      const kms = withService(statements(dev.api, name), 'kms');
      // Before: grantDecrypt / grantEncryptDecrypt / grantSendMessages gave kms:* actions with no condition.
      expect(kms.filter((s) => s.Condition === undefined)).toEqual([]);
      expect(kms.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  it('the market-data function cannot use the data key except through DynamoDB', () => {
    const kms = withService(statements(dev.api, 'cirrus-dev-api-marketdata'), 'kms');
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': via('dynamodb') } });
  });

  it('the trading function encrypts its SQS sends through SQS only, and may only send to the order queues', () => {
    const all = statements(dev.api, 'cirrus-dev-api-trading');
    expect(all).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: DATA_KEY,
      Condition: { StringEquals: { 'kms:ViaService': via('sqs') } },
    });
    const sqs = withService(all, 'sqs');
    expect(sqs).toHaveLength(1);
    expect([sqs[0].Action].flat().sort()).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    expect(JSON.stringify(sqs[0].Resource)).toMatch(/OrderQueueshard0Queue/);
    expect(JSON.stringify(sqs[0].Resource)).not.toMatch(/Dlq/);
  });

  it('in prod the conditions name the literal region', () => {
    const direct = withService(statements(prod.api, 'cirrus-prod-api-trading'), 'kms');
    expect(direct).toContainEqual(
      expect.objectContaining({
        Condition: { StringEquals: { 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } },
      }),
    );
    expect(direct).toContainEqual(expect.objectContaining({ Condition: API_KEY_CONTEXT }));
  });
});

describe('principals that cannot avoid an unconditioned key grant', () => {
  /** Statements of every inline policy, grouped by the roles the policy is attached to. */
  const byRole = (t: Template): Map<string, PolicyStatementJson[]> => {
    const groups = new Map<string, PolicyStatementJson[]>();
    for (const p of Object.values(t.findResources('AWS::IAM::Policy'))) {
      const key = JSON.stringify(p.Properties.Roles);
      groups.set(key, [...(groups.get(key) ?? []), ...p.Properties.PolicyDocument.Statement]);
    }
    return groups;
  };
  const onDataKey = (s: PolicyStatementJson) => /DataKey/.test(JSON.stringify(s.Resource));

  it('are denied every use of the data key under the API-key and TOTP purposes; conditioned ones need no deny', () => {
    let unconditioned = 0;
    for (const t of [dev.api, dev.workers, dev.engine]) {
      for (const [roles, all] of byRole(t)) {
        const kms = withService(all, 'kms').filter(onDataKey);
        const open = kms.filter((s) => s.Effect === 'Allow' && s.Condition === undefined);
        const denies = kms.filter((s) => s.Effect === 'Deny');
        if (open.length === 0) {
          expect([roles, denies]).toEqual([roles, []]);
          continue;
        }
        unconditioned++;
        expect([roles, denies]).toEqual([
          roles,
          [
            expect.objectContaining({
              Action: expect.arrayContaining([
                'kms:Encrypt',
                'kms:Decrypt',
                'kms:ReEncryptFrom',
                'kms:ReEncryptTo',
                'kms:GenerateDataKey',
              ]),
              Condition: {
                StringEquals: { 'kms:EncryptionContext:purpose': ['cirrus-api-key', 'cirrus-totp-secret'] },
              },
            }),
          ],
        ]);
      }
    }
    // The outbox relay and the three stream consumers (CDK's event-source grants).
    expect(unconditioned).toBe(4);
  });

  it('the reconciliation decrypts snapshots only through S3 (before: grantDecrypt, no condition)', () => {
    const kms = withService(statements(dev.workers, 'cirrus-dev-reconciliation'), 'kms');
    expect(kms).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: DATA_KEY,
      Condition: { StringEquals: { 'kms:ViaService': via('s3') } },
    });
    expect(kms.filter((s) => s.Condition === undefined)).toEqual([]);
  });
});

describe('the engine task', () => {
  const taskRoleId = (t: Template) => {
    const [task] = Object.values(t.findResources('AWS::ECS::TaskDefinition'));
    return task.Properties.TaskRoleArn['Fn::GetAtt'][0] as string;
  };

  it('may use the data key only through SQS, Kinesis and S3 (its queue, stream and snapshots)', () => {
    const kms = withService(statementsOfRole(dev.engine, taskRoleId(dev.engine)), 'kms');
    // Before: kms:Decrypt + GenerateDataKey with no condition, and grantConsumeMessages' own kms:Decrypt.
    expect(kms).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: DATA_KEY,
        Condition: { StringEquals: { 'kms:ViaService': [via('sqs'), via('kinesis'), via('s3')] } },
      },
    ]);
  });

  it('consumes its queue without any key action in the queue statement', () => {
    const sqs = withService(statementsOfRole(dev.engine, taskRoleId(dev.engine)), 'sqs');
    expect(sqs).toHaveLength(1);
    expect(actionsOf(sqs[0]).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
  });

  it('may put metrics only in the namespace its heartbeat writes', () => {
    const all = statementsOfRole(prod.engine, taskRoleId(prod.engine));
    expect(withService(all, 'cloudwatch')).toEqual([
      {
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': HEARTBEAT_NAMESPACE } },
      },
    ]);
    expect(HEARTBEAT_NAMESPACE).toBe('Cirrus/Engine');
  });
});

describe('the chain listener', () => {
  const listener = () => fn(dev.workers, 'cirrus-dev-chain-listener');

  it('has no access to the engine event stream, nor its name (it never writes to it)', () => {
    const all = statementsOfFunction(dev.workers, listener().props);
    // Before: eventStream.grantWrite (kinesis:PutRecord(s), ListShards, DescribeStream*) plus the stream key.
    expect(withService(all, 'kinesis')).toEqual([]);
    expect(JSON.stringify(all)).not.toMatch(/EngineEventsStream/);
    expect(Object.keys(listener().props.Environment.Variables)).not.toContain('EVENT_STREAM_NAME');
    expect(JSON.stringify(listener().props.Environment)).not.toMatch(/EngineEventsStream/);
  });

  it('reads and advances its checkpoint only, and the key only through DynamoDB', () => {
    const all = statementsOfFunction(dev.workers, listener().props);
    expect(dynamoGrants(all)).toEqual({ CheckpointsTable: ['dynamodb:GetItem', 'dynamodb:PutItem'] });
    for (const s of withService(all, 'kms'))
      expect(s.Condition).toEqual(
        expect.objectContaining({ StringEquals: { 'kms:ViaService': expect.anything() } }),
      );
    expect(tableVariables(listener().props)).toEqual(['CHECKPOINTS_TABLE']);
  });
});

describe('the data processor', () => {
  it('settles only: no WebSocket push policy and no callback URL (the ws-fanout consumer posts)', () => {
    const dp = fn(dev.workers, 'cirrus-dev-data-processor');
    expect(Object.keys(dp.props.Environment.Variables)).not.toContain('WS_CALLBACK_URL');
    const roleId = dp.props.Role['Fn::GetAtt'][0] as string;
    const managed = dev.workers.findResources('AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns ?? [];
    expect(JSON.stringify(managed)).not.toMatch(/WebSocketPushPolicy/);
    expect(JSON.stringify(statementsOfFunction(dev.workers, dp.props))).not.toMatch(/ManageConnections/);
  });
});

describe('functions bound to the tables they call', () => {
  // What each handler calls (lambdas/api/*.ts through lambdas/shared/stores and auth/replay-store.ts).
  const REST: Record<string, Record<string, string[]>> = {
    'cirrus-dev-api-marketdata': {
      MarketDataTable: ['dynamodb:GetItem', 'dynamodb:Query'],
      TradesTable: ['dynamodb:Query'],
    },
    'cirrus-dev-api-trading': {
      OrdersTable: ['dynamodb:Query'],
      'OrdersTable/index/gsi1': ['dynamodb:Query'],
      MarketDataTable: ['dynamodb:GetItem'],
      IdempotencyTable: ['dynamodb:PutItem'],
    },
    'cirrus-dev-api-account': {
      TradesTable: ['dynamodb:Query'],
      'TradesTable/index/gsi1': ['dynamodb:Query'],
      IdempotencyTable: ['dynamodb:PutItem'],
    },
    'cirrus-dev-api-users': { IdempotencyTable: ['dynamodb:PutItem'] },
  };

  it.each(Object.entries(REST))('%s may call exactly its tables, operations and indexes', (name, grants) => {
    expect(dynamoGrants(statements(dev.api, name))).toEqual(grants);
  });

  it('a REST function has no grant on a table it does not call (the removed grants)', () => {
    const grants = (name: string) => Object.keys(dynamoGrants(statements(dev.api, name)));
    // Before: trading read trades and wrote orders and idempotency; account read orders; market data and
    // users had every read action and index.
    expect(grants('cirrus-dev-api-trading')).not.toContain('TradesTable');
    expect(grants('cirrus-dev-api-account')).not.toContain('OrdersTable');
    expect(grants('cirrus-dev-api-marketdata')).not.toContain('TradesTable/index/gsi1');
    for (const name of Object.keys(REST)) {
      const actions = withService(statements(dev.api, name), 'dynamodb').flatMap(actionsOf);
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem']));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:Scan']));
    }
  });

  it('REST functions name the four tables the shared context requires, and no other table', () => {
    // lambdas/api/context.ts requires ORDERS, TRADES, MARKET_DATA and IDEMPOTENCY names when it is built,
    // whichever handler builds it: without a grant they are names only.
    for (const name of Object.keys(REST))
      expect(tableVariables(fn(dev.api, name).props)).toEqual([
        'IDEMPOTENCY_TABLE',
        'MARKET_DATA_TABLE',
        'ORDERS_TABLE',
        'TRADES_TABLE',
      ]);
  });

  it('only the trading function gets the order queues, only users the registration switch', () => {
    const env = (name: string) => fn(dev.api, name).props.Environment.Variables as Record<string, unknown>;
    for (const name of Object.keys(REST)) {
      const sends = name === 'cirrus-dev-api-trading';
      expect('ORDER_QUEUE_URL' in env(name)).toBe(sends);
      expect('ORDER_QUEUE_URLS' in env(name)).toBe(sends);
      expect('REGISTRATION_OPEN' in env(name)).toBe(name === 'cirrus-dev-api-users');
      expect(env(name)).toMatchObject({ DATA_KEY_ID: DATA_KEY });
    }
    expect(fn(prod.api, 'cirrus-prod-api-users').props.Environment.Variables.REGISTRATION_OPEN).toBe('false');
  });

  it('WebSocket functions name and reach the connections table only, with the calls they make', () => {
    const expected: Record<string, string[]> = {
      // Query: the listen key of `/ws/<listenKey>` (lambdas/ws/user-stream-store.ts).
      connect: ['dynamodb:PutItem', 'dynamodb:Query'],
      disconnect: ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
      messages: ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
    };
    for (const [name, actions] of Object.entries(expected)) {
      const { props } = fn(dev.api, `cirrus-dev-ws-${name}`);
      expect(tableVariables(props)).toEqual(['CONNECTIONS_TABLE']);
      // Before: write / readWrite levels (Get, BatchGet, Update, Delete, DescribeTable…, and the gsi1 index).
      expect(dynamoGrants(statementsOfFunction(dev.api, props))).toEqual({ ConnectionsTable: actions });
    }
    expect(tableVariables(fn(dev.api, 'cirrus-dev-ws-authorizer').props)).toEqual([]);
    expect(withService(statements(dev.api, 'cirrus-dev-ws-authorizer'), 'dynamodb')).toEqual([]);
  });

  it("every function granted a table also has that table's name (one binding, never a grant alone)", () => {
    const envVarOf = Object.fromEntries(Object.values(TABLES).map((d) => [`${d.id}`, d.envVar]));
    for (const t of [dev.api, dev.workers]) {
      for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
        if (!String(f.Properties.FunctionName ?? '').startsWith('cirrus-dev-')) continue;
        // Roles imported by name (wallet, search indexer) are granted no table.
        if (!f.Properties.Role['Fn::GetAtt']) continue;
        const tables = Object.keys(dynamoGrants(statementsOfFunction(t, f.Properties))).map(
          (k) => k.split('/')[0],
        );
        for (const table of tables) {
          expect(envVarOf[table]).toBeDefined();
          expect(Object.keys(f.Properties.Environment.Variables)).toContain(envVarOf[table]);
        }
      }
    }
  });
});

describe('load shedding', () => {
  const trading = () => fn(dev.api, 'cirrus-dev-api-trading').props;

  it('Api-LoadShedding: any shed request of the trading function in a minute, to the alarm topic', () => {
    dev.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cirrus-dev-Api-LoadShedding',
      Namespace: 'Cirrus',
      MetricName: 'ShedRequests',
      Dimensions: [{ Name: 'service', Value: trading().Environment.Variables.POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
      AlarmDescription: Match.stringLikeRegexp('503'),
    });
    prod.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cirrus-prod-Api-LoadShedding',
      Dimensions: [{ Name: 'service', Value: 'api-trading' }],
    });
  });

  it('watches exactly the metric Powertools writes from the trading function (namespace and service from its settings)', () => {
    const env = trading().Environment.Variables as Record<string, string>;
    const [alarm] = Object.values(
      dev.monitoring.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'cirrus-dev-Api-LoadShedding' },
      }),
    );
    const saved = { ...process.env };
    try {
      process.env.POWERTOOLS_SERVICE_NAME = env.POWERTOOLS_SERVICE_NAME;
      process.env.POWERTOOLS_METRICS_NAMESPACE = env.POWERTOOLS_METRICS_NAMESPACE;
      const metrics = new Metrics();
      metrics.addMetric('ShedRequests', MetricUnit.Count, 1);
      const written = metrics.serializeMetrics();
      expect(written._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: alarm.Properties.Namespace,
          Dimensions: [['service']],
          Metrics: [expect.objectContaining({ Name: alarm.Properties.MetricName })],
        },
      ]);
      expect(written).toMatchObject({ service: alarm.Properties.Dimensions[0].Value });
    } finally {
      process.env = saved;
    }
  });

  it('the dashboard graphs shed and rate-limited requests', () => {
    const [dashboard] = Object.values(dev.monitoring.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain('ShedRequests');
    expect(body).toContain('RateLimitedRequests');
  });
});
