// The public edge behind Cloudflare: the REST API (Binance-compatible + Cirrus endpoints) and the
// WebSocket API, each route a Lambda. REST is reachable only on its mTLS custom domain (the execute-api
// endpoint is off); the WebSocket $connect authorizer admits only requests carrying Cloudflare's origin
// secret header (API Gateway has no mTLS for WebSocket APIs). The two edges are built by api/rest-edge.ts and
// api/websocket-edge.ts; this stack composes them.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { RestEdge, type RestEdgeProps } from './api/rest-edge';
import { WebSocketEdge, type WebSocketEdgeProps } from './api/websocket-edge';

export { API_STAGE_NAME, ORIGIN_SECRET_HEADER, apiServiceName } from './api/names';

/** What the REST edge and the WebSocket edge need (api/rest-edge.ts, api/websocket-edge.ts). */
export interface ApiStackProps extends StackProps, RestEdgeProps, WebSocketEdgeProps {}

export class ApiStack extends Stack {
  readonly restApi: apigw.RestApi;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Attached by the stream workers that push to subscribers (data processor). */
  readonly webSocketPushPolicy: iam.ManagedPolicy;
  readonly originSecret: secretsmanager.Secret;
  /** Every function of this stack by service name (alarms and dashboard). */
  readonly functions: Record<string, lambda.IFunction> = {};
  /** GET /cirrus/v1/search: its role is mapped to the domain's read-only role by the indexer. */
  readonly searchFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, config: StageConfig, props: ApiStackProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));

    // Both edges create their resources directly in this stack (their logical IDs are the deployed ones).
    const rest = new RestEdge(this, config, props);
    this.restApi = rest.restApi;
    this.searchFunction = rest.searchFunction;
    const ws = new WebSocketEdge(this, config, props);
    this.webSocketApi = ws.webSocketApi;
    this.webSocketStage = ws.webSocketStage;
    this.webSocketPushPolicy = ws.webSocketPushPolicy;
    this.originSecret = ws.originSecret;
    Object.assign(this.functions, rest.functions, ws.functions);
  }
}
