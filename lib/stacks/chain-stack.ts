// The blockchain node: an Ethereum execution client (geth) with its consensus client (lighthouse, required
// since the merge) on EC2 in a private subnet. JSON-RPC is reachable only from the wallet and chain
// listener security groups; peers are reached outbound through NAT, nothing inbound from the internet.
import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { secretsKeyRef } from '../constructs/secret-access';

/** Name of the secret holding the deposit account's xpub (docs/wallets.md). */
export const depositXpubSecretName = (stage: string) => `cirrus-${stage}/deposit-xpub`;

export const JSON_RPC_PORT = 8545;

/** Client images; pin exact versions here when upgrading the node (docs/deploy.md). */
export const CHAIN_CLIENT_IMAGES = {
  execution: 'ethereum/client-go:stable',
  consensus: 'sigp/lighthouse:latest',
} as const;

const CHECKPOINT_SYNC_URL: Record<StageConfig['chainNetwork'], string> = {
  mainnet: 'https://mainnet.checkpoint.sigp.io',
  sepolia: 'https://checkpoint-sync.sepolia.ethpandaops.io',
  hoodi: 'https://checkpoint-sync.hoodi.ethpandaops.io',
};

export interface ChainStackProps extends StackProps {
  vpc: ec2.IVpc;
  dataKey: kms.IKey;
}

export class ChainStack extends Stack {
  readonly instance: ec2.Instance;
  /** The JSON-RPC URL inside the VPC. */
  readonly rpcUrl: string;
  readonly walletSecurityGroup: ec2.SecurityGroup;
  readonly listenerSecurityGroup: ec2.SecurityGroup;
  readonly nodeSecurityGroup: ec2.SecurityGroup;
  /**
   * The deposit account's extended PUBLIC key (m/44'/60'/0'), which the function handing out deposit addresses
   * reads (docs/wallets.md). An operator puts it there from the offline seed; no private key is ever stored.
   */
  readonly depositXpubSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, config: StageConfig, props: ChainStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    const prod = config.stage === 'prod';
    this.walletSecurityGroup = new ec2.SecurityGroup(this, 'WalletSecurityGroup', {
      vpc: props.vpc,
      description: 'The wallet Lambda: may call the chain node JSON-RPC',
    });
    this.listenerSecurityGroup = new ec2.SecurityGroup(this, 'ListenerSecurityGroup', {
      vpc: props.vpc,
      description: 'The chain listener Lambda: may call the chain node JSON-RPC',
    });
    this.nodeSecurityGroup = new ec2.SecurityGroup(this, 'NodeSecurityGroup', {
      vpc: props.vpc,
      description: 'Ethereum node: JSON-RPC from wallet and listener only; outbound to peers via NAT',
      allowAllOutbound: true,
    });
    for (const [name, sg] of [
      ['wallet', this.walletSecurityGroup],
      ['listener', this.listenerSecurityGroup],
    ] as const) {
      this.nodeSecurityGroup.addIngressRule(sg, ec2.Port.tcp(JSON_RPC_PORT), `JSON-RPC from the ${name}`);
    }

    this.depositXpubSecret = new secretsmanager.Secret(this, 'DepositXpub', {
      secretName: depositXpubSecretName(config.stage),
      description: "Deposit addresses' account xpub (m/44'/60'/0'): public key only, set by an operator",
      encryptionKey: secretsKeyRef(this, props.dataKey),
    });
    Validations.of(this.depositXpubSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'An extended public key is not rotated: a new one would move every deposit address.',
    });

    const role = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Ethereum node: Session Manager access for operators, nothing else',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'Operators reach the node through Session Manager instead of SSH; this is the AWS policy for it.',
    });

    const userData = ec2.UserData.forLinux();
    userData.addCommands(...nodeBootstrap(config.chainNetwork));
    this.instance = new ec2.Instance(this, 'EthereumNode', {
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: 'compute', onePerAz: true },
      instanceType: prod
        ? ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.XLARGE2)
        : ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.XLARGE),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      securityGroup: this.nodeSecurityGroup,
      role,
      requireImdsv2: true,
      detailedMonitoring: true,
      disableApiTermination: prod,
      ebsOptimized: true,
      userData,
      userDataCausesReplacement: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
        {
          // Chain data: a mainnet full node needs ~2 TB and grows; testnets far less.
          deviceName: '/dev/sdf',
          volume: ec2.BlockDeviceVolume.ebs(config.chainNetwork === 'mainnet' ? 2500 : 500, {
            encrypted: true,
            kmsKey: props.dataKey,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            iops: 6000,
            deleteOnTermination: !prod,
          }),
        },
      ],
    });
    this.rpcUrl = `http://${this.instance.instancePrivateDnsName}:${JSON_RPC_PORT}`;
    if (config.azs) {
      Validations.of(this.instance).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: "The node's zone is its subnet's, one of the configured zones (azs, docs/deploy.md).",
      });
    }
    if (!prod) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason: 'dev nodes are disposable; prod enables termination protection (disableApiTermination).',
      });
    }
  }
}

/** Mounts the data volume and runs geth + lighthouse (checkpoint sync) as restarting containers. */
function nodeBootstrap(network: StageConfig['chainNetwork']): string[] {
  const netFlag = network === 'mainnet' ? '--mainnet' : `--${network}`;
  return [
    'set -euo pipefail',
    'dnf install -y docker xfsprogs',
    'systemctl enable --now docker',
    'DEV=$(readlink -f /dev/sdf)',
    'blkid "$DEV" || mkfs.xfs "$DEV"',
    'mkdir -p /data && grep -q " /data " /etc/fstab || echo "$DEV /data xfs defaults,nofail 0 2" >> /etc/fstab',
    'mount -a',
    'mkdir -p /data/geth /data/lighthouse /data/jwt',
    '[ -s /data/jwt/jwt.hex ] || (openssl rand -hex 32 | tr -d "\\n" > /data/jwt/jwt.hex)',
    'docker network create eth || true',
    [
      'docker run -d --restart unless-stopped --name geth --network eth',
      '-v /data/geth:/data -v /data/jwt:/jwt -p 8545:8545',
      CHAIN_CLIENT_IMAGES.execution,
      `${netFlag} --datadir /data --syncmode snap`,
      '--http --http.addr 0.0.0.0 --http.port 8545 --http.vhosts "*" --http.api eth,net,web3,txpool',
      '--authrpc.addr 0.0.0.0 --authrpc.vhosts geth --authrpc.jwtsecret /jwt/jwt.hex',
    ].join(' '),
    [
      'docker run -d --restart unless-stopped --name lighthouse --network eth',
      '-v /data/lighthouse:/data -v /data/jwt:/jwt',
      CHAIN_CLIENT_IMAGES.consensus,
      `lighthouse bn --network ${network} --datadir /data`,
      `--execution-endpoint http://geth:8551 --execution-jwt /jwt/jwt.hex`,
      `--checkpoint-sync-url ${CHECKPOINT_SYNC_URL[network]} --disable-deposit-contract-sync`,
    ].join(' '),
  ];
}
