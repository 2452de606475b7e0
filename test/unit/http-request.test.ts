import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { BinanceError, createApiHandler, router } from '@lambdas/shared/http';
import { clientIp, parseRequest, RAW_QUERY_HEADER } from '@lambdas/shared/http/request';

function event(over: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  return {
    resource: '/api/v3/order',
    path: '/api/v3/order',
    httpMethod: 'POST',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    ...over,
  };
}

describe('parseRequest', () => {
  it('merges form body and query, the query winning, and keeps what was signed', () => {
    const req = parseRequest(
      event({
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-MBX-APIKEY': 'k' },
        multiValueQueryStringParameters: { symbol: ['BTCUSDT'], side: ['SELL'] },
        body: 'side=BUY&quantity=1.5&note=a+b%21',
      }),
    );
    expect(req.params).toEqual({ side: 'SELL', quantity: '1.5', note: 'a b!', symbol: 'BTCUSDT' });
    expect(req.queryString).toBe('symbol=BTCUSDT&side=SELL');
    expect(req.rawBody).toBe('side=BUY&quantity=1.5&note=a+b%21');
    expect(req.headers['x-mbx-apikey']).toBe('k');
  });

  it('parses a JSON body and refuses nested or malformed JSON with a 4xx', () => {
    expect(
      parseRequest(
        event({ headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.c","n":2}' }),
      ).params,
    ).toEqual({ email: 'a@b.c', n: '2' });
    for (const body of ['{', '[1]', '{"a":{"b":1}}']) {
      expect(() => parseRequest(event({ headers: { 'content-type': 'application/json' }, body }))).toThrow(
        BinanceError,
      );
    }
    expect(() => parseRequest(event({ body: 'a=%E0%A4%A' }))).toThrow(BinanceError);
  });
});

describe('parseRequest: the query string as sent', () => {
  it('reads the parameters from the raw query string the edge passes on, and keeps it byte for byte', () => {
    const raw = 'permissions=read,trade&label=a+b%2c&symbol=%EF%BC%91';
    const req = parseRequest(
      event({
        headers: { [RAW_QUERY_HEADER]: raw },
        // What API Gateway decoded is not what the handler uses when the raw query string is known.
        multiValueQueryStringParameters: { other: ['x'] },
      }),
    );
    expect(req.queryString).toBe(raw);
    expect(req.queryStringIsRaw).toBe(true);
    expect(req.params).toEqual({ permissions: 'read,trade', label: 'a b,', symbol: '１' });
  });

  it('rebuilds the query string only when API Gateway alone delivered the request', () => {
    const req = parseRequest(event({ multiValueQueryStringParameters: { label: ['a b'], n: ['1'] } }));
    expect(req.queryStringIsRaw).toBe(false);
    expect(req.queryPairs).toEqual([
      ['label', 'a b'],
      ['n', '1'],
    ]);
  });

  it('refuses a repeated parameter (-1101) and a malformed escape (-1100)', () => {
    const code = (over: Partial<APIGatewayProxyEvent>) => {
      try {
        parseRequest(event(over));
      } catch (err) {
        return [(err as BinanceError).statusCode, (err as BinanceError).code];
      }
      return undefined;
    };
    expect(code({ headers: { [RAW_QUERY_HEADER]: 'a=1&b=2&a=1' } })).toEqual([400, -1101]);
    expect(code({ multiValueQueryStringParameters: { a: ['1', '2'] } })).toEqual([400, -1101]);
    expect(code({ body: 'a=1&a=2' })).toEqual([400, -1101]);
    expect(code({ headers: { [RAW_QUERY_HEADER]: 'a=%zz' } })).toEqual([400, -1100]);
  });
});

describe('parseRequest: JSON bodies', () => {
  const json = (body: string) =>
    parseRequest(event({ headers: { 'content-type': 'application/json' }, body })).params;
  const codeOf = (body: string) => {
    try {
      json(body);
    } catch (err) {
      return (err as BinanceError).code;
    }
    return undefined;
  };

  it('keeps numbers exactly as sent: large integers and long decimals are not rounded', () => {
    expect(
      json(
        ' { "orderId" : 12345678901234567890 , "quantity": 0.10000000000000000001, "price": "30000.10",' +
          ' "neg": -0.5, "exp": 1e3, "big": 9007199254740993, "ok": true, "no": false, "s": "a\\"\\u00e9" }\n',
      ),
    ).toEqual({
      orderId: '12345678901234567890',
      quantity: '0.10000000000000000001',
      price: '30000.10',
      neg: '-0.5',
      exp: '1e3',
      big: '9007199254740993',
      ok: 'true',
      no: 'false',
      s: 'a"é',
    });
    expect(json('{}')).toEqual({});
  });

  it.each([
    ['not JSON', '{', -1135],
    ['not an object', '[1]', -1135],
    ['a bare number', '12', -1135],
    ['trailing garbage', '{"a":1} x', -1135],
    ['a trailing comma', '{"a":1,}', -1135],
    ['a leading zero', '{"a":01}', -1135],
    ['NaN', '{"a":NaN}', -1135],
    ['single quotes', "{'a':1}", -1135],
    ['a nested object', '{"a":{"b":1}}', -1100],
    ['an array value', '{"a":[1]}', -1100],
    ['null', '{"a":null}', -1100],
    ['a repeated key', '{"a":1,"a":1}', -1101],
  ])('refuses %s with %i', (_name, body, code) => {
    expect(codeOf(body)).toBe(code);
  });
});

describe('createApiHandler', () => {
  const ctx = {} as Context;
  const handler = createApiHandler(
    router({
      'POST /api/v3/order': async (req) => {
        if (req.params.fail === 'binance') throw new BinanceError(400, -1013, 'Filter failure: LOT_SIZE');
        if (req.params.fail === 'bug') throw new Error('secret internals: db password');
        return { ok: true };
      },
    }),
  );

  it('answers JSON, Binance errors with their status, and never leaks an unexpected error', async () => {
    const ok = await handler(event({ body: 'x=1' }), ctx);
    expect([ok.statusCode, JSON.parse(ok.body)]).toEqual([200, { ok: true }]);
    const bad = await handler(event({ body: 'fail=binance' }), ctx);
    expect([bad.statusCode, JSON.parse(bad.body)]).toEqual([
      400,
      { code: -1013, msg: 'Filter failure: LOT_SIZE' },
    ]);
    const bug = await handler(event({ body: 'fail=bug' }), ctx);
    expect(bug.statusCode).toBe(500);
    expect(JSON.parse(bug.body)).toEqual({
      code: -1000,
      msg: 'An unknown error occurred while processing the request.',
    });
    const unknown = await handler(event({ resource: '/api/v3/nope', path: '/api/v3/nope' }), ctx);
    expect([unknown.statusCode, JSON.parse(unknown.body).code]).toEqual([404, -1020]);
  });
});

describe('clientIp', () => {
  const req = (sourceIp: string, headers: Record<string, string> = {}) => ({ sourceIp, headers });
  const lambdaName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  afterEach(() => {
    if (lambdaName === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = lambdaName;
  });

  it('gives an IPv4-mapped IPv6 address in its IPv4 form, any other address as it is', () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    expect(clientIp(req('::ffff:127.0.0.1'))).toBe('127.0.0.1');
    expect(clientIp(req('::FFFF:10.1.2.3'))).toBe('10.1.2.3');
    expect(clientIp(req('127.0.0.1'))).toBe('127.0.0.1');
    expect(clientIp(req('::1'))).toBe('::1');
    expect(clientIp(req('::ffff:abcd'))).toBe('::ffff:abcd');
  });

  it("trusts CF-Connecting-IP only in Lambda (behind Cloudflare); elsewhere it is the client's to forge", () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    expect(clientIp(req('10.0.0.9', { 'cf-connecting-ip': '1.2.3.4' }))).toBe('10.0.0.9');
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'cirrus-dev-api-users';
    expect(clientIp(req('10.0.0.9', { 'cf-connecting-ip': '1.2.3.4' }))).toBe('1.2.3.4');
    expect(clientIp(req('10.0.0.9', { 'cf-connecting-ip': '::ffff:1.2.3.4' }))).toBe('1.2.3.4');
  });
});
