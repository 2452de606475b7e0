// The prod stage synthesises offline, as CI and `npx cdk synth -c stage=prod …` do: no context lookup (the
// availability zones come from the `azs` setting or its default), cdk-nag AwsSolutions on, nothing
// unacknowledged. The checks must be able to fail: a finding, or zones outside the region, stop the synth.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '@lib/app';
import { defaultAvailabilityZones, loadStageConfig } from '@lib/config';
import { CDK_CONTEXT, prodContext } from '../support/cdk-synth';

/** A whole-app synth with cdk-nag takes tens of seconds on a busy CI machine. */
const SYNTH_TIMEOUT_MS = 300_000;

const TEST_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim');

/**
 * The whole prod app as bin/cirrus.ts builds it (no Lambda bundling, no Docker build), with cdk-nag's
 * AwsSolutionsChecks registered on the app when `nag` is set.
 */
function prodApp(extra: Record<string, unknown> = {}, nag = true) {
  const app = new App({ context: { ...CDK_CONTEXT, ...prodContext(), ...extra } });
  const built = buildApp(app, { engineImage: TEST_IMAGE, nag: false });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, built };
}

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: unknown[];
}

const zonesOf = (t: Template) =>
  [
    ...new Set(Object.values(t.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone)),
  ].sort();

describe('prod synth, offline, with cdk-nag', () => {
  const { app, built } = prodApp({ azs: 'us-east-1a,us-east-1b' });
  let assembly: ReturnType<App['synth']>;

  it(
    'synthesises every stack with no unacknowledged AwsSolutions finding',
    () => {
      // cdk-nag reports through Validations: an unacknowledged error makes synth throw.
      expect(() => (assembly = app.synth())).not.toThrow();
      // And no plugin (CDK's CloudFormation validation included) reports anything left unacknowledged,
      // warnings included: the zones given on purpose are acknowledged where they are set.
      const report = join(assembly.directory, 'validation-report.json');
      const reports = existsSync(report)
        ? (JSON.parse(readFileSync(report, 'utf8')) as { pluginReports: PluginReport[] }).pluginReports
        : [];
      for (const r of reports)
        expect([r.pluginName, r.conclusion, r.violations]).toEqual([r.pluginName, 'success', []]);
      expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(
        [
          'Api',
          'Chain',
          'Data',
          'Engine',
          'Keys',
          'Messaging',
          'Monitoring',
          'Network',
          'Search',
          'Workers',
        ].map((n) => `Cirrus-prod-${n}`),
      );
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'needs no context lookup (no AWS call without credentials) and carries no error annotation',
    () => {
      assembly ??= app.synth();
      expect(assembly.manifest.missing).toBeUndefined();
      for (const stack of app.node.children.filter((c): c is Stack => c instanceof Stack))
        expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it('places the VPC in the zones given in context, account-bound', () => {
    expect(built.network.account).toBe('123456789012');
    expect(built.network.availabilityZones).toEqual(['us-east-1a', 'us-east-1b']);
    expect(zonesOf(Template.fromStack(built.network))).toEqual(['us-east-1a', 'us-east-1b']);
  });
});

describe('availability zones', () => {
  const ctx = (values: Record<string, unknown>) => (k: string) => values[k];

  it('default to the region a, b, c in prod (a, b with an account in dev); dev without account stays agnostic', () => {
    expect(defaultAvailabilityZones('eu-west-1', 'prod')).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    const prod = loadStageConfig(ctx({ ...prodContext(), region: 'eu-west-1' }));
    expect(prod.azs).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(loadStageConfig(ctx({ account: '123456789012' })).azs).toEqual(['us-east-1a', 'us-east-1b']);
    expect(loadStageConfig(ctx({})).azs).toBeUndefined();
    // A list in cdk.json works as well as the comma-separated -c form.
    expect(loadStageConfig(ctx({ azs: ['us-east-1b', 'us-east-1c'] })).azs).toEqual([
      'us-east-1b',
      'us-east-1c',
    ]);
    expect(loadStageConfig(ctx({ azs: ' us-east-1a , us-east-1d ' })).azs).toEqual([
      'us-east-1a',
      'us-east-1d',
    ]);
  });

  it(
    'prod without azs synthesises with the default zones and no lookup',
    () => {
      const { app, built } = prodApp({}, false);
      expect(zonesOf(Template.fromStack(built.network))).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      expect(app.synth().manifest.missing).toBeUndefined();
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'dev without an account keeps the deploy region zones (Fn::GetAZs), as before',
    () => {
      const app = new App({ context: CDK_CONTEXT });
      const { network } = buildApp(app, { nag: false, engineImage: TEST_IMAGE });
      const zones = zonesOf(Template.fromStack(network));
      expect(JSON.stringify(zones)).toContain('Fn::GetAZs');
      expect(app.synth().manifest.missing).toBeUndefined();
    },
    SYNTH_TIMEOUT_MS,
  );

  it('refuses zones outside the region, a single zone, a repeated zone or a malformed name', () => {
    const load = (azs: unknown, region?: string) => () =>
      loadStageConfig(ctx({ ...prodContext(), azs, region }));
    expect(load('eu-west-1a,eu-west-1b')).toThrow(/lie in the region/);
    expect(load('us-east-1a,us-east-1b', 'us-west-2')).toThrow(/lie in the region/);
    expect(load('us-east-1a')).toThrow(/at least two/);
    expect(load('us-east-1a,us-east-1a')).toThrow(/twice/);
    expect(load('us-east-1a,use1-az2')).toThrow(/zone names/);
    expect(() => prodApp({ azs: 'eu-west-1a,eu-west-1b' })).toThrow(/invalid CDK context/);
  });
});

describe('cdk-nag on the prod app can fail', () => {
  it(
    'an unacknowledged finding in a prod stack stops the synth',
    () => {
      const { app, built } = prodApp({ azs: 'us-east-1a,us-east-1b' });
      new sqs.Queue(built.messaging, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
    },
    SYNTH_TIMEOUT_MS,
  );
});
