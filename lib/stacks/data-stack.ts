// DynamoDB tables, built from the shared definitions in lib/resources.ts (the local runtime creates the same).
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { TABLES, physicalName, type KeyDef, type TableDef } from '../resources';

const attr = (k: KeyDef): dynamodb.Attribute => ({
  name: k.name,
  type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export class DataStack extends Stack {
  readonly tables: Record<keyof typeof TABLES, dynamodb.Table>;

  constructor(scope: Construct, id: string, config: StageConfig, dataKey: kms.IKey, props?: StackProps) {
    super(scope, id, props);
    const entries = Object.entries(TABLES) as Array<[keyof typeof TABLES, TableDef]>;
    this.tables = Object.fromEntries(
      entries.map(([key, def]) => {
        const table = new dynamodb.Table(this, def.id, {
          tableName: physicalName(config.stage, def.name),
          partitionKey: attr(def.partitionKey),
          sortKey: def.sortKey && attr(def.sortKey),
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: dataKey,
          timeToLiveAttribute: def.ttlAttribute,
          deletionProtection: config.stage === 'prod' && def.stateful,
          removalPolicy:
            config.stage === 'prod' && def.stateful ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        });
        for (const gsi of def.globalIndexes ?? []) {
          table.addGlobalSecondaryIndex({
            indexName: gsi.indexName,
            partitionKey: attr(gsi.partitionKey),
            sortKey: gsi.sortKey && attr(gsi.sortKey),
          });
        }
        return [key, table];
      }),
    ) as Record<keyof typeof TABLES, dynamodb.Table>;
  }
}
