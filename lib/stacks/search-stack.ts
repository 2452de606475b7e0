// OpenSearch in the VPC: orders, trades, ledger entries and deposits indexed for search. Fine-grained
// access control with the search-indexer function's role as the master user (IAM, no password).
import { RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { namedFunctionRole } from '../constructs/cirrus-function';

export const searchIndexerRoleName = (stage: string): string => `cirrus-${stage}-search-indexer-fn`;

export interface SearchStackProps extends StackProps {
  vpc: ec2.IVpc;
  dataKey: kms.IKey;
}

export class SearchStack extends Stack {
  readonly domain: opensearch.Domain;
  /** Functions that call the domain join this group; the domain admits it on 443. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly indexerRole: iam.Role;

  constructor(scope: Construct, id: string, config: StageConfig, props: SearchStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    const prod = config.stage === 'prod';
    this.indexerRole = namedFunctionRole(
      this,
      'SearchIndexerRole',
      searchIndexerRoleName(config.stage),
      'The search-indexer Lambda: master user of the search domain',
    );

    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'SearchClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Functions that call the search domain',
    });
    const domainSecurityGroup = new ec2.SecurityGroup(this, 'SearchDomainSecurityGroup', {
      vpc: props.vpc,
      description: 'OpenSearch domain: HTTPS from search clients only',
      allowAllOutbound: false,
    });
    domainSecurityGroup.addIngressRule(this.clientSecurityGroup, ec2.Port.tcp(443), 'search clients');

    const dataNodes = prod ? 2 : 1;
    const subnets = props.vpc.selectSubnets({ subnetGroupName: 'data' }).subnets.slice(0, dataNodes);
    const logGroup = (name: string) =>
      new logs.LogGroup(this, name, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    this.domain = new opensearch.Domain(this, 'SearchDomain', {
      domainName: `cirrus-${config.stage}-search`,
      version: opensearch.EngineVersion.OPENSEARCH_2_19,
      vpc: props.vpc,
      vpcSubnets: [{ subnets }],
      securityGroups: [domainSecurityGroup],
      capacity: {
        dataNodes,
        dataNodeInstanceType: prod ? 'r7g.large.search' : 't3.medium.search',
        masterNodes: prod ? 3 : undefined,
        masterNodeInstanceType: prod ? 'm7g.large.search' : undefined,
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: prod ? { enabled: true, availabilityZoneCount: 2 } : { enabled: false },
      ebs: { volumeSize: prod ? 200 : 20, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true, kmsKey: props.dataKey },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      fineGrainedAccessControl: { masterUserArn: this.indexerRole.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: logGroup('SlowSearchLogs'),
        slowIndexLogEnabled: true,
        slowIndexLogGroup: logGroup('SlowIndexLogs'),
        appLogEnabled: true,
        appLogGroup: logGroup('AppLogs'),
      },
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Only the indexer role may call the domain at all; fine-grained access control maps it to all_access.
    this.domain.addAccessPolicies(
      new iam.PolicyStatement({
        actions: ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpDelete'],
        principals: [this.indexerRole],
        resources: [`${this.domain.domainArn}/*`],
      }),
    );

    Validations.of(this.domain).acknowledge({
      id: 'AwsSolutions-OS3',
      reason:
        'A VPC domain: only the search-client security group reaches it, and its access policy admits only the indexer role; IP allowlists do not apply inside a VPC.',
    });
    // CDK's custom resources that apply the access policy and the log-group resource policy.
    Validations.of(this.domain).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "CDK's log-group resource-policy custom resource: logs:PutResourcePolicy has no resource scoping.",
    });
    for (const child of this.node.children.filter((c) =>
      c.node.id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    )) {
      const ack = (id: string, reason: string) => Validations.of(child).acknowledge({ id, reason });
      const why =
        "CDK's AwsCustomResource provider (applies the domain access policy); created and managed by CDK.";
      ack(
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        why,
      );
      ack('AwsSolutions-IAM5[Action::kms:Describe*]', why);
      ack('AwsSolutions-IAM5[Action::kms:List*]', why);
      ack('AwsSolutions-L1', why);
    }
    if (!prod) {
      Validations.of(this.domain).acknowledge({
        id: 'AwsSolutions-OS4',
        reason:
          'dev runs one data node without dedicated masters to save cost; prod has 3 dedicated masters.',
      });
      Validations.of(this.domain).acknowledge({
        id: 'AwsSolutions-OS7',
        reason: 'dev runs a single node; prod enables zone awareness across two AZs.',
      });
    }
  }
}
