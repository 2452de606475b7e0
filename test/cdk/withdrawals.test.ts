// The withdrawal path in the synthesised stacks (docs/wallets.md#withdrawals): the wallet function signs
// with the hot-wallet key, which its key policy lets no other principal sign with; it runs one at a time
// (the nonce sequence) on a schedule whose input is its processWithdrawals action; no function's IAM
// identity policy in any stack grants kms:Sign.
import { Match } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '@lib/config';
import { actionsOf, functionNamed, synthTemplates, type PolicyStatementJson } from '../support/cdk-synth';

const dev = synthTemplates();
const wallet = () => functionNamed(dev.workers, 'cirrus-dev-wallet');

describe('the wallet function', () => {
  it('gets the RPC URL, tokens, confirmations, key id and the database, no secret, one run at a time', () => {
    const p = wallet().props;
    const vars = p.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining([
        'HOT_WALLET_KEY_ID',
        'CHAIN_RPC_URL',
        'CHAIN_TOKENS',
        'CHAIN_CONFIRMATIONS',
        'DATABASE_URL',
        'DB_SECRET_ARN',
      ]),
    );
    expect(Object.keys(vars).filter((k) => /XPUB|PASSWORD|MNEMONIC|PRIVATE/.test(k))).toEqual([]);
    expect(p.ReservedConcurrentExecutions).toBe(1);
    // Stuck transactions: replaced after the context's delay (180 s by default), no fee ceiling unless set.
    expect(vars.WITHDRAW_REPLACE_AFTER_SECONDS).toBe('180');
    expect('WITHDRAW_MAX_FEE_PER_GAS_GWEI' in vars).toBe(false);
  });

  it('takes the replacement delay and the fee ceiling from the context, and refuses a malformed ceiling', () => {
    const ctx = (values: Record<string, unknown>) => (k: string) => values[k];
    expect(
      loadStageConfig(ctx({ withdrawReplaceAfterSeconds: '300', withdrawMaxFeePerGasGwei: '150.5' })),
    ).toMatchObject({ withdrawReplaceAfterSeconds: 300, withdrawMaxFeePerGasGwei: '150.5' });
    expect(loadStageConfig(ctx({ withdrawMaxFeePerGasGwei: 200 })).withdrawMaxFeePerGasGwei).toBe('200');
    expect(() => loadStageConfig(ctx({ withdrawMaxFeePerGasGwei: '1e9' }))).toThrow(/gwei/);
    expect(() => loadStageConfig(ctx({ withdrawReplaceAfterSeconds: '0' }))).toThrow();
  });

  it('runs processWithdrawals every minute, without retries that would overlap the next run', () => {
    const rules = dev.workers.findResources('AWS::Events::Rule', {
      Properties: { Description: 'Sign, send and finalise withdrawals' },
    });
    const [rule] = Object.values(rules);
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [wallet().id, 'Arn'] },
        Input: JSON.stringify({ action: 'processWithdrawals' }),
        RetryPolicy: { MaximumRetryAttempts: 0 },
      }),
    ]);
  });

  it('is the only principal the hot-wallet key lets sign; no IAM policy in any stack grants kms:Sign', () => {
    const [roleId] = Object.keys(
      dev.keys.findResources('AWS::IAM::Role', { Properties: { RoleName: 'cirrus-dev-wallet-fn' } }),
    );
    const walletRole = { 'Fn::GetAtt': [roleId, 'Arn'] };
    dev.keys.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_SECG_P256K1',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'WalletFunctionSigns',
            Effect: 'Allow',
            Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Sign'],
            Principal: { AWS: walletRole },
          }),
          Match.objectLike({
            Sid: 'OnlyTheWalletFunctionSigns',
            Effect: 'Deny',
            Action: 'kms:Sign',
            Principal: { AWS: '*' },
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': walletRole } },
          }),
        ]),
      },
    });
    // The function runs as that role (imported by name in the workers stack).
    expect(JSON.stringify(wallet().props.Role)).toContain(':role/cirrus-dev-wallet-fn');
    // No identity policy anywhere grants signing (kms:Sign, or a wildcard that would cover it).
    let statements = 0;
    for (const t of Object.values(dev))
      for (const policy of Object.values(t.findResources('AWS::IAM::Policy')))
        for (const st of policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]) {
          statements++;
          for (const a of actionsOf(st)) expect(a).not.toMatch(/^(kms:(Sign|\*)|\*)$/);
        }
    expect(statements).toBeGreaterThan(20);
  });
});
