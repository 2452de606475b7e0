// Least privilege down to the database user (docs/architecture.md#database-roles): one secret per database
// role, all in RDS Proxy's auth list; each worker function reads its own role's secret only and connects as
// that role's login; only the migration function reads the master secret (and every login's, to create the
// users). Also the rest of the item: the chain listener has no stream access, and every
// cloudwatch:PutMetricData statement is limited by a cloudwatch:namespace condition (PutMetricData has no
// resource ARNs, and IAM has no source-account key for an identity policy's own calls: the namespace is
// the condition IAM supports).
import type { Template } from 'aws-cdk-lib/assertions';
import { DATABASE_ROLES, loginUserOf, type DatabaseRole } from '@contracts/migrations';
import {
  actionsOf,
  functionNamed,
  statementsOfFunction,
  synthTemplates,
  withService,
  type PolicyStatementJson,
  type Properties,
} from '../support/cdk-synth';

const dev = synthTemplates();

/** The logical id fragment of a role's login secret (its attachment to the instance) in the Data stack. */
const loginSecretId = (role: DatabaseRole) => `LedgerDatabaseSecret${role.replace(/_/g, '')}Attachment`;
const MASTER_SECRET = /^Cirrus-dev-Data:ExportsOutputRefLedgerDatabaseSecretAttachment[0-9A-F]{8}/;
const importOf = (role: DatabaseRole) =>
  new RegExp(`^Cirrus-dev-Data:ExportsOutputRef${loginSecretId(role)}[0-9A-F]{8}`);

const WORKERS: Array<[string, DatabaseRole]> = [
  ['cirrus-dev-data-processor', 'cirrus_processor'],
  ['cirrus-dev-read-models', 'cirrus_read_models'],
  ['cirrus-dev-search-indexer', 'cirrus_search_indexer'],
  ['cirrus-dev-wallet', 'cirrus_wallet'],
  ['cirrus-dev-chain-listener', 'cirrus_chain_listener'],
  ['cirrus-dev-outbox-relay', 'cirrus_relay'],
  ['cirrus-dev-reconciliation', 'cirrus_reconciliation'],
];

const resources = (t: Template, type: string) => Object.entries(t.findResources(type));

