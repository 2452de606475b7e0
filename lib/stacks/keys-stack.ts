// KMS keys: one symmetric key for data at rest and secrets, one secp256k1 signing key for the hot wallet.
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';

export class KeysStack extends Stack {
  readonly dataKey: kms.Key;
  readonly hotWalletKey: kms.Key;

  constructor(scope: Construct, id: string, config: StageConfig, props?: StackProps) {
    super(scope, id, props);
    const retain = config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/cirrus-${config.stage}-data`,
      description: 'Cirrus data at rest: tables, queues, streams, snapshots, API key secrets',
      enableKeyRotation: true,
      removalPolicy: retain,
    });
    // Only the wallet function (granted in its own stack) may sign with this key; no one may export it.
    this.hotWalletKey = new kms.Key(this, 'HotWalletKey', {
      alias: `alias/cirrus-${config.stage}-hot-wallet`,
      description: 'Cirrus hot wallet: secp256k1 transaction signing',
      keySpec: kms.KeySpec.ECC_SECG_P256K1,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
