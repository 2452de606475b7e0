// User data streams in CDK: the listen-key REST function and the WebSocket API's user data function get
// exactly the calls they make (lambdas/api/user-stream.ts, lambdas/ws/user-data.ts), the two WebSocket API
// routes go to the latter, and the market-stream message function still reaches no database nor key.
import { Template } from 'aws-cdk-lib/assertions';
import {
  actionsOf,
  functionNamed,
  statementsOfFunction,
  synthTemplates,
  withService,
  type PolicyStatementJson,
} from '../support/cdk-synth';

jest.setTimeout(180_000);

const dev = synthTemplates();
const statements = (t: Template, name: string) => statementsOfFunction(t, functionNamed(t, name).props);
/** DynamoDB actions by the table's construct id (e.g. ConnectionsTable), and whether any names an index. */
function tables(all: PolicyStatementJson[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of withService(all, 'dynamodb'))
    for (const r of [s.Resource].flat()) {
      const json = JSON.stringify(r);
      const table = /ExportsOutputFnGetAtt([A-Za-z]+Table)[0-9A-F]{8}Arn/.exec(json)?.[1] ?? json;
      const key = json.includes('/index/') ? `${table}/index` : table;
      out[key] = [...new Set([...(out[key] ?? []), ...actionsOf(s)])].sort();
    }
  return out;
}
const kms = (all: PolicyStatementJson[]) => withService(all, 'kms');
/** The data-key actions granted for API-key secrets (encryption context purpose cirrus-api-key). */
const apiKeySecrets = (all: PolicyStatementJson[]) =>
  kms(all)
    .filter((s) => JSON.stringify(s).includes('cirrus-api-key'))
    .flatMap(actionsOf);

describe('user data streams in CDK', () => {
  it('the listen-key function: conditional writes of the connections table, API-key secrets to decrypt', () => {
    const all = statements(dev.api, 'cirrus-dev-api-userstream');
    expect(tables(all)).toEqual({
      ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    });
    expect(apiKeySecrets(all)).toEqual(['kms:Decrypt']);
    expect(functionNamed(dev.api, 'cirrus-dev-api-userstream').props.VpcConfig).toBeDefined();
  });

  it('the WebSocket API user data function: binds connections, records signatures, decrypts API keys', () => {
    const { props } = functionNamed(dev.api, 'cirrus-dev-ws-userdata');
    const all = statementsOfFunction(dev.api, props);
    expect(tables(all)).toEqual({
      ConnectionsTable: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
      IdempotencyTable: ['dynamodb:PutItem'],
    });
    expect(apiKeySecrets(all)).toEqual(['kms:Decrypt']);
    expect(props.VpcConfig).toBeDefined();
    for (const route of ['userDataStream.subscribe.signature', 'userDataStream.unsubscribe'])
      dev.api.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: route });
  });

  it('the market-stream functions still reach no database and no API-key secret', () => {
    for (const name of ['cirrus-dev-ws-messages', 'cirrus-dev-ws-connect']) {
      const all = statements(dev.api, name);
      expect(withService(all, 'secretsmanager')).toEqual([]);
      // The table's key through DynamoDB only, never the API-key secrets' context.
      expect(JSON.stringify(kms(all))).not.toContain('cirrus-api-key');
      expect(functionNamed(dev.api, name).props.VpcConfig).toBeUndefined();
    }
  });
});
