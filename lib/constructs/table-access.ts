// DynamoDB access by table definition: the table and only its named indexes (CDK's table grants add
// `<table>/index/*`), and the customer key only through DynamoDB. One statement per grant, no wildcards.
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { TableDef } from '../resources';

export type TableAccess = 'read' | 'write' | 'readWrite';

const READ = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export function grantTable(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  def: TableDef,
  access: TableAccess,
): void {
  const actions =
    access === 'read'
      ? READ
      : access === 'write'
        ? [...WRITE, 'dynamodb:DescribeTable']
        : [...READ, ...WRITE];
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [
        table.tableArn,
        ...(def.globalIndexes ?? []).map((gsi) => `${table.tableArn}/index/${gsi.indexName}`),
      ],
    }),
  );
  if (!table.encryptionKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions:
        access === 'read'
          ? ['kms:Decrypt', 'kms:DescribeKey']
          : ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [table.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com` },
      },
    }),
  );
}
