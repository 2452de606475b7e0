// The middy stack every REST Lambda uses: parse → route function → JSON response; BinanceError becomes its
// {code,msg} and status, anything unexpected a logged 500 that reveals nothing.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { powertoolsMiddlewares } from '../handler';
import { logger } from '../powertools';
import { REQUEST_WEIGHT_PER_MINUTE } from '../rate-limits';
import { BinanceError, mandatoryParam } from './binance-error';
import { loadReporter } from './load-reporter';
import { clientIp, parseRequest, type ApiRequest } from './request';
import { RequestWeightLimiter, requestWeight } from './request-weight';

export { BinanceError, mandatoryParam } from './binance-error';
export type { ApiRequest } from './request';
export { idParam, limitParam, symbolParam } from './params';

export type RouteFn = (req: ApiRequest) => Promise<unknown>;

/** A route's answer with response headers of its own (e.g. X-MBX-ORDER-COUNT-10S). */
export class WithHeaders {
  constructor(
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {}
}

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' };

const weights = new RequestWeightLimiter({ limitPerMinute: REQUEST_WEIGHT_PER_MINUTE });

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The client's answer for `err`; an unexpected error is logged once with its stack and never revealed. */
export function errorResponse(err: unknown, requestId?: string): APIGatewayProxyResult {
  if (err instanceof BinanceError) {
    if (err.statusCode === 429 || err.statusCode === 418) loadReporter.rateLimited();
    return jsonResponse(err.statusCode, err.toJSON(), err.headers);
  }
  logger.error('unhandled error', {
    requestId,
    err: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return jsonResponse(500, { code: -1000, msg: 'An unknown error occurred while processing the request.' });
}

export function createApiHandler(route: RouteFn) {
  const base = async (event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> => {
    const req = parseRequest(event);
    const used = weights.spend(clientIp(req), requestWeight(req));
    const out = await route(req);
    const [body, headers] = out instanceof WithHeaders ? [out.body, out.headers] : [out, {}];
    return jsonResponse(200, body, { ...headers, 'X-MBX-USED-WEIGHT-1M': String(used) });
  };
  // No early-timeout race: it arms a timer and an AbortController per request (and aborts it, building an
  // AbortError) to answer before the function's own timeout, which the API functions never approach — they
  // shed load with 503 long before (load-shedding.ts). Measured: about 3 % of the API's CPU under load.
  return middy(base, { timeoutEarlyInMillis: 0 })
    .use([...powertoolsMiddlewares()])
    .use({
      onError: async (request) => {
        request.response = errorResponse(request.error, request.event.requestContext?.requestId);
      },
    });
}

/** zod parse of request parameters with Binance's error codes for what is missing or malformed. */
export function parseParams<T extends z.ZodType>(schema: T, params: Record<string, string>): z.infer<T> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? 'parameter');
  if (issue.code === 'invalid_type' && params[name] === undefined) {
    throw mandatoryParam(name);
  }
  throw new BinanceError(400, -1100, `Illegal characters found in parameter '${name}'; ${issue.message}.`);
}

/** Routes by "METHOD resource"; unknown routes answer like Binance. */
export function router(routes: Record<string, RouteFn>): RouteFn {
  return async (req) => {
    const fn = routes[`${req.method} ${req.resource}`];
    if (!fn) throw new BinanceError(404, -1020, 'This operation is not supported.');
    return fn(req);
  };
}
