// Stateful data: the DynamoDB tables (built from the shared definitions in lib/resources.ts, which the
// local runtime creates too) and the RDS PostgreSQL ledger database behind an RDS Proxy for the Lambdas.
import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { grantSecretRead, secretsKeyRef } from '../constructs/secret-access';
import { TABLES, physicalName, type KeyDef, type TableDef } from '../resources';

const attr = (k: KeyDef): dynamodb.Attribute => ({
  name: k.name,
  type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export type TableKey = keyof typeof TABLES;

export const DATABASE_NAME = 'cirrus';
export const DATABASE_USER = 'cirrus';
const LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

/**
 * How a function reaches the ledger: the RDS Proxy endpoint (TLS) and the ARN of the secret it reads the
 * password from when it connects (lambdas/shared/db.ts); the password itself never enters the environment.
 */
export function databaseEnvironment(
  proxy: rds.IDatabaseProxy,
  secret: secretsmanager.ISecret,
): { DATABASE_URL: string; DB_SECRET_ARN: string } {
  return {
    DATABASE_URL: `postgres://${DATABASE_USER}@${proxy.endpoint}:5432/${DATABASE_NAME}?sslmode=require`,
    DB_SECRET_ARN: secret.secretArn,
  };
}

export interface DataStackProps extends StackProps {
  dataKey: kms.IKey;
  vpc: ec2.IVpc;
}

export class DataStack extends Stack {
  readonly tables: Record<TableKey, dynamodb.Table>;
  readonly database: rds.DatabaseInstance;
  readonly proxy: rds.DatabaseProxy;
  /** Lambdas that use the database join this group; the proxy admits it on 5432. */
  readonly databaseClientSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, config: StageConfig, props: DataStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    const prod = config.stage === 'prod';
    const entries = Object.entries(TABLES) as Array<[TableKey, TableDef]>;
    this.tables = Object.fromEntries(
      entries.map(([key, def]) => {
        const table = new dynamodb.Table(this, def.id, {
          tableName: physicalName(config.stage, def.name),
          partitionKey: attr(def.partitionKey),
          sortKey: def.sortKey && attr(def.sortKey),
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: props.dataKey,
          timeToLiveAttribute: def.ttlAttribute,
          deletionProtection: prod && def.stateful,
          removalPolicy: prod && def.stateful ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
    ) as Record<TableKey, dynamodb.Table>;

    // The ledger: the only source of truth for money. Isolated subnets, encrypted, IAM auth available.
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: props.vpc,
      description: 'RDS PostgreSQL: reachable from the RDS Proxy and the rotation function only',
      allowAllOutbound: false,
    });
    // The exported log groups are declared here (with retention) rather than through CDK's log-retention
    // custom resource, which would add a Lambda with a wildcard policy.
    const instanceIdentifier = `cirrus-${config.stage}-ledger`;
    const logGroups = LOG_EXPORTS.map(
      (name) =>
        new logs.LogGroup(this, `LedgerLogs-${name}`, {
          logGroupName: `/aws/rds/instance/${instanceIdentifier}/${name}`,
          retention: prod ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.ONE_WEEK,
          removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
    );
    this.database = new rds.DatabaseInstance(this, 'LedgerDatabase', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_13 }),
      instanceType: prod
        ? ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE)
        : ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: 'data' },
      securityGroups: [databaseSecurityGroup],
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER, {
        secretName: `cirrus-${config.stage}/database`,
        encryptionKey: secretsKeyRef(this, props.dataKey),
      }),
      storageEncrypted: true,
      storageEncryptionKey: props.dataKey,
      allocatedStorage: prod ? 200 : 20,
      maxAllocatedStorage: prod ? 2000 : 100,
      storageType: rds.StorageType.GP3,
      multiAz: prod,
      backupRetention: Duration.days(prod ? 30 : 7),
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      iamAuthentication: true,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: props.dataKey,
      monitoringInterval: Duration.seconds(60),
      instanceIdentifier,
      cloudwatchLogsExports: [...LOG_EXPORTS],
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      parameters: { 'rds.force_ssl': '1' },
    });
    for (const group of logGroups) this.database.node.addDependency(group);
    Validations.of(this.database).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason:
        'The AWS-maintained policy RDS Enhanced Monitoring requires; it only writes the RDSOSMetrics log group.',
    });
    this.database.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: { subnetGroupName: 'compute' },
    });

    // Lambdas connect through the proxy: it pools connections across concurrent invocations.
    this.databaseClientSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Lambdas that use the ledger database (through RDS Proxy)',
    });
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: props.vpc,
      description: 'RDS Proxy: admits database clients on 5432',
      allowAllOutbound: false,
    });
    const proxyRole = new iam.Role(this, 'LedgerProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: 'RDS Proxy: reads the database secret',
    });
    grantSecretRead(this.database.secret!, proxyRole);
    this.proxy = this.database.addProxy('LedgerProxy', {
      role: proxyRole,
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: 'data' },
      securityGroups: [proxySecurityGroup],
      secrets: [this.database.secret!],
      requireTLS: true,
      iamAuth: false,
      idleClientTimeout: Duration.minutes(30),
      debugLogging: false,
    });
    proxySecurityGroup.addIngressRule(
      this.databaseClientSecurityGroup,
      ec2.Port.tcp(5432),
      'database clients to the proxy',
    );
    proxySecurityGroup.addEgressRule(databaseSecurityGroup, ec2.Port.tcp(5432), 'proxy to the database');
    databaseSecurityGroup.addIngressRule(proxySecurityGroup, ec2.Port.tcp(5432), 'proxy to the database');

    Validations.of(this.database).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The database sits in isolated subnets behind security groups that admit only the proxy; a non-default port adds nothing and RDS Proxy for PostgreSQL listens on 5432 anyway.',
    });
    if (!prod) {
      Validations.of(this.database).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: 'dev runs a single-AZ instance to save cost; prod is Multi-AZ (config stage=prod).',
      });
      Validations.of(this.database).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'dev stacks are torn down freely; prod sets deletion protection.',
      });
    }
  }
}
