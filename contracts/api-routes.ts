// The REST routes of Cirrus and the function behind each, declared once: the Api stack turns them into
// API Gateway methods and the local API Gateway (local/) serves the same list. Plain data only.

export type RestFunction = 'market-data' | 'trading' | 'account' | 'users' | 'user-stream' | 'search';

export interface RestRouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fn: RestFunction;
}

/** Entry module of each function, relative to the repository root (it exports `handler`). */
export const REST_FUNCTION_ENTRIES: Record<RestFunction, string> = {
  'market-data': 'lambdas/api/market-data.ts',
  trading: 'lambdas/api/trading.ts',
  account: 'lambdas/api/account.ts',
  users: 'lambdas/api/users.ts',
  'user-stream': 'lambdas/api/user-stream.ts',
  search: 'lambdas/api/search.ts',
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
    'historicalTrades',
    'aggTrades',
    'uiKlines',
    'avgPrice',
    'ticker',
  ].map((p) => ({ method: 'GET' as const, path: `/api/v3/${p}`, fn: 'market-data' as const })),
  // Public, Binance paths outside /api/v3: system status, and the futures/options/margin market lists that
  // Binance clients load with the spot ones (Cirrus has none of those products: empty lists).
  ...[
    '/sapi/v1/system/status',
    '/sapi/v1/margin/allPairs',
    '/sapi/v1/margin/isolated/allPairs',
    '/fapi/v1/exchangeInfo',
    '/dapi/v1/exchangeInfo',
    '/eapi/v1/exchangeInfo',
  ].map((path) => ({ method: 'GET' as const, path, fn: 'market-data' as const })),
  { method: 'POST', path: '/api/v3/order', fn: 'trading' },
  { method: 'GET', path: '/api/v3/order', fn: 'trading' },
  { method: 'DELETE', path: '/api/v3/order', fn: 'trading' },
  { method: 'POST', path: '/api/v3/order/test', fn: 'trading' },
  { method: 'POST', path: '/api/v3/order/cancelReplace', fn: 'trading' },
  { method: 'PUT', path: '/api/v3/order/amend/keepPriority', fn: 'trading' },
  { method: 'GET', path: '/api/v3/order/amendments', fn: 'trading' },
  { method: 'GET', path: '/api/v3/openOrders', fn: 'trading' },
  { method: 'DELETE', path: '/api/v3/openOrders', fn: 'trading' },
  { method: 'GET', path: '/api/v3/allOrders', fn: 'trading' },
  { method: 'POST', path: '/api/v3/orderList/oco', fn: 'trading' },
  { method: 'POST', path: '/api/v3/orderList/oto', fn: 'trading' },
  { method: 'POST', path: '/api/v3/orderList/otoco', fn: 'trading' },
  { method: 'POST', path: '/api/v3/order/oco', fn: 'trading' },
  { method: 'DELETE', path: '/api/v3/orderList', fn: 'trading' },
  { method: 'GET', path: '/api/v3/orderList', fn: 'trading' },
  { method: 'GET', path: '/api/v3/allOrderList', fn: 'trading' },
  { method: 'GET', path: '/api/v3/openOrderList', fn: 'trading' },
  { method: 'GET', path: '/api/v3/myPreventedMatches', fn: 'trading' },
  { method: 'GET', path: '/api/v3/account', fn: 'account' },
  { method: 'GET', path: '/api/v3/myTrades', fn: 'account' },
  { method: 'GET', path: '/api/v3/account/commission', fn: 'account' },
  { method: 'GET', path: '/api/v3/rateLimit/order', fn: 'account' },
  { method: 'GET', path: '/sapi/v1/asset/tradeFee', fn: 'account' },
  { method: 'GET', path: '/sapi/v1/capital/config/getall', fn: 'account' },
  { method: 'GET', path: '/sapi/v1/capital/deposit/address', fn: 'account' },
  { method: 'GET', path: '/sapi/v1/capital/deposit/hisrec', fn: 'account' },
  { method: 'POST', path: '/sapi/v1/capital/withdraw/apply', fn: 'account' },
  { method: 'GET', path: '/sapi/v1/capital/withdraw/history', fn: 'account' },
  // Withdrawal protections, Cirrus's own (docs/api.md#withdrawal-protections-signed): TOTP 2FA, address allowlist.
  { method: 'GET', path: '/cirrus/v1/totp', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/totp/enroll', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/totp/confirm', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/totp/disable', fn: 'account' },
  { method: 'GET', path: '/cirrus/v1/withdrawAddresses', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/withdrawAddresses', fn: 'account' },
  { method: 'DELETE', path: '/cirrus/v1/withdrawAddresses', fn: 'account' },
  { method: 'POST', path: '/cirrus/v1/users', fn: 'users' },
  { method: 'GET', path: '/cirrus/v1/apiKeys', fn: 'users' },
  { method: 'POST', path: '/cirrus/v1/apiKeys', fn: 'users' },
  { method: 'DELETE', path: '/cirrus/v1/apiKeys', fn: 'users' },
  // Listen keys of the user data streams (API key only, Binance's USER_STREAM).
  { method: 'POST', path: '/api/v3/userDataStream', fn: 'user-stream' },
  { method: 'PUT', path: '/api/v3/userDataStream', fn: 'user-stream' },
  { method: 'DELETE', path: '/api/v3/userDataStream', fn: 'user-stream' },
  // Search over the caller's orders and trades (docs/api.md#search).
  { method: 'GET', path: '/cirrus/v1/search', fn: 'search' },
];
