// The WebSocket edge of the API stack: the WebSocket API (market and user data streams) with its functions,
// the Cloudflare origin secret its $connect authorizer checks (API Gateway has no mTLS for WebSocket APIs), its
// stage and optional custom domain, and the policy that lets the fan-out post to its connections.
//
// Not a construct level of its own: its resources are created in the stack it is given (the API stack), so they
// keep the logical IDs they were deployed with. A construct level would rename every one of them, and the
// custom domain's API mapping, whose construct id embeds the domain's path, cannot be replaced in place.
import { CfnOutput, RemovalPolicy, Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { StageConfig } from '@lib/config';
import { TABLES } from '@contracts/resources';
import { CirrusFunction } from '@lib/constructs/cirrus-function';
import { grantApiKeySecrets } from '@lib/constructs/key-access';
import { grantSecretRead, secretsKeyRef } from '@lib/constructs/secret-access';
import { bindTable } from '@lib/constructs/table-access';
import { databaseEnvironment, type TableKey } from '../data-stack';
import { API_STAGE_NAME, ORIGIN_SECRET_HEADER } from './names';

/** How cdk-nag prints an ARN part: the literal when known at synth, else the pseudo parameter. */
const nagForm = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

export interface WebSocketEdgeProps {
  vpc: ec2.IVpc;
  /** Encrypts the origin secret; the user-data function decrypts API-key secrets with it. */
  dataKey: kms.IKey;
  tables: Record<TableKey, dynamodb.ITable>;
  databaseProxy: rds.IDatabaseProxy;
  /** The API's database login (cirrus_api): the user-data function resolves API keys. */
  databaseSecret: secretsmanager.ISecret;
  databaseClientSecurityGroup: ec2.ISecurityGroup;
}

export class WebSocketEdge {
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Attached by the stream workers that push to subscribers (the WebSocket fan-out). */
  readonly webSocketPushPolicy: iam.ManagedPolicy;
  readonly originSecret: secretsmanager.Secret;
  /** Every WebSocket function by service name (`Ws<Name>`: alarms and dashboard). */
  readonly functions: Record<string, lambda.IFunction> = {};

  /** Creates the WebSocket API and its functions in `stack` (the API stack: see the file's header). */
  constructor(stack: Stack, config: StageConfig, props: WebSocketEdgeProps) {
    const prod = config.stage === 'prod';
    const { tables } = props;

    this.originSecret = new secretsmanager.Secret(stack, 'CloudflareOriginSecret', {
      secretName: `cirrus-${config.stage}/cloudflare-origin-secret`,
      description: `Value Cloudflare sends in ${ORIGIN_SECRET_HEADER} on WebSocket upgrades to the origin`,
      encryptionKey: secretsKeyRef(stack, props.dataKey),
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(this.originSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it means changing the Cloudflare Transform Rule at the same moment; docs/deploy.md describes the two-value rotation, which the authorizer supports (AWSCURRENT and AWSPREVIOUS).',
    });
    const wsFunction = (
      name: string,
      entry: string,
      description: string,
      env: Record<string, string> = {},
    ) => {
      const fn = new CirrusFunction(stack, name, {
        entry,
        serviceName: `ws-${name.toLowerCase()}`,
        stage: config.stage,
        description,
        environment: env,
        memorySize: 256,
      }).function;
      this.functions[`Ws${name}`] = fn;
      return fn;
    };
    const authorizer = wsFunction('Authorizer', 'lambdas/ws/authorizer.ts', 'Admits only Cloudflare', {
      ORIGIN_SECRET_ARN: this.originSecret.secretArn,
      ORIGIN_SECRET_HEADER,
    });
    grantSecretRead(this.originSecret, authorizer);
    // Exactly the calls of lambdas/ws/connection-store.ts: $connect puts the connection; $disconnect and the
    // message routes query its subscriptions (table key, no index) and batch-write puts and deletes.
    // $connect also reads a listen key (Query of the table key) to bind `/ws/<listenKey>` to its user.
    const connect = wsFunction('Connect', 'lambdas/ws/connect.ts', 'WebSocket $connect');
    bindTable(connect, tables.connections, TABLES.connections, {
      operations: ['PutItem', 'Query'],
      indexes: [],
    });
    const subscriptions = { operations: ['Query', 'BatchWriteItem'], indexes: [] } as const;
    const disconnect = wsFunction('Disconnect', 'lambdas/ws/disconnect.ts', 'WebSocket $disconnect');
    bindTable(disconnect, tables.connections, TABLES.connections, subscriptions);
    const messages = wsFunction('Messages', 'lambdas/ws/messages.ts', 'SUBSCRIBE / UNSUBSCRIBE');
    bindTable(messages, tables.connections, TABLES.connections, subscriptions);

    const messagesIntegration = new WebSocketLambdaIntegration('Messages', messages);
    this.webSocketApi = new apigwv2.WebSocketApi(stack, 'WebSocketApi', {
      apiName: `cirrus-${config.stage}-ws`,
      description: 'Cirrus market and user data streams',
      routeSelectionExpression: '$request.body.method',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('Connect', connect),
        authorizer: new WebSocketLambdaAuthorizer('OriginSecretAuthorizer', authorizer, {
          identitySource: [`route.request.header.${ORIGIN_SECRET_HEADER}`],
        }),
      },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('Disconnect', disconnect) },
      defaultRouteOptions: { integration: messagesIntegration, returnResponse: true },
    });
    for (const method of ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS'])
      this.webSocketApi.addRoute(method, { integration: messagesIntegration, returnResponse: true });
    // User data on the WebSocket API (lambdas/ws/user-data.ts): a function of its own, the only WebSocket one
    // that reads API keys (PostgreSQL in the VPC, the secret's decrypt) and records signatures (replay).
    const userData = new CirrusFunction(stack, 'UserData', {
      entry: 'lambdas/ws/user-data.ts',
      serviceName: 'ws-userdata',
      stage: config.stage,
      description: 'userDataStream.subscribe.signature / unsubscribe',
      memorySize: 256,
      environment: {
        DATA_KEY_ID: props.dataKey.keyArn,
        ...databaseEnvironment(props.databaseProxy, props.databaseSecret),
      },
      vpc: props.vpc,
      securityGroups: [props.databaseClientSecurityGroup],
    }).function;
    this.functions.WsUserData = userData;
    grantSecretRead(props.databaseSecret, userData);
    grantApiKeySecrets(userData, props.dataKey, 'decrypt');
    bindTable(userData, tables.connections, TABLES.connections, {
      operations: ['PutItem', 'BatchWriteItem'],
    });
    bindTable(userData, tables.idempotency, TABLES.idempotency, { operations: ['PutItem'] });
    const userDataIntegration = new WebSocketLambdaIntegration('UserData', userData);
    for (const method of ['userDataStream.subscribe.signature', 'userDataStream.unsubscribe'])
      this.webSocketApi.addRoute(method, { integration: userDataIntegration, returnResponse: true });

    const wsAccessLogs = new logs.LogGroup(stack, 'WebSocketAccessLogs', {
      retention: prod ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const wsDomain =
      config.wsDomainName && config.certificateArn
        ? new apigwv2.DomainName(stack, 'WebSocketDomain', {
            domainName: config.wsDomainName,
            certificate: acm.Certificate.fromCertificateArn(stack, 'WsCertificate', config.certificateArn),
          })
        : undefined;
    this.webSocketStage = new apigwv2.WebSocketStage(stack, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: API_STAGE_NAME,
      autoDeploy: true,
      throttle: { rateLimit: config.restRateLimit, burstLimit: config.restBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(wsAccessLogs),
        format: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
      domainMapping: wsDomain ? { domainName: wsDomain } : undefined,
    });
    if (wsDomain) {
      new CfnOutput(stack, 'WebSocketOriginHost', {
        description: `Cloudflare: proxied CNAME ${config.wsDomainName} -> this host (docs/deploy.md)`,
        value: wsDomain.regionalDomainName,
      });
    }
    new CfnOutput(stack, 'OriginSecretName', {
      description: `Secret whose value Cloudflare must send in ${ORIGIN_SECRET_HEADER} on WebSocket upgrades`,
      value: this.originSecret.secretName,
    });
    this.webSocketPushPolicy = new iam.ManagedPolicy(stack, 'WebSocketPushPolicy', {
      description: 'Post to WebSocket connections of this API (the data processor pushes market/user data)',
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:ManageConnections'],
          resources: [
            stack.formatArn({
              service: 'execute-api',
              resource: this.webSocketApi.apiId,
              resourceName: `${API_STAGE_NAME}/POST/@connections/*`,
            }),
          ],
        }),
      ],
    });
    const apiLogicalId = stack.getLogicalId(this.webSocketApi.node.defaultChild as CfnElement);
    Validations.of(this.webSocketPushPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${nagForm(stack.partition, 'AWS::Partition')}:execute-api:${nagForm(stack.region, 'AWS::Region')}:${nagForm(stack.account, 'AWS::AccountId')}:<${apiLogicalId}>/${API_STAGE_NAME}/POST/@connections/*]`,
      reason: 'Connection ids exist only at runtime; the ARN is limited to this API, its stage and POST.',
    });
    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        '$connect has the origin-secret authorizer; $disconnect and message routes ride an already authorized connection and cannot carry an authorizer in API Gateway.',
    });
  }
}
