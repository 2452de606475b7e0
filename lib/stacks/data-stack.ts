// Stateful data: the DynamoDB tables (built from the shared definitions in contracts/resources.ts, which the
// local runtime creates too) and the RDS PostgreSQL ledger database behind an RDS Proxy for the Lambdas.
import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DATABASE_ROLES, loginUserOf, type DatabaseRole } from '@contracts/migrations';
import type { StageConfig } from '../config';
import { grantSecretRead, secretsKeyRef } from '../constructs/secret-access';
import { TABLES, physicalName, type KeyDef, type TableDef } from '@contracts/resources';

const attr = (k: KeyDef): dynamodb.Attribute => ({
  name: k.name,
  type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export type TableKey = keyof typeof TABLES;

export const DATABASE_NAME = 'cirrus';
/** The master user: owns the schema; only the migration function logs in as it. */
export const DATABASE_USER = 'cirrus';
const LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

/** The user name each login secret holds (the master secret: DATABASE_USER). */
const loginUsers = new WeakMap<secretsmanager.ISecret, string>();
/** The login secrets of each proxy's database, by role. */
const loginsByProxy = new WeakMap<rds.IDatabaseProxy, Record<DatabaseRole, secretsmanager.ISecret>>();

/**
 * How a function reaches the ledger: the RDS Proxy endpoint (TLS), as the user of `secret`, and the ARN of
 * that secret, whose password it reads when it connects (lambdas/shared/db.ts); the password itself never
 * enters the environment. Pass the login secret of the function's database role (databaseLoginsOf).
 */
export function databaseEnvironment(
  proxy: rds.IDatabaseProxy,
  secret: secretsmanager.ISecret,
): { DATABASE_URL: string; DB_SECRET_ARN: string } {
  const user = loginUsers.get(secret) ?? DATABASE_USER;
  return {
    DATABASE_URL: `postgres://${user}@${proxy.endpoint}:5432/${DATABASE_NAME}?sslmode=require`,
    DB_SECRET_ARN: secret.secretArn,
  };
}

/**
 * The login secret of every database role (docs/architecture.md#database-roles) of the database behind this
 * proxy: a function gets its own role's secret (read grant, DB_SECRET_ARN) and nothing else.
 */
export function databaseLoginsOf(proxy: rds.IDatabaseProxy): Record<DatabaseRole, secretsmanager.ISecret> {
  const logins = loginsByProxy.get(proxy);
  if (!logins) throw new Error(`no database logins are known for proxy ${proxy.node.path}`);
  return logins;
}

export interface DataStackProps extends StackProps {
  dataKey: kms.IKey;
  vpc: ec2.IVpc;
}

export class DataStack extends Stack {
  readonly tables: Record<TableKey, dynamodb.Table>;
  readonly database: rds.DatabaseInstance;
  readonly proxy: rds.DatabaseProxy;
  /** One secret per database role: its login user and a generated password (rotated every 30 days). */
  readonly databaseLogins: Record<DatabaseRole, secretsmanager.ISecret>;
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
    const secretsKey = secretsKeyRef(this, props.dataKey);
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
        encryptionKey: secretsKey,
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

    // Least privilege in the database: one login per function family, a member of that family's role
    // (migration 9). Its secret holds the name and a generated password; the db-migrate function creates or
    // updates the user from it on every deploy (lambdas/db-migrate/logins.ts); each secret is attached to the
    // instance (host, port) so the single-user rotation can log in as the user and change its own password.
    this.databaseLogins = Object.fromEntries(
      DATABASE_ROLES.map((role) => {
        const generated = new rds.DatabaseSecret(this, `LedgerDatabaseSecret-${role}`, {
          username: loginUserOf(role),
          secretName: `cirrus-${config.stage}/database/${role}`,
          encryptionKey: secretsKey,
        });
        const secret = generated.attach(this.database);
        new secretsmanager.SecretRotation(this, `LedgerDatabaseSecretRotation-${role}`, {
          application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
          secret,
          target: this.database,
          vpc: props.vpc,
          vpcSubnets: { subnetGroupName: 'compute' },
          automaticallyAfter: Duration.days(30),
        });
        loginUsers.set(secret, loginUserOf(role));
        return [role, secret];
      }),
    ) as Record<DatabaseRole, secretsmanager.ISecret>;

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
    // The master user (migrations only) and every role's login: the proxy authenticates each against its
    // secret, so it reads them all.
    const proxySecrets = [this.database.secret!, ...Object.values(this.databaseLogins)];
    for (const secret of proxySecrets) grantSecretRead(secret, proxyRole);
    this.proxy = this.database.addProxy('LedgerProxy', {
      role: proxyRole,
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: 'data' },
      securityGroups: [proxySecurityGroup],
      secrets: proxySecrets,
      requireTLS: true,
      iamAuth: false,
      idleClientTimeout: Duration.minutes(30),
      debugLogging: false,
    });
    loginsByProxy.set(this.proxy, this.databaseLogins);
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
