// The deposit path in the synthesised stacks (docs/wallets.md): the chain listener reaches the node and the
// ledger and nothing more (no event stream, no xpub, no signing key, its checkpoint only), runs one at a
// time on its schedule; the deposit xpub secret is encrypted with the data key and readable by no one in
// these stacks' own policies.
import { Match } from 'aws-cdk-lib/assertions';
import { depositXpubSecretName } from '@lib/stacks/chain-stack';
import {
  actionsOf,
  functionNamed,
  statementsOfFunction,
  synthTemplates,
  withService,
} from '../support/cdk-synth';

const dev = synthTemplates();
const listener = () => functionNamed(dev.workers, 'cirrus-dev-chain-listener').props;

describe('the chain listener', () => {
  it('gets the RPC URL, confirmations, tokens and the database (secret by ARN), one run at a time', () => {
    const p = listener();
    const vars = p.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining([
        'CHAIN_RPC_URL',
        'CHAIN_CONFIRMATIONS',
        'CHAIN_TOKENS',
        'DATABASE_URL',
        'DB_SECRET_ARN',
      ]),
    );
    expect(vars.CHAIN_CONFIRMATIONS).toBe('12');
    // No secret in the environment: no xpub, no password.
    expect(Object.keys(vars).filter((k) => /XPUB|PASSWORD|MNEMONIC/.test(k))).toEqual([]);
    expect(p.ReservedConcurrentExecutions).toBe(1);
    expect(p.VpcConfig.SecurityGroupIds).toHaveLength(2);
  });

  it('reads the database secret only, decrypting through Secrets Manager, and signs nothing', () => {
    const all = statementsOfFunction(dev.workers, listener());
    const secrets = withService(all, 'secretsmanager');
    expect(secrets).toHaveLength(1);
    expect(actionsOf(secrets[0]).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(JSON.stringify(secrets[0].Resource)).not.toMatch(/DepositXpub/);
    const kms = withService(all, 'kms');
    for (const s of kms) expect(actionsOf(s)).not.toContain('kms:Sign');
    expect(kms.some((s) => JSON.stringify(s.Condition).includes('secretsmanager.'))).toBe(true);
    expect(withService(all, 'kinesis')).toEqual([]);
  });

  it('runs on a schedule, without retries that would only overlap the next run', () => {
    dev.workers.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Description: 'Scan the chain for deposits',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });
});

describe('the deposit xpub secret', () => {
  it('is named for the stage and encrypted with the data key', () => {
    dev.chain.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: depositXpubSecretName('dev'),
      KmsKeyId: Match.anyValue(),
    });
    // Until an operator stores the xpub, the generated placeholder is refused by lambdas/wallet/xpub-source.ts.
    expect(Object.keys(dev.chain.findResources('AWS::SecretsManager::Secret'))).toHaveLength(1);
  });
});

describe('deposit addresses (GET /sapi/v1/capital/deposit/address)', () => {
  const account = () => functionNamed(dev.api, 'cirrus-dev-api-account').props;
  const xpubRefs = (x: unknown) => JSON.stringify(x).match(/DepositXpub[0-9A-F]{8}/g) ?? [];

  it('the account function gets the xpub secret by ARN (never its value) and the tokens', () => {
    const vars = account().Environment.Variables as Record<string, unknown>;
    expect(xpubRefs(vars.DEPOSIT_XPUB_SECRET_ARN)).toHaveLength(1);
    expect(vars.CHAIN_TOKENS).toBe(JSON.stringify({}));
    expect(Object.keys(vars).filter((k) => /MNEMONIC|XPRV|PASSWORD/.test(k))).toEqual([]);
  });

  it('reads that secret and no other function of the API does', () => {
    const secrets = withService(statementsOfFunction(dev.api, account()), 'secretsmanager');
    expect(secrets.filter((s) => xpubRefs(s.Resource).length > 0).map(actionsOf)).toEqual([
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
    ]);
    const roleId = (account().Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const others = Object.values(dev.api.findResources('AWS::IAM::Policy')).filter(
      (p) => JSON.stringify(p.Properties.Roles) !== JSON.stringify([{ Ref: roleId }]),
    );
    expect(others.length).toBeGreaterThan(5);
    expect(others.filter((p) => xpubRefs(p).length > 0)).toEqual([]);
  });
});
