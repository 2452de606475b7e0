// SIGNED requests as Binance verifies them: the HMAC over the query string and body exactly as sent, every
// signature below computed with real HMAC-SHA256 over the bytes the request carries.
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BinanceError } from '@lambdas/shared/http/binance-error';
import { parseRequest, RAW_QUERY_HEADER, type ApiRequest } from '@lambdas/shared/http/request';
import { authenticate, sign, signedPayload, signedPayloads } from '@lambdas/shared/auth/signed-request';
import type { Permission, ResolvedKey } from '@lambdas/shared/auth/api-keys';

// Binance's documented example (SIGNED endpoint security, REST API).
const API_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const QUERY =
  'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const SIGNATURE = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';
// The same order for the symbol １２３４５６: the payload is the percent-encoded query string.
const NON_ASCII_QUERY =
  'symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const NON_ASCII_SIGNATURE = 'e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3';
const NOW = 1499827319559;

/** Independent of the server code: Node's own HMAC. */
const hmac = (payload: string) => createHmac('sha256', SECRET).update(payload).digest('hex');

/** A proxy event as the edge and API Gateway deliver it: the raw query in its header, decoded parameters too. */
function event(opts: {
  rawQuery?: string;
  /** Leave the raw query header out (API Gateway alone): the decoded parameters are all there is. */
  gatewayOnly?: boolean;
  body?: string;
  contentType?: string;
  apiKey?: string | null;
}): APIGatewayProxyEvent {
  const raw = opts.rawQuery ?? '';
  const multi: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(raw)) (multi[k] ??= []).push(v);
  const headers: Record<string, string> = {};
  if (opts.apiKey !== null) headers['X-MBX-APIKEY'] = opts.apiKey ?? API_KEY;
  if (!opts.gatewayOnly) headers[RAW_QUERY_HEADER] = raw;
  if (opts.body !== undefined)
    headers['Content-Type'] = opts.contentType ?? 'application/x-www-form-urlencoded';
  return {
    resource: '/api/v3/order',
    path: '/api/v3/order',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: {},
    queryStringParameters: raw ? Object.fromEntries(new URLSearchParams(raw)) : null,
    multiValueQueryStringParameters: raw ? multi : null,
    pathParameters: null,
    stageVariables: null,
    body: opts.body ?? null,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

function signedEvent(query: string, opts: { gatewayOnly?: boolean; signWith?: string } = {}) {
  const sig = hmac(opts.signWith ?? query);
  return parseRequest(event({ rawQuery: `${query}&signature=${sig}`, gatewayOnly: opts.gatewayOnly }));
}

function deps(permissions: ReadonlySet<Permission> = new Set<Permission>(['read', 'trade'])) {
  const seen = new Set<string>();
  const resolve = jest.fn(async (k: string): Promise<ResolvedKey | undefined> =>
    k === API_KEY ? { userId: 7, secret: SECRET, permissions: new Set(permissions) } : undefined,
  );
  return {
    keys: { resolve },
    replay: { firstUse: async (sig: string) => (seen.has(sig) ? false : (seen.add(sig), true)) },
    clock: () => NOW,
  };
}

async function codeOf(p: Promise<unknown>): Promise<[number, number, string]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BinanceError) return [err.statusCode, err.code, err.message];
    throw err;
  }
  throw new Error('expected a BinanceError');
}

async function refusal(req: ApiRequest | (() => ApiRequest), d = deps()): Promise<[number, number]> {
  let r: ApiRequest;
  try {
    r = typeof req === 'function' ? req() : req;
  } catch (err) {
    if (err instanceof BinanceError) return [err.statusCode, err.code];
    throw err;
  }
  const [status, code] = await codeOf(authenticate(r, 'trade', d));
  return [status, code];
}

