// A REST request as the handlers see it: Binance parameters merged from the query string and a form or
// JSON body, plus what signature checking needs (the query string and body exactly as the client sent them).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BinanceError } from './binance-error';

/**
 * REST API proxy events carry only decoded query parameters, never the query string as sent. The edge in
 * front of API Gateway (a Cloudflare request-header Transform Rule in AWS; local/apigw/rest.ts locally) sets
 * this header to the raw query string, replacing any value a client sent. When it is present the parameters
 * are read from it, so what the signature covers and what the handler uses are the same bytes.
 */
export const RAW_QUERY_HEADER = 'x-cirrus-raw-query';

export interface ApiRequest {
  method: string;
  /** The API Gateway resource path, e.g. /api/v3/order. */
  resource: string;
  /** Query-string parameters win over body parameters, as on Binance. */
  params: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /**
   * The query string exactly as the client sent it; rebuilt from the decoded parameters only when the event
   * does not carry it (then `queryStringIsRaw` is false).
   */
  queryString: string;
  /** false when `queryString` was rebuilt from API Gateway's decoded parameters; absent means as sent. */
  queryStringIsRaw?: boolean;
  /** The decoded query parameters in the order received (what a rebuilt query string is made from). */
  queryPairs?: Array<[string, string]>;
  rawBody: string;
  sourceIp: string;
  /** When the edge received the request (API Gateway's requestTimeEpoch), in ms; absent in unit tests. */
  receivedAtMs?: number;
}

const FORM_SAFE = /^[A-Za-z0-9_.\-~]*$/;

/**
 * The client's address. Behind Cloudflare (the only origin API Gateway accepts) it is CF-Connecting-IP, in
 * Lambda (AWS_LAMBDA_FUNCTION_NAME is set by Lambda itself); anywhere else that header is the client's to
 * forge and is ignored. An IPv4-mapped IPv6 address is given in its IPv4 form, so one client has one address.
 * Request weight is counted per address; a key with an IP allowlist is checked against it.
 */
export function clientIp(req: Pick<ApiRequest, 'headers' | 'sourceIp'>): string {
  const forwarded = process.env.AWS_LAMBDA_FUNCTION_NAME ? req.headers['cf-connecting-ip'] : undefined;
  return (forwarded ?? req.sourceIp).replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

export const duplicateParam = () =>
  new BinanceError(400, -1101, 'Duplicate values for a parameter detected.');

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
    const pairs = type.includes('application/json')
      ? parseJsonObject(rawBody)
      : parseForm(rawBody, 'Illegal characters found in the request body.');
    for (const [k, v] of pairs) {
      if (Object.hasOwn(bodyParams, k)) throw duplicateParam();
      bodyParams[k] = v;
    }
  }

  const raw = headers[RAW_QUERY_HEADER];
  let queryPairs: Array<[string, string]>;
  let queryString: string;
  let queryStringIsRaw = true;
  if (raw !== undefined) {
    queryString = raw;
    queryPairs = parseForm(raw, 'Illegal characters found in the query string.');
  } else {
    queryPairs = gatewayQueryPairs(event);
    queryString = queryPairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
    // Nothing to rebuild when there is no query string.
    queryStringIsRaw = queryPairs.length === 0;
  }
  const queryParams: Record<string, string> = {};
  for (const [k, v] of queryPairs) {
    if (Object.hasOwn(queryParams, k)) throw duplicateParam();
    queryParams[k] = v;
  }

  return {
    method: event.httpMethod,
    resource: event.resource ?? event.path,
    params: { ...bodyParams, ...queryParams },
    headers,
    queryString,
    queryStringIsRaw,
    queryPairs,
    rawBody,
    sourceIp: event.requestContext?.identity?.sourceIp ?? '',
    receivedAtMs: event.requestContext?.requestTimeEpoch,
  };
}

/** API Gateway's decoded query parameters, repeated names kept (so duplicates can be refused). */
function gatewayQueryPairs(event: APIGatewayProxyEvent): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [k, values] of Object.entries(multi)) for (const v of values ?? []) pairs.push([k, v]);
  if (Object.keys(multi).length === 0 && event.queryStringParameters) {
    for (const [k, v] of Object.entries(event.queryStringParameters)) if (v !== undefined) pairs.push([k, v]);
  }
  return pairs;
}

/** application/x-www-form-urlencoded, as Binance reads the query string and the body ('+' is a space). */
export function parseForm(text: string, illegal: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = safeDecode(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined) throw new BinanceError(400, -1100, illegal);
    pairs.push([key, value]);
  }
  return pairs;
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

const invalidJson = () => new BinanceError(400, -1135, 'Invalid JSON Request');
// JSON strings may not hold raw control characters (RFC 8259 §7), hence the range.
// eslint-disable-next-line no-control-regex
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_LITERAL = /true|false|null/y;

/**
 * A flat JSON object as parameters. Numbers keep the digits that were sent (JSON.parse would turn
 * 12345678901234567890 into 12345678901234567000 and 0.10000000000000000001 into 0.1), so amounts and ids
 * stay exact; strings and booleans become their text; null, arrays and objects are refused.
 */
export function parseJsonObject(text: string): Array<[string, string]> {
  let i = 0;
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++;
  };
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const pairs: Array<[string, string]> = [];
  const seen = new Set<string>();
  space();
  if (text[i] !== '{') throw invalidJson();
  i++;
  space();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      space();
      const keyToken = token(JSON_STRING);
      if (keyToken === undefined) throw invalidJson();
      const key = JSON.parse(keyToken) as string;
      space();
      if (text[i] !== ':') throw invalidJson();
      i++;
      space();
      let value: string | undefined;
      const c = text[i];
      if (c === '"') {
        const s = token(JSON_STRING);
        if (s === undefined) throw invalidJson();
        value = JSON.parse(s) as string;
      } else if (c === '{' || c === '[') {
        throw new BinanceError(400, -1100, `Illegal value for parameter '${key}'.`);
      } else {
        value = token(JSON_NUMBER) ?? token(JSON_LITERAL);
        if (value === undefined) throw invalidJson();
        if (value === 'null') throw new BinanceError(400, -1100, `Illegal value for parameter '${key}'.`);
      }
      if (seen.has(key)) throw duplicateParam();
      seen.add(key);
      pairs.push([key, value]);
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        break;
      }
      throw invalidJson();
    }
  }
  space();
  if (i !== text.length) throw invalidJson();
  return pairs;
}
