// A REST request as the handlers see it: Binance parameters merged from the query string and a form or
// JSON body, plus what signature checking needs (the query string and body as the client signed them).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BinanceError } from './binance-error';

export interface ApiRequest {
  method: string;
  /** The API Gateway resource path, e.g. /api/v3/order. */
  resource: string;
  /** Query-string parameters win over body parameters, as on Binance. */
  params: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The query string re-encoded in received order (REST proxy events carry no raw query string). */
  queryString: string;
  rawBody: string;
  sourceIp: string;
}

const FORM_SAFE = /^[A-Za-z0-9_.\-~]*$/;

export function parseRequest(event: APIGatewayProxyEvent): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const rawBody = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';

  const bodyParams: Record<string, string> = {};
  if (rawBody) {
    const type = headers['content-type'] ?? '';
    if (type.includes('application/json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        throw new BinanceError(400, -1102, 'Malformed JSON request body.');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new BinanceError(400, -1102, 'The JSON request body must be an object.');
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (v === null || typeof v === 'object')
          throw new BinanceError(400, -1100, `Illegal value for parameter '${k}'.`);
        bodyParams[k] = String(v);
      }
    } else {
      for (const pair of rawBody.split('&')) {
        if (!pair) continue;
        const eq = pair.indexOf('=');
        const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
        const value = safeDecode(eq < 0 ? '' : pair.slice(eq + 1));
        if (key === undefined || value === undefined)
          throw new BinanceError(400, -1100, 'Illegal characters found in the request body.');
        bodyParams[key] = value;
      }
    }
  }

  const query = event.multiValueQueryStringParameters ?? {};
  const queryParams: Record<string, string> = {};
  const encoded: string[] = [];
  for (const [k, values] of Object.entries(query)) {
    for (const v of values ?? []) {
      queryParams[k] = v;
      encoded.push(`${encode(k)}=${encode(v)}`);
    }
  }
  if (Object.keys(query).length === 0 && event.queryStringParameters) {
    for (const [k, v] of Object.entries(event.queryStringParameters)) {
      if (v === undefined) continue;
      queryParams[k] = v;
      encoded.push(`${encode(k)}=${encode(v)}`);
    }
  }
  return {
    method: event.httpMethod,
    resource: event.resource ?? event.path,
    params: { ...bodyParams, ...queryParams },
    headers,
    queryString: encoded.join('&'),
    rawBody,
    sourceIp: event.requestContext?.identity?.sourceIp ?? '',
  };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Percent-encoding as Binance clients send it (unreserved characters kept, everything else escaped). */
function encode(s: string): string {
  return FORM_SAFE.test(s) ? s : encodeURIComponent(s);
}
