// grantTable: named levels as before, and a list of operations granting exactly those (indexes only with Query).
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { grantTable, type TableAccess } from '../../lib/constructs/table-access';
import type { TableDef } from '../../lib/resources';

const DEF: TableDef = {
  id: 'T',
  name: 't',
  envVar: 'T_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [{ indexName: 'byUser', partitionKey: { name: 'gsi1pk', type: 'S' } }],
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
    expect(table).toMatchObject({ Action: 'dynamodb:Query', Resource: [TABLE_ARN, INDEX_ARN] });
    expect(key.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('keeps the named levels: all read or write actions, table and indexes', () => {
    const [read] = grant('read');
    expect(read.Resource).toEqual([TABLE_ARN, INDEX_ARN]);
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
});
