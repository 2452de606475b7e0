// The REST routes of Cirrus and the function behind each, declared once: the Api stack turns them into
// API Gateway methods and the local API Gateway (local/) serves the same list. Plain data only.

export type RestFunction = 'market-data' | 'trading' | 'account' | 'users';

export interface RestRouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  fn: RestFunction;
}

/** Entry module of each function, relative to the repository root (it exports `handler`). */
export const REST_FUNCTION_ENTRIES: Record<RestFunction, string> = {
  'market-data': 'lambdas/api/market-data.ts',
  trading: 'lambdas/api/trading.ts',
  account: 'lambdas/api/account.ts',
  users: 'lambdas/api/users.ts',
};

export const REST_ROUTES: RestRouteDef[] = [
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
  ].map((p) => ({ method: 'GET' as const, path: `/api/v3/${p}`, fn: 'market-data' as const })),
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
