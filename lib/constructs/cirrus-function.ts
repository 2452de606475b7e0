// The defaults every Cirrus Lambda shares: Node 22 on arm64, esbuild bundle from the repository, Powertools
// settings, X-Ray tracing, a log group with retention, and the table/queue env vars from contracts/resources.ts.
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entry points are given relative to it. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

export interface CirrusFunctionProps {
  /** Entry file relative to the repository root, e.g. `lambdas/ws/connect.ts`. It must export `handler`. */
  entry: string;
  /** POWERTOOLS_SERVICE_NAME and the function name suffix. */
  serviceName: string;
  stage: string;
  description: string;
  environment?: Record<string, string>;
  memorySize?: number;
  timeout?: Duration;
  /** Runs in the VPC's compute subnets (needed for RDS Proxy, OpenSearch, the chain node). */
  vpc?: ec2.IVpc;
  securityGroups?: ec2.ISecurityGroup[];
  /** A role created elsewhere (e.g. the wallet role the hot-wallet key policy names). */
  role?: iam.IRole;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  reservedConcurrentExecutions?: number;
}

export class CirrusFunction extends Construct {
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: CirrusFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.stage === 'prod' ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: `cirrus-${props.stage}-${props.serviceName}`,
      description: props.description,
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role: props.role,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetGroupName: 'compute' } : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: {
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        // pg's optional native binding is never installed; everything else, the SDK included, is bundled
        // so the deployed code runs the versions the tests ran.
        externalModules: ['pg-native'],
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        CIRRUS_STAGE: props.stage,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? (props.stage === 'prod' ? 'INFO' : 'DEBUG'),
        POWERTOOLS_METRICS_NAMESPACE: 'Cirrus',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
      },
    });
    acknowledgeFunctionDefaults(this);
  }
}

const VPC_EXECUTION_POLICY_ACK = {
  id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
  reason:
    'The AWS-maintained policy a VPC function needs for its network interfaces and logs; no data access.',
};

/**
 * A role for a VPC function, created with a fixed name where a resource policy must name it (the hot-wallet
 * key, the search domain) and imported by that name in the stack that holds the function.
 */
export function namedFunctionRole(
  scope: Construct,
  id: string,
  roleName: string,
  description: string,
): iam.Role {
  const role = new iam.Role(scope, id, {
    roleName,
    description,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
    ],
  });
  Validations.of(role).acknowledge(VPC_EXECUTION_POLICY_ACK);
  return role;
}

/** What every Cirrus function's role legitimately carries; also applied to roles created elsewhere. */
export function acknowledgeFunctionDefaults(scope: Construct): void {
  const ack = (id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
  ack(
    'AwsSolutions-L1',
    'Node.js 22 is the runtime Cirrus pins and tests against (README, package.json engines).',
  );
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The AWS-maintained policy that lets a function write its own logs; it grants no data access.',
  );
  Validations.of(scope).acknowledge(VPC_EXECUTION_POLICY_ACK);
  ack(
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource scoping.',
  );
  ack(
    'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    "CDK's grants on SQS queues and Kinesis streams encrypted with the data key; the statement names that one key.",
  );
  ack(
    'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    "CDK's grants on SQS queues and Kinesis streams encrypted with the data key; the statement names that one key.",
  );
}
