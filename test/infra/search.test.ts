// Search in the synthesised stacks: the API's search function reads only `_search` of the Cirrus indices and
// reaches the domain and the database; the indexer reads its batches' order rows and maps the API's role;
// the domain's own policy admits the indexer for no more than it calls; the route is on the REST API.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  actionsOf,
  functionNamed,
  statementsOfFunction,
  synthTemplates,
  withService,
  type PolicyStatementJson,
} from '../support/cdk-synth';

const dev = synthTemplates();

const DOMAIN_ARN = { 'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Search:.*SearchDomain.*Arn/) };
const searchPath = (indices: string) => ({ 'Fn::Join': ['', [DOMAIN_ARN, `/${indices}/_search`]] });

/** Every statement of the inline policies attached to a role imported by name (Workers). */
function statementsOfRoleNamed(t: Template, roleName: string): PolicyStatementJson[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleName]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

describe('search: the API function', () => {
  const fn = functionNamed(dev.api, 'cirrus-dev-api-search');

  it('may call `_search` on the Cirrus indices, and nothing else of the domain', () => {
    const es = withService(statementsOfFunction(dev.api, fn.props), 'es');
    expect(es).toEqual([
      {
        Effect: 'Allow',
        Action: ['es:ESHttpGet', 'es:ESHttpPost'],
        Resource: expect.arrayContaining([
          searchPath('cirrus-orders'),
          searchPath('cirrus-trades'),
          searchPath('cirrus-deposits'),
          searchPath('cirrus-withdrawals'),
          searchPath('cirrus-ledger'),
          searchPath('cirrus-orders,cirrus-trades,cirrus-deposits,cirrus-withdrawals,cirrus-ledger'),
        ]),
      },
    ]);
    expect(es[0].Resource).toHaveLength(6);
  });

  it('is configured for the domain and the database, with operators from the context (none by default)', () => {
    expect(fn.props.Environment.Variables).toMatchObject({
      OPENSEARCH_URL: {
        'Fn::Join': [
          '',
          ['https://', { 'Fn::ImportValue': expect.stringMatching(/SearchDomain.*Endpoint/) }],
        ],
      },
      SEARCH_OPERATOR_USER_IDS: '',
      DATABASE_URL: expect.anything(),
      DB_SECRET_ARN: expect.anything(),
      DATA_KEY_ID: expect.anything(),
      IDEMPOTENCY_TABLE: expect.anything(),
    });
    const groups = JSON.stringify(fn.props.VpcConfig.SecurityGroupIds);
    expect(groups).toMatch(/SearchClientSecurityGroup/);
    expect(groups).toMatch(/DatabaseClientSecurityGroup/);
  });

  it('serves GET /cirrus/v1/search on the REST API', () => {
    dev.api.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'search' });
    dev.api.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: Match.objectLike({
        Uri: Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [fn.id, 'Arn'] }])]),
        }),
      }),
    });
  });
});

describe('search: operators', () => {
  it('come from the context value searchOperators, checked at synth', () => {
    const withOperators = synthTemplates({ searchOperators: '3, 14' });
    const fn = functionNamed(withOperators.api, 'cirrus-dev-api-search');
    expect(fn.props.Environment.Variables.SEARCH_OPERATOR_USER_IDS).toBe('3,14');
    expect(() => synthTemplates({ searchOperators: 'alice' })).toThrow(/searchOperators/);
  });
});

describe('search: the indexer', () => {
  const fn = functionNamed(dev.workers, 'cirrus-dev-search-indexer');

  it("reads the order rows through the proxy and maps the API function's role", () => {
    expect(fn.props.Environment.Variables).toMatchObject({
      OPENSEARCH_ENDPOINT: expect.anything(),
      DATABASE_URL: expect.anything(),
      DB_SECRET_ARN: expect.anything(),
      SEARCH_READER_ROLE_ARN: {
        'Fn::ImportValue': expect.stringMatching(/^Cirrus-dev-Api:.*SearchFunctionServiceRole.*Arn/),
      },
    });
    const groups = JSON.stringify(fn.props.VpcConfig.SecurityGroupIds);
    expect(groups).toMatch(/SearchClientSecurityGroup/);
    expect(groups).toMatch(/DatabaseClientSecurityGroup/);
    const statements = statementsOfRoleNamed(dev.workers, 'cirrus-dev-search-indexer-fn');
    expect(withService(statements, 'secretsmanager').flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    // Its access to the domain is the domain's policy (below), not an identity grant.
    expect(withService(statements, 'es')).toEqual([]);
    // It reads both streams, and may put on neither.
    const kinesis = withService(statements, 'kinesis');
    expect(JSON.stringify(kinesis)).toMatch(/EngineEventsStream/);
    expect(JSON.stringify(kinesis)).toMatch(/WalletEventsStream/);
    expect(kinesis.flatMap(actionsOf).filter((a) => /Put/.test(a))).toEqual([]);
  });

  it("consumes the wallet-event stream as it does the engine's, failing to the same queue", () => {
    const mappings = Object.values(dev.workers.findResources('AWS::Lambda::EventSourceMapping')).filter((m) =>
      JSON.stringify(m.Properties.FunctionName).includes(fn.id),
    );
    expect(mappings).toHaveLength(2);
    const [engine, wallet] = ['EngineEventsStream', 'WalletEventsStream'].map(
      (name) => mappings.find((m) => JSON.stringify(m.Properties.EventSourceArn).includes(name))!.Properties,
    );
    expect(wallet).toMatchObject({
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      StartingPosition: 'TRIM_HORIZON',
    });
    expect(wallet.DestinationConfig).toEqual(engine.DestinationConfig);
  });

  it('is admitted by the domain for GET, POST and PUT only (no DELETE)', () => {
    // CDK applies the access policy with a custom resource: its call, tokens named by what they reference.
    const [custom] = Object.values(dev.search.findResources('Custom::OpenSearchAccessPolicy'));
    const parts = (custom.Properties.Create as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const call = JSON.parse(
      parts
        .map((p) =>
          typeof p === 'string' ? p : (JSON.stringify(p).match(/Search\w+?(?=[0-9A-F]{8}")/)?.[0] ?? '?'),
        )
        .join(''),
    ) as { parameters: { AccessPolicies: string } };
    expect(JSON.parse(call.parameters.AccessPolicies)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
          Principal: { AWS: 'SearchIndexerRole' },
          Resource: 'SearchDomain/*',
        },
      ],
    });
  });
});
