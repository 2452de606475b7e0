// DynamoDB access by table definition: the table and only its named indexes (CDK's table grants add
// `<table>/index/*`), and the customer key only through DynamoDB. One statement per grant, no wildcards.
// Either a named level (read, write, readWrite) or exactly the operations a function calls.
// bindTable gives a function a table's name (the variable of contracts/resources.ts) and its grant in one call, so a
// function never holds a table variable without knowing why, nor a grant on a table it cannot name.
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TableDef } from '@contracts/resources';

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
 * operation here that reads an index; writes to the table maintain its indexes without a grant on them):
 * all of the table's named indexes, or only those in `indexes` (`[]`: the table's own key only).
 */
export type TableAccess =
  'read' | 'write' | 'readWrite' | { operations: readonly TableOperation[]; indexes?: readonly string[] };

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
  const declared = (def.globalIndexes ?? []).map((gsi) => gsi.indexName);
  let indexes: readonly string[] = typeof access === 'string' || operations.includes('Query') ? declared : [];
  if (typeof access !== 'string' && access.indexes !== undefined) {
    const unknown = access.indexes.filter((name) => !declared.includes(name));
    if (unknown.length > 0) throw new Error(`grantTable: ${def.name} has no index ${unknown.join(', ')}`);
    if (access.indexes.length > 0 && !operations.includes('Query'))
      throw new Error('grantTable: indexes are read with Query only: name Query too');
    indexes = access.indexes;
  }
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: operations.map((op) => `dynamodb:${op}`),
      resources: [table.tableArn, ...indexes.map((name) => `${table.tableArn}/index/${name}`)],
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

/** A function whose environment can be extended (a lambda.Function, not an imported one). */
export type BindableFunction = iam.IGrantable & Pick<lambda.Function, 'addEnvironment'>;

/**
 * The table's name in the function's environment (`def.envVar`) and the grant `access` on it: the one way a
 * function is given a table it calls.
 */
export function bindTable(
  fn: BindableFunction,
  table: dynamodb.ITable,
  def: TableDef,
  access: TableAccess,
): void {
  grantTable(fn, table, def, access);
  fn.addEnvironment(def.envVar, table.tableName);
}

/**
 * Only the table's name, no access at all: for a handler that requires the variable when it starts but never
 * calls the table (the REST handlers build one shared context, lambdas/api/context.ts). `why` is required so
 * that every name given without a grant says which code needs it.
 */
export function bindTableName(
  fn: BindableFunction,
  table: dynamodb.ITable,
  def: TableDef,
  why: string,
): void {
  if (why.trim() === '') throw new Error(`bindTableName: say why ${def.envVar} is needed without access`);
  fn.addEnvironment(def.envVar, table.tableName);
}
