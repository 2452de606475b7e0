// KMS keys: one symmetric key for data at rest and secrets, one secp256k1 signing key for the hot wallet.
// The wallet function's role lives here too, so the signing key's policy can name it without a cycle.
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { namedFunctionRole } from '../constructs/cirrus-function';

/** Fixed so the workers stack can import the role by name (and not by a token that would form a cycle). */
export const walletRoleName = (stage: string): string => `cirrus-${stage}-wallet-fn`;

export class KeysStack extends Stack {
  readonly dataKey: kms.Key;
  readonly hotWalletKey: kms.Key;
  readonly walletRole: iam.Role;

  constructor(scope: Construct, id: string, config: StageConfig, props?: StackProps) {
    super(scope, id, props);
    const retain = config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/cirrus-${config.stage}-data`,
      description: 'Cirrus data at rest: tables, queues, streams, snapshots, database, API key secrets',
      enableKeyRotation: true,
      removalPolicy: retain,
    });
    // CloudWatch Logs and alarms' SNS deliveries use the data key too.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: ['*'],
      }),
    );

    this.walletRole = namedFunctionRole(
      this,
      'WalletFunctionRole',
      walletRoleName(config.stage),
      'The wallet Lambda: the only principal allowed to sign with the hot-wallet key',
    );

    this.hotWalletKey = new kms.Key(this, 'HotWalletKey', {
      alias: `alias/cirrus-${config.stage}-hot-wallet`,
      description: 'Cirrus hot wallet: secp256k1 transaction signing',
      keySpec: kms.KeySpec.ECC_SECG_P256K1,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // Losing this key loses the funds at its address: never delete it with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.hotWalletKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'WalletFunctionSigns',
        actions: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
        principals: [this.walletRole],
        resources: ['*'],
      }),
    );
    // The account-root statement CDK adds lets IAM policies grant key use; this deny makes sure no
    // identity but the wallet function can sign, whatever IAM says.
    this.hotWalletKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheWalletFunctionSigns',
        effect: iam.Effect.DENY,
        actions: ['kms:Sign'],
        principals: [new iam.AnyPrincipal()],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.walletRole.roleArn } },
      }),
    );
  }
}
