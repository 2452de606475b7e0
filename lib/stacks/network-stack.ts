// The VPC: two or more AZs, private subnets for compute and data (no inbound route from the internet),
// flow logs, and endpoints for the AWS services the private tasks call. The zones come from the stage config
// (`azs`), so an account-bound stage synthesises offline: CDK would otherwise look them up in the account.
import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** The configured zones; undefined for an environment-agnostic stage (the deploy region's first two). */
  private readonly configuredZones?: string[];

  constructor(scope: Construct, id: string, config: StageConfig, props?: StackProps) {
    super(scope, id, props);
    this.configuredZones = config.azs;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ...(config.azs ? { availabilityZones: config.azs } : { maxAzs: config.stage === 'prod' ? 3 : 2 }),
      natGateways: config.stage === 'prod' ? 2 : 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'compute', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // The engine and the Lambdas reach these services without leaving the VPC.
    this.vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    this.vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    for (const [name, service] of [
      ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
      ['Kinesis', ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS],
      ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
      ['CloudWatch', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['Ecr', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
    ] as const) {
      this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      });
    }
    if (config.azs) {
      Validations.of(this).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason:
          'The zones are a setting (azs, docs/deploy.md), given so synth needs no AWS lookup: the subnets are in the zones the platform team chose.',
      });
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        "The interface endpoints' security groups allow HTTPS from the VPC CIDR only; cdk-nag cannot resolve the CIDR token. No rule opens 0.0.0.0/0.",
    });
  }

  /**
   * The Vpc checks its zones against the stack's, which for an account-bound stack is a context lookup
   * (an AWS call at synth): answer with the configured zones instead.
   */
  override get availabilityZones(): string[] {
    return this.configuredZones ?? super.availabilityZones;
  }
}
