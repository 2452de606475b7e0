import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { BinanceError, createApiHandler, router } from '../../lambdas/shared/http';
import { parseRequest } from '../../lambdas/shared/http/request';

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
