// The REST routes served by the local API Gateway, each bound to the same Lambda handler module that
// CDK deploys behind API Gateway.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface RestRoute {
  method: string;
  path: string;
  handler: ProxyHandler;
}

export const REST_ROUTES: Array<{
  method: string;
  path: string;
  fn: 'market-data' | 'trading' | 'account' | 'users';
}> = [
  ...[
    'ping',
    'time',
    'exchangeInfo',
    'depth',
    'trades',
    'klines',
    'ticker/24hr',
    'ticker/price',
    'ticker/bookTicker',
  ].map((p) => ({ method: 'GET', path: `/api/v3/${p}`, fn: 'market-data' as const })),
  { method: 'POST', path: '/api/v3/order', fn: 'trading' },
  { method: 'GET', path: '/api/v3/order', fn: 'trading' },
  { method: 'DELETE', path: '/api/v3/order', fn: 'trading' },
  { method: 'POST', path: '/api/v3/order/test', fn: 'trading' },
  { method: 'GET', path: '/api/v3/openOrders', fn: 'trading' },
  { method: 'DELETE', path: '/api/v3/openOrders', fn: 'trading' },
  { method: 'GET', path: '/api/v3/allOrders', fn: 'trading' },
  { method: 'GET', path: '/api/v3/account', fn: 'account' },
  { method: 'GET', path: '/api/v3/myTrades', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/users', fn: 'users' },
  { method: 'GET', path: '/cirrus/v1/apiKeys', fn: 'users' },
  { method: 'POST', path: '/cirrus/v1/apiKeys', fn: 'users' },
  { method: 'DELETE', path: '/cirrus/v1/apiKeys', fn: 'users' },
];

export async function restRoutes(): Promise<RestRoute[]> {
  const modules: Record<string, { handler: ProxyHandler }> = {
    'market-data': await import('../lambdas/api/market-data'),
    trading: await import('../lambdas/api/trading'),
    account: await import('../lambdas/api/account'),
    users: await import('../lambdas/api/users'),
  };
  return REST_ROUTES.map((r) => ({ method: r.method, path: r.path, handler: modules[r.fn].handler }));
}
