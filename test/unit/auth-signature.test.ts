import { BinanceError } from '../../lambdas/shared/http/binance-error';
import type { ApiRequest } from '../../lambdas/shared/http/request';
import { authenticate, sign, signedPayload } from '../../lambdas/shared/auth/signed-request';
import type { ResolvedKey } from '../../lambdas/shared/auth/api-keys';

// Binance's documented example (SIGNED endpoint security).
const API_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const QUERY =
  'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const SIGNATURE = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';
const NOW = 1499827319559;

function request(
  queryString: string,
  rawBody = '',
  headers: Record<string, string> = { 'x-mbx-apikey': API_KEY },
): ApiRequest {
  const params = Object.fromEntries(new URLSearchParams(`${queryString}&${rawBody}`));
  return {
    method: 'POST',
    resource: '/api/v3/order',
    params,
    headers,
    queryString,
    rawBody,
    sourceIp: '127.0.0.1',
  };
}

function deps(permissions: ResolvedKey['permissions'] = new Set(['read', 'trade'])) {
  const seen = new Set<string>();
  return {
    keys: {
      resolve: async (k: string) => (k === API_KEY ? { userId: 7, secret: SECRET, permissions } : undefined),
    },
    replay: { firstUse: async (sig: string) => (seen.has(sig) ? false : (seen.add(sig), true)) },
    clock: () => NOW,
  };
}

async function codeOf(p: Promise<unknown>): Promise<[number, number]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BinanceError) return [err.statusCode, err.code];
    throw err;
  }
  throw new Error('expected a BinanceError');
}

describe('Binance request signing', () => {
  it('matches the documented example signature', () => {
    expect(sign(SECRET, QUERY)).toBe(SIGNATURE);
  });

  it('signs query string + body, either holding the signature', () => {
    expect(signedPayload({ queryString: `${QUERY}&signature=${SIGNATURE}`, rawBody: '' })).toBe(QUERY);
    const [q, b] = ['symbol=LTCBTC&side=BUY', 'type=LIMIT&quantity=1&timestamp=1'];
    expect(signedPayload({ queryString: q, rawBody: `${b}&signature=ab` })).toBe(q + b);
  });

  it('accepts the example request, once (a replay is refused)', async () => {
    const d = deps();
    const req = request(`${QUERY}&signature=${SIGNATURE}`);
    await expect(authenticate(req, 'trade', d)).resolves.toEqual({ userId: 7, apiKey: API_KEY });
    expect(await codeOf(authenticate(req, 'trade', d))).toEqual([400, -1022]);
  });

  it.each<[string, ApiRequest, number, number]>([
    ['no API key', request(`${QUERY}&signature=${SIGNATURE}`, '', {}), 401, -2014],
    [
      'unknown API key',
      request(`${QUERY}&signature=${SIGNATURE}`, '', { 'x-mbx-apikey': 'nope' }),
      401,
      -2015,
    ],
    ['wrong signature', request(`${QUERY}&signature=${'0'.repeat(64)}`), 400, -1022],
    ['malformed signature', request(`${QUERY}&signature=xyz`), 400, -1022],
    ['missing signature', request(QUERY), 400, -1102],
    ['missing timestamp', request('symbol=LTCBTC&signature=ab'), 400, -1102],
    [
      'recvWindow too large',
      request(QUERY.replace('recvWindow=5000', 'recvWindow=60001') + '&signature=ab'),
      400,
      -1131,
    ],
  ])('%s → %i %i', async (_name, req, status, code) => {
    expect(await codeOf(authenticate(req, 'trade', deps()))).toEqual([status, code]);
  });

  it('refuses a timestamp outside the recvWindow, in the past or too far ahead', async () => {
    const req = request(`${QUERY}&signature=${SIGNATURE}`);
    expect(await codeOf(authenticate(req, 'trade', { ...deps(), clock: () => NOW + 5_001 }))).toEqual([
      400, -1021,
    ]);
    expect(await codeOf(authenticate(req, 'trade', { ...deps(), clock: () => NOW - 1_001 }))).toEqual([
      400, -1021,
    ]);
  });

  it('refuses a key without the needed permission', async () => {
    const req = request(`${QUERY}&signature=${SIGNATURE}`);
    expect(await codeOf(authenticate(req, 'trade', deps(new Set(['read']))))).toEqual([401, -2015]);
  });
});