/** Statements of the function's role: its own inline policies, or those naming an imported role. */
function statements(t: Template, props: Properties): PolicyStatementJson[] {
  if (props.Role['Fn::GetAtt']) return statementsOfFunction(t, props);
  const roleName = JSON.stringify(props.Role).match(/role\/([\w-]+)/)?.[1];
  return resources(t, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleName}"`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

const secretResources = (all: PolicyStatementJson[]) =>
  withService(all, 'secretsmanager').flatMap((s) => [s.Resource].flat());

describe('database logins: one secret per role', () => {
  it('generates a secret per role holding its login user, rotated every 30 days', () => {
    for (const role of DATABASE_ROLES) {
      const [id, secret] = resources(dev.data, 'AWS::SecretsManager::Secret').find(([, s]) =>
        String(s.Properties.Name).endsWith(`/database/${role}`),
      )!;
      expect(secret.Properties.Name).toBe(`cirrus-dev/database/${role}`);
      expect(JSON.parse(secret.Properties.GenerateSecretString.SecretStringTemplate as string)).toEqual({
        username: loginUserOf(role),
      });
      expect(secret.Properties.KmsKeyId).toBeDefined();
      const attachment = resources(dev.data, 'AWS::SecretsManager::SecretTargetAttachment').find(
        ([, a]) => a.Properties.SecretId.Ref === id,
      )!;
      const schedules = resources(dev.data, 'AWS::SecretsManager::RotationSchedule').filter(
        ([, r]) => r.Properties.SecretId.Ref === attachment[0],
      );
      expect(schedules).toHaveLength(1);
      expect(schedules[0][1].Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    }
  });

  it('RDS Proxy authenticates the master user and every login, each against its own secret', () => {
    const [[, proxy]] = resources(dev.data, 'AWS::RDS::DBProxy');
    const auth = proxy.Properties.Auth as Array<{ AuthScheme: string; SecretArn: { Ref: string } }>;
    const refs = auth.map((a) => a.SecretArn.Ref).sort();
    expect(refs).toHaveLength(DATABASE_ROLES.length + 1);
    expect(refs.filter((r) => /^LedgerDatabaseSecretAttachment[0-9A-F]{8}$/.test(r))).toHaveLength(1);
    for (const role of DATABASE_ROLES)
      expect(refs.filter((r) => r.startsWith(loginSecretId(role)))).toHaveLength(1);
    expect(new Set(auth.map((a) => a.AuthScheme))).toEqual(new Set(['SECRETS']));
    // …and its role may read each of them.
    const proxyRoleId = proxy.Properties.RoleArn['Fn::GetAtt'][0] as string;
    const readable = resources(dev.data, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: proxyRoleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[])
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => [s.Resource].flat().map((r) => (r as { Ref: string }).Ref));
    expect([...new Set(readable)].sort()).toEqual(refs);
  });
});

describe('each worker reads only its own login secret and connects as that login', () => {
  it.each(WORKERS)('%s: %s', (name, role) => {
    const { props } = functionNamed(dev.workers, name);
    const env = props.Environment.Variables as Record<string, unknown>;
    expect(env.DB_SECRET_ARN).toEqual({ 'Fn::ImportValue': expect.stringMatching(importOf(role)) });
    expect(JSON.stringify(env.DATABASE_URL)).toContain(`postgres://${loginUserOf(role)}@`);
    expect(JSON.stringify(env)).not.toMatch(/password|SecretString/i);
    const secrets = secretResources(statements(dev.workers, props));
    expect(secrets).toEqual([{ 'Fn::ImportValue': expect.stringMatching(importOf(role)) }]);
    expect(actionsOf(withService(statements(dev.workers, props), 'secretsmanager')[0]).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('and is deployed only after the migrations have created the logins', () => {
    const [[schemaId]] = resources(dev.workers, 'AWS::CloudFormation::CustomResource');
    const all = dev.workers.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    for (const [name] of WORKERS) {
      const { id } = functionNamed(dev.workers, name);
      expect(all[id].DependsOn).toContain(schemaId);
    }
  });
});

describe('the migration function', () => {
  const migrator = () => functionNamed(dev.workers, 'cirrus-dev-db-migrate');

  it('logs in as the master user and reads every login secret to create and update the logins', () => {
    const env = migrator().props.Environment.Variables as Record<string, unknown>;
    expect(env.DB_SECRET_ARN).toEqual({ 'Fn::ImportValue': expect.stringMatching(MASTER_SECRET) });
    expect(JSON.stringify(env.DATABASE_URL)).toContain('postgres://cirrus@');
    const logins = JSON.stringify(env.DB_LOGIN_SECRETS);
    for (const role of DATABASE_ROLES) {
      expect(logins).toContain(`\\"${role}\\"`);
      expect(logins).toMatch(new RegExp(importOf(role).source.replace('^', '')));
    }
    const secrets = secretResources(statements(dev.workers, migrator().props));
    expect(secrets).toHaveLength(DATABASE_ROLES.length + 1);
    expect(secrets).toContainEqual({ 'Fn::ImportValue': expect.stringMatching(MASTER_SECRET) });
  });

  // The migration function is the master's user.
  const EXEMPT = ['cirrus-dev-db-migrate'];

  it('is the only worker that reads the master secret', () => {
    for (const [, r] of resources(dev.workers, 'AWS::Lambda::Function')) {
      if (EXEMPT.includes(r.Properties.FunctionName as string)) continue;
      expect(JSON.stringify(statements(dev.workers, r.Properties))).not.toMatch(
        /LedgerDatabaseSecretAttachment[0-9A-F]{8}/,
      );
    }
  });
});

describe('the rest of least privilege item 4', () => {
  it('the chain listener has no action on the engine event stream', () => {
    const { props } = functionNamed(dev.workers, 'cirrus-dev-chain-listener');
    expect(withService(statements(dev.workers, props), 'kinesis')).toEqual([]);
  });

  it('every cloudwatch:PutMetricData statement of every stack is limited to a namespace', () => {
    let found = 0;
    for (const t of Object.values(dev))
      for (const [, p] of resources(t, 'AWS::IAM::Policy'))
        for (const s of p.Properties.PolicyDocument.Statement as PolicyStatementJson[]) {
          if (!actionsOf(s).some((a) => a === 'cloudwatch:PutMetricData' || a === 'cloudwatch:*')) continue;
          found++;
          expect(s.Condition?.StringEquals?.['cloudwatch:namespace']).toEqual(expect.any(String));
        }
    expect(found).toBeGreaterThan(0);
  });
});
