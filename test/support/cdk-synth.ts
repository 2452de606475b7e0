// Synthesises the whole Cirrus app for the infrastructure tests: cdk.json's feature flags, no Lambda
// bundling and a registry engine image (no esbuild, no Docker), a throwaway CA for the prod mTLS truststore.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp } from '@lib/app';

const TEST_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim');

export const CDK_CONTEXT: Record<string, unknown> = {
  ...(JSON.parse(readFileSync(join(__dirname, '../../cdk.json'), 'utf8')) as { context: object }).context,
  'aws:cdk:bundling-stacks': [],
};

let caBundle: string | undefined;
/** A self-signed CA standing in for Cloudflare's origin-pull CA (prod refuses the placeholder bundle). */
export function testCaBundle(): string {
  if (caBundle) return caBundle;
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-ca-'));
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=test origin pull CA', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'),
  ], { stdio: 'ignore' });
  return (caBundle = join(dir, 'ca.pem'));
}

export const prodContext = (): Record<string, unknown> => ({
  stage: 'prod',
  account: '123456789012',
  alarmEmail: 'ops@example.com',
  domainName: 'api.cirrus.example',
  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0b7e4c1a-1111-2222-3333-444455556666',
  cloudflareCaBundlePath: testCaBundle(),
});

export type Templates = Record<
  | 'keys'
  | 'network'
  | 'data'
  | 'messaging'
  | 'search'
  | 'chain'
  | 'engine'
  | 'api'
  | 'workers'
  | 'monitoring',
  Template
>;

export function synthTemplates(context: Record<string, unknown> = {}): Templates {
  const app = new App({ context: { ...CDK_CONTEXT, ...context } });
  const built = buildApp(app, { nag: false, engineImage: TEST_IMAGE });
  const names = [
    'keys',
    'network',
    'data',
    'messaging',
    'search',
    'chain',
    'engine',
    'api',
    'workers',
    'monitoring',
  ] as const;
  return Object.fromEntries(names.map((n) => [n, Template.fromStack(built[n])])) as Templates;
}

/** A synthesised resource's properties (CloudFormation JSON). */
export type Properties = ReturnType<Template['findResources']>[string]['Properties'];

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Logical id and properties of the one function with this physical name. */
export function functionNamed(t: Template, name: string): { id: string; props: Properties } {
  const found = Object.entries(
    t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }),
  );
  if (found.length !== 1) throw new Error(`expected one function ${name}, found ${found.length}`);
  return { id: found[0][0], props: found[0][1].Properties };
}

/** Every statement of the inline policies attached to the role with this logical id. */
export function statementsOfRole(t: Template, roleId: string): PolicyStatementJson[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

/** Every statement of the inline policies attached to the function's role (a role of its own stack). */
export function statementsOfFunction(t: Template, fnProps: Properties): PolicyStatementJson[] {
  return statementsOfRole(t, fnProps.Role['Fn::GetAtt'][0] as string);
}

export const actionsOf = (s: PolicyStatementJson): string[] => [s.Action].flat();

/** The statements that name at least one action of this service (`kms`, `dynamodb`, …). */
export const withService = (statements: PolicyStatementJson[], service: string): PolicyStatementJson[] =>
  statements.filter((s) => actionsOf(s).some((a) => a.startsWith(`${service}:`)));
