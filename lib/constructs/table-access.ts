// DynamoDB access by table definition: the table and only its named indexes (CDK's table grants add
// `<table>/index/*`), and the customer key only through DynamoDB. One statement per grant, no wildcards.
// Either a named level (read, write, readWrite) or exactly the operations a function calls.
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { TableDef } from '../resources';

/** The DynamoDB operations a grant can name (without the `dynamodb:` prefix). */
export type TableOperation =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'ConditionCheckItem'
  | 'DescribeTable'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

/**
 * A named level, or `{ operations }`: only those. The indexes are granted only with Query (the one
 * operation here that reads an index; writes to the table maintain its indexes without a grant on them).
 */
export type TableAccess = 'read' | 'write' | 'readWrite' | { operations: readonly TableOperation[] };

const READ: readonly TableOperation[] = [
  'GetItem',
  'BatchGetItem',
  'Query',
  'ConditionCheckItem',
  'DescribeTable',
];
const WRITE: readonly TableOperation[] = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];

function operationsOf(access: TableAccess): readonly TableOperation[] {
  if (access === 'read') return READ;
  if (access === 'write') return [...WRITE, 'DescribeTable'];
  if (access === 'readWrite') return [...READ, ...WRITE];
  if (access.operations.length === 0) throw new Error('grantTable: name at least one operation');
  return [...new Set(access.operations)];
}

export function grantTable(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  def: TableDef,
  access: TableAccess,
): void {
  const operations = operationsOf(access);
  const indexes = typeof access === 'string' || operations.includes('Query');
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: operations.map((op) => `dynamodb:${op}`),
      resources: [
        table.tableArn,
        ...(indexes ? (def.globalIndexes ?? []) : []).map(
          (gsi) => `${table.tableArn}/index/${gsi.indexName}`,
        ),
      ],
    }),
  );
  if (!table.encryptionKey) return;
  const readOnly = operations.every((op) => READ.includes(op));
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: readOnly
        ? ['kms:Decrypt', 'kms:DescribeKey']
        : ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [table.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com` },
      },
    }),
  );
}
