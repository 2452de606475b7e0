// The middy stack every REST Lambda uses: parse → route function → JSON response; BinanceError becomes its
// {code,msg} and status, anything unexpected a logged 500 that reveals nothing.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../powertools';
import { BinanceError } from './binance-error';
import { parseRequest, type ApiRequest } from './request';

export { BinanceError, mandatoryParam } from './binance-error';
export type { ApiRequest } from './request';

export type RouteFn = (req: ApiRequest) => Promise<unknown>;

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' };

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

export function errorResponse(err: unknown): APIGatewayProxyResult {
  if (err instanceof BinanceError) return jsonResponse(err.statusCode, err.toJSON());
  logger.error('unhandled error', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return jsonResponse(500, { code: -1000, msg: 'An unknown error occurred while processing the request.' });
}

export function createApiHandler(route: RouteFn) {
  const base = async (event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> => {
    const req = parseRequest(event);
    const body = await route(req);
    return jsonResponse(200, body);
  };
  return middy(base).use({
    onError: async (request) => {
      request.response = errorResponse(request.error);
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
    throw new BinanceError(
      400,
      -1102,
      `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
    );
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
