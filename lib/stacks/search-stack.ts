// OpenSearch in the VPC: orders and trades indexed for search (lambdas/shared/search). Fine-grained access
// control with the search-indexer function's role as the master user (IAM, no password); the API's search
// function reads through the built-in `readall` role, to which the indexer maps its role.
import { RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { DOC_KINDS, INDEX_OF } from '@contracts/search-documents';
import { namedFunctionRole } from '../constructs/cirrus-function';
import { grantSecretRead } from '../constructs/secret-access';
import { databaseEnvironment } from './data-stack';

export const searchIndexerRoleName = (stage: string): string => `cirrus-${stage}-search-indexer-fn`;

/** The `_search` paths the API calls: each index alone and all of them (lambdas/shared/search/dsl.ts). */
export function searchPaths(domain: opensearch.IDomain): string[] {
  const indices = DOC_KINDS.map((k) => INDEX_OF[k]);
  return [...indices.map((i) => [i]), indices].map(
    (names) => `${domain.domainArn}/${names.join(',')}/_search`,
  );
}

/**
 * The operators of GET /cirrus/v1/search (scope=ALL): user ids from the context value `searchOperators`
 * (comma-separated, none by default), checked here so a typo fails the synth, not every search.
 */
export function searchOperators(scope: Construct): string {
  const raw = String(scope.node.tryGetContext('searchOperators') ?? '').replace(/\s+/g, '');
  if (!/^(\d{1,16}(,\d{1,16})*)?$/.test(raw))
    throw new Error(`context searchOperators must be comma-separated user ids, not '${raw}'`);
  return raw;
}

/** Read access for GET /cirrus/v1/search: `_search` on the Cirrus indices, nothing else. */
export function grantSearchRead(fn: iam.IGrantable, domain: opensearch.IDomain): void {
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['es:ESHttpGet', 'es:ESHttpPost'], resources: searchPaths(domain) }),
  );
}

/**
 * What the indexer needs beyond the Workers stack's declaration of it: the order rows of each batch (one
 * query, through the RDS proxy like the read models) and the API's search role to map to `readall`.
 */
export function wireSearchIndexer(
  indexer: lambda.IFunction,
  props: {
    databaseProxy: rds.IDatabaseProxy;
    databaseSecret: secretsmanager.ISecret;
    databaseClientSecurityGroup: ec2.ISecurityGroup;
    searchClientSecurityGroup: ec2.ISecurityGroup;
    readerRole: iam.IRole;
  },
): void {
  if (!(indexer instanceof lambda.Function)) throw new Error('the search indexer must be a lambda.Function');
  for (const [k, v] of Object.entries(databaseEnvironment(props.databaseProxy, props.databaseSecret)))
    indexer.addEnvironment(k, v);
  indexer.addEnvironment('SEARCH_READER_ROLE_ARN', props.readerRole.roleArn);
  grantSecretRead(props.databaseSecret, indexer);
  // Both groups: the domain admits the search clients, the proxy the database clients.
  (indexer.node.defaultChild as lambda.CfnFunction).addPropertyOverride('VpcConfig.SecurityGroupIds', [
    props.searchClientSecurityGroup.securityGroupId,
    props.databaseClientSecurityGroup.securityGroupId,
  ]);
}

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
    // The indexer role: index creation (PUT), `_bulk` (POST), its role mapping (PUT); no DELETE. Fine-grained
    // access control maps it to all_access. The API's search role is granted `_search` by its own policy.
    this.domain.addAccessPolicies(
      new iam.PolicyStatement({
        actions: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
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