describe('Binance request signing', () => {
  it('matches the documented example signatures (ASCII and percent-encoded non-ASCII)', () => {
    expect(sign(SECRET, QUERY)).toBe(SIGNATURE);
    expect(sign(SECRET, NON_ASCII_QUERY)).toBe(NON_ASCII_SIGNATURE);
  });

  it('signs query string + body, either holding the signature', () => {
    expect(signedPayload({ queryString: `${QUERY}&signature=${SIGNATURE}`, rawBody: '' })).toBe(QUERY);
    const [q, b] = ['symbol=LTCBTC&side=BUY', 'type=LIMIT&quantity=1&timestamp=1'];
    expect(signedPayload({ queryString: q, rawBody: `${b}&signature=ab` })).toBe(q + b);
  });

  it('accepts the example request, once (a replay is refused)', async () => {
    const d = deps();
    const req = parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}` }));
    await expect(authenticate(req, 'trade', d)).resolves.toEqual({
      userId: 7,
      apiKey: API_KEY,
      permissions: new Set(['read', 'trade']),
    });
    expect(await codeOf(authenticate(req, 'trade', d))).toEqual([
      400,
      -1022,
      'Signature for this request was already used.',
    ]);
  });

  it('the same signed parameters sent to another endpoint are not a replay', async () => {
    const d = deps();
    const order = parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}` }));
    const test = { ...order, resource: '/api/v3/order/test' };
    await expect(authenticate(order, 'trade', d)).resolves.toMatchObject({ userId: 7 });
    await expect(authenticate(test, 'trade', d)).resolves.toMatchObject({ userId: 7 });
    expect((await codeOf(authenticate(test, 'trade', d)))[1]).toBe(-1022);
  });

  it("accepts Binance's non-ASCII example: the signature covers the percent-encoded bytes as sent", async () => {
    const req = parseRequest(event({ rawQuery: `${NON_ASCII_QUERY}&signature=${NON_ASCII_SIGNATURE}` }));
    expect(req.params.symbol).toBe('１２３４５６');
    await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
  });

  it('accepts the signature in upper case (HMAC signatures are case-insensitive on Binance)', async () => {
    const req = parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE.toUpperCase()}` }));
    await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
  });

  describe('over the raw query string, never re-encoded', () => {
    const base = `recvWindow=5000&timestamp=${NOW}`;
    it.each([
      ['an unescaped comma', `permissions=read,trade&${base}`, { permissions: 'read,trade' }],
      ['lower-case escapes', `label=a%2cb%2fc&${base}`, { label: 'a,b/c' }],
      ["'+' for a space", `label=my+key&${base}`, { label: 'my key' }],
      ['an escaped plus', `label=1%2B1&${base}`, { label: '1+1' }],
      [
        'unescaped brackets and quotes',
        `symbols=["BTCUSDT","ETHUSDT"]&${base}`,
        { symbols: '["BTCUSDT","ETHUSDT"]' },
      ],
      ['%20 for a space', `label=my%20key&${base}`, { label: 'my key' }],
    ])('%s verifies and decodes', async (_name, query, params) => {
      const req = signedEvent(query);
      expect(req.params).toMatchObject(params);
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
    });

    it.each([
      ['comma sent raw, signed escaped', 'permissions=read,trade', 'permissions=read%2Ctrade'],
      ['lower-case sent, upper-case signed', 'label=a%2cb', 'label=a%2Cb'],
      ["'+' sent, %20 signed", 'label=my+key', 'label=my%20key'],
      ['parameters reordered', 'a=1&b=2', 'b=2&a=1'],
    ])('a signature over other bytes is refused: %s', async (_name, sent, signed) => {
      const req = signedEvent(`${sent}&${base}`, { signWith: `${signed}&${base}` });
      expect(await refusal(req)).toEqual([400, -1022]);
    });

    it('covers the query string followed by the body, as sent', async () => {
      const q = `symbol=LTCBTC&side=BUY`;
      const b = `type=LIMIT&label=a+b%2c&quantity=1&timestamp=${NOW}`;
      const sig = hmac(q + b);
      const req = parseRequest(event({ rawQuery: `${q}&signature=${sig}`, body: b }));
      expect(req.params.label).toBe('a b,');
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
      const inBody = parseRequest(event({ rawQuery: q, body: `${b}&signature=${sig}` }));
      await expect(authenticate(inBody, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
    });

    it('covers a JSON body byte for byte, its large numbers kept exact', async () => {
      const body = `{"quantity": 0.10000000000000000001, "orderId": 12345678901234567890, "timestamp": ${NOW}}`;
      const q = `symbol=LTCBTC`;
      const req = parseRequest(
        event({ rawQuery: `${q}&signature=${hmac(q + body)}`, body, contentType: 'application/json' }),
      );
      expect(req.params).toMatchObject({
        quantity: '0.10000000000000000001',
        orderId: '12345678901234567890',
      });
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
    });
  });

  describe('without the raw query string (API Gateway alone)', () => {
    const base = `recvWindow=5000&timestamp=${NOW}`;
    it.each([
      ['URLSearchParams', `label=my+key%2C1&${base}`],
      ['encodeURIComponent', `label=my%20key%2C1&${base}`],
      ['lower-case escapes', `label=my+key%2c1&${base}`],
      ['an unescaped comma', `permissions=read,trade&${base}`],
    ])('rebuilds the encodings clients use: %s', async (_name, query) => {
      const req = signedEvent(query, { gatewayOnly: true });
      expect(req.queryStringIsRaw).toBe(false);
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
    });

    it('still refuses a signature over other parameters', async () => {
      const req = signedEvent(`label=a,b c&${base}`, {
        gatewayOnly: true,
        signWith: `label=a,b+d&${base}`,
      });
      expect(signedPayloads(req).length).toBeGreaterThan(1);
      expect(await refusal(req)).toEqual([400, -1022]);
    });
  });

  describe('duplicate parameters are refused with -1101', () => {
    const dup = (query: string, opts: { body?: string; contentType?: string; gatewayOnly?: boolean } = {}) =>
      refusal(() => parseRequest(event({ rawQuery: query, ...opts })));
    it('in the query string', async () => {
      expect(await dup(`symbol=A&timestamp=${NOW}&timestamp=${NOW + 1}&signature=${SIGNATURE}`)).toEqual([
        400, -1101,
      ]);
      expect(
        await dup(`symbol=A&timestamp=${NOW}&symbol=B&signature=${SIGNATURE}`, { gatewayOnly: true }),
      ).toEqual([400, -1101]);
    });
    it('twice a signature', async () => {
      expect(await dup(`${QUERY}&signature=${SIGNATURE}&signature=${SIGNATURE}`)).toEqual([400, -1101]);
    });
    it('in a form or JSON body', async () => {
      expect(await dup('', { body: `${QUERY}&quantity=2&signature=${SIGNATURE}` })).toEqual([400, -1101]);
      expect(
        await dup(`signature=${SIGNATURE}`, {
          body: `{"timestamp": ${NOW}, "quantity": "1", "quantity": "2"}`,
          contentType: 'application/json',
        }),
      ).toEqual([400, -1101]);
    });
    it('with the message Binance sends', () => {
      expect(() => parseRequest(event({ rawQuery: 'a=1&a=1' }))).toThrow(
        'Duplicate values for a parameter detected.',
      );
    });
    it('but a parameter in both the query string and the body is not a duplicate: the query wins', () => {
      const req = parseRequest(event({ rawQuery: 'side=SELL', body: 'side=BUY&x=1' }));
      expect(req.params).toEqual({ side: 'SELL', x: '1' });
    });
  });

  describe('timestamp and recvWindow take decimal digits only', () => {
    const at = (params: string, clock = NOW) => {
      const req = signedEvent(params);
      return codeOf(authenticate(req, 'trade', { ...deps(), clock: () => clock }));
    };

    it.each(['6000.346', '60000', '1', '5000.5', '05000'])('recvWindow %s is accepted', async (w) => {
      const req = signedEvent(`symbol=A&recvWindow=${w}&timestamp=${NOW}`);
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
    });

    it.each([
      '5000.1234',
      '1e3',
      '-1',
      '5000.',
      '.5',
      ' 5000',
      '0x10',
      '５０００',
      '5,000',
      'NaN',
      'Infinity',
    ])('recvWindow %j is malformed: -1100', async (w) => {
      const [status, code] = await at(`symbol=A&recvWindow=${encodeURIComponent(w)}&timestamp=${NOW}`);
      expect([status, code]).toEqual([400, -1100]);
    });

    it('recvWindow 0 is refused, above 60000 (even by a microsecond) is -1131', async () => {
      expect((await at(`recvWindow=0&timestamp=${NOW}`)).slice(0, 2)).toEqual([400, -1100]);
      expect((await at(`recvWindow=60000.001&timestamp=${NOW}`)).slice(0, 2)).toEqual([400, -1131]);
      expect((await at(`recvWindow=60001&timestamp=${NOW}`)).slice(0, 2)).toEqual([400, -1131]);
    });

    it.each([`${NOW}.0`, `+${NOW}`, '1.499827319559e12', ` ${NOW}`, `${NOW}x`, '12345678901234567'])(
      'timestamp %j is malformed: -1100',
      async (t) => {
        const [status, code] = await at(`symbol=A&timestamp=${encodeURIComponent(t)}`);
        expect([status, code]).toEqual([400, -1100]);
      },
    );

    it('a fractional recvWindow is honoured to the microsecond (timestamp in microseconds)', async () => {
      const us = NOW * 1000 - 6_000_346;
      const req = signedEvent(`recvWindow=6000.346&timestamp=${us}`);
      await expect(authenticate(req, 'trade', deps())).resolves.toMatchObject({ userId: 7 });
      const late = signedEvent(`recvWindow=6000.346&timestamp=${us - 1}`);
      expect((await codeOf(authenticate(late, 'trade', deps()))).slice(0, 2)).toEqual([400, -1021]);
    });

    it('refuses a timestamp outside the recvWindow, or 1000 ms or more ahead of the server', async () => {
      const outside = 'Timestamp for this request is outside of the recvWindow.';
      const ahead = "Timestamp for this request was 1000ms ahead of the server's time.";
      expect(await at(QUERY, NOW + 5_001)).toEqual([400, -1021, outside]);
      expect(await at(QUERY, NOW - 1_000)).toEqual([400, -1021, ahead]);
      await expect(at(QUERY, NOW + 5_000)).rejects.toThrow('expected a BinanceError');
      await expect(at(QUERY, NOW - 999)).rejects.toThrow('expected a BinanceError');
    });
  });

  it.each<[string, () => ApiRequest, number, number]>([
    [
      'no API key',
      () => parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}`, apiKey: null })),
      401,
      -2014,
    ],
    [
      'unknown API key',
      () => parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}`, apiKey: 'B'.repeat(64) })),
      401,
      -2015,
    ],
    [
      'wrong signature',
      () => parseRequest(event({ rawQuery: `${QUERY}&signature=${'0'.repeat(64)}` })),
      400,
      -1022,
    ],
    ['malformed signature', () => parseRequest(event({ rawQuery: `${QUERY}&signature=xyz` })), 400, -1022],
    ['missing signature', () => parseRequest(event({ rawQuery: QUERY })), 400, -1102],
    ['missing timestamp', () => parseRequest(event({ rawQuery: 'symbol=LTCBTC&signature=ab' })), 400, -1102],
  ])('%s is refused', async (_name, req, status, code) => {
    expect(await refusal(req)).toEqual([status, code]);
  });

  it.each([
    'nope',
    'A'.repeat(63),
    'A'.repeat(65),
    `${'A'.repeat(63)}-`,
    `${'A'.repeat(63)}é`,
    ' '.repeat(64),
  ])('a malformed API key %j gets -2014 "API-key format invalid." without any key lookup', async (apiKey) => {
    const d = deps();
    const req = parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}`, apiKey }));
    expect(await codeOf(authenticate(req, 'trade', d))).toEqual([401, -2014, 'API-key format invalid.']);
    expect(d.keys.resolve).not.toHaveBeenCalled();
  });

  it('refuses a key without the needed permission', async () => {
    const req = parseRequest(event({ rawQuery: `${QUERY}&signature=${SIGNATURE}` }));
    expect(await refusal(req, deps(new Set(['read'])))).toEqual([401, -2015]);
  });
});
