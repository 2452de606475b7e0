// The REST routes served by the local API Gateway (contracts/api-routes.ts, the list the Api stack deploys),
// each bound to the same Lambda handler module that CDK deploys behind API Gateway.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { REST_ROUTES, type RestFunction } from '@contracts/api-routes';
import { runAs } from './logs';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface RestRoute {
  method: string;
  path: string;
  handler: ProxyHandler;
}

export async function restRoutes(): Promise<RestRoute[]> {
  const modules: Record<RestFunction, { handler: ProxyHandler }> = {
    'market-data': await import('@lambdas/api/market-data'),
    trading: await import('@lambdas/api/trading'),
    account: await import('@lambdas/api/account'),
    users: await import('@lambdas/api/users'),
    'user-stream': await import('@lambdas/api/user-stream'),
    search: await import('@lambdas/api/search'),
  };
  // Each invocation's log lines carry its function and request id (local/logs.ts).
  return REST_ROUTES.map((r) => ({
    method: r.method,
    path: r.path,
    handler: (event, context) =>
      runAs({ component: `api-${r.fn}`, requestId: event.requestContext?.requestId }, () =>
        modules[r.fn].handler(event, context),
      ),
  }));
}
