// grantTable: named levels as before, and a list of operations granting exactly those (indexes only with Query,
// all or the named ones). bindTable: the table's variable and its grant in one call; bindTableName: the name only.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { bindTable, bindTableName, grantTable, type TableAccess } from '@lib/constructs/table-access';
import type { TableDef } from '@contracts/resources';

const DEF: TableDef = {
  id: 'T',
  name: 't',
  envVar: 'T_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    { indexName: 'byUser', partitionKey: { name: 'gsi1pk', type: 'S' } },
    { indexName: 'byOrder', partitionKey: { name: 'gsi2pk', type: 'S' } },
  ],
  stateful: false,
};

/** The statements a fresh role gets from one grant on a table with a customer key and one index. */
function grant(access: TableAccess): Array<{ Action: string | string[]; Resource: unknown }> {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key');
  const table = dynamodb.Table.fromTableAttributes(stack, 'Table', {
    tableArn: 'arn:aws:dynamodb:eu-west-1:111111111111:table/t',
    encryptionKey: key,
  });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  grantTable(role, table, DEF, access);
  const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
  return policy.Properties.PolicyDocument.Statement;
}

const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:111111111111:table/t';
const INDEX_ARN = `${TABLE_ARN}/index/byUser`;
const ORDER_INDEX_ARN = `${TABLE_ARN}/index/byOrder`;

describe('grantTable', () => {
  it('a list of operations grants exactly those, on the table alone, and the key for writing', () => {
    const [table, key] = grant({ operations: ['GetItem', 'PutItem', 'UpdateItem'] });
    expect(table).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: TABLE_ARN,
    });
    expect(key.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  it('grants the named indexes only with Query, and a read-only list only decrypts', () => {
    const [table, key] = grant({ operations: ['Query'] });
    expect(table).toMatchObject({
      Action: 'dynamodb:Query',
      Resource: [TABLE_ARN, INDEX_ARN, ORDER_INDEX_ARN],
    });
    expect(key.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('keeps the named levels: all read or write actions, table and indexes', () => {
    const [read] = grant('read');
    expect(read.Resource).toEqual([TABLE_ARN, INDEX_ARN, ORDER_INDEX_ARN]);
    expect([read.Action].flat().sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    const [write] = grant('write');
    expect([write.Action].flat().sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:DescribeTable',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('refuses an empty list of operations', () => {
    expect(() => grant({ operations: [] })).toThrow(/at least one operation/);
  });

  it('Query with named indexes grants only those; an empty list the table alone', () => {
    const [one] = grant({ operations: ['Query'], indexes: ['byOrder'] });
    expect(one.Resource).toEqual([TABLE_ARN, ORDER_INDEX_ARN]);
    const [none] = grant({ operations: ['GetItem', 'Query'], indexes: [] });
    expect(none.Resource).toBe(TABLE_ARN);
  });

  it('refuses an index the table does not declare, and indexes without Query', () => {
    expect(() => grant({ operations: ['Query'], indexes: ['gsi9'] })).toThrow(/has no index gsi9/);
    expect(() => grant({ operations: ['GetItem'], indexes: ['byUser'] })).toThrow(/name Query too/);
  });
});

/** A function, a table with a customer key, and the function's template after `bind` ran. */
function bound(bind: (fn: lambda.Function, table: dynamodb.ITable) => void) {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const table = dynamodb.Table.fromTableAttributes(stack, 'Table', {
    tableArn: TABLE_ARN,
    encryptionKey: new kms.Key(stack, 'Key'),
  });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
    environment: { OTHER: 'x' },
  });
  bind(fn, table);
  const t = Template.fromStack(stack);
  const [fnProps] = Object.values(t.findResources('AWS::Lambda::Function')).map((r) => r.Properties);
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
  );
  return { env: fnProps.Environment.Variables as Record<string, unknown>, statements };
}

describe('bindTable', () => {
  it('sets the table variable and grants exactly the access, in one call', () => {
    const { env, statements } = bound((fn, table) =>
      bindTable(fn, table, DEF, { operations: ['Query'], indexes: ['byUser'] }),
    );
    expect(env).toEqual({ OTHER: 'x', T_TABLE: 't' });
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toEqual([
      expect.objectContaining({ Action: 'dynamodb:Query', Resource: [TABLE_ARN, INDEX_ARN] }),
    ]);
  });

  it('bindTableName sets the variable and grants nothing; it wants a reason', () => {
    const { env, statements } = bound((fn, table) =>
      bindTableName(fn, table, DEF, 'the shared context requires it at start'),
    );
    expect(env).toEqual({ OTHER: 'x', T_TABLE: 't' });
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb:|kms:/);
    expect(() => bound((fn, table) => bindTableName(fn, table, DEF, ' '))).toThrow(/say why T_TABLE/);
  });

  it('a function never bound to a table has neither its variable nor a grant on it', () => {
    const { env, statements } = bound(() => undefined);
    expect(env).toEqual({ OTHER: 'x' });
    expect(JSON.stringify(statements)).not.toContain(TABLE_ARN);
  });

  it('refuses an empty list of operations', () => {
    expect(() => bound((fn, table) => bindTable(fn, table, DEF, { operations: [] }))).toThrow(
      /at least one operation/,
    );
  });
});
