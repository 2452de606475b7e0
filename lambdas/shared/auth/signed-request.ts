// Binance SIGNED endpoints: X-MBX-APIKEY header, HMAC-SHA256 hex `signature` over the query string followed
// by the request body exactly as sent, `timestamp` (ms or µs) within `recvWindow` (default 5,000 ms, at most
// 60,000 ms, up to three decimals).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BinanceError } from '../http/binance-error';
import { clientIp, type ApiRequest } from '../http/request';
import { API_KEY_FORMAT, type ApiKeyStore, type Permission } from './api-keys';
import type { ReplayStore } from './replay-store';

export interface AuthDeps {
  keys: Pick<ApiKeyStore, 'resolve'>;
  replay: ReplayStore;
  clock?: () => number;
}

export interface Caller {
  userId: number;
  apiKey: string;
  /** What the calling key may do (key management grants only a subset of it). */
  permissions: ReadonlySet<Permission>;
  /** With `deferReplay`: the marker the caller must record in its own transaction (orders do). */
  replay?: { signature: string; expiresAtMs: number };
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_PARAM = /(^|&)signature=[^&]*/;
/** Milliseconds (13 digits today) or microseconds (16 digits), decimal digits only. */
const TIMESTAMP = /^\d{1,16}$/;
/** Milliseconds with up to three decimals (microseconds), decimal digits only. */
const RECV_WINDOW = /^\d{1,16}(\.\d{1,3})?$/;
const MAX_RECV_WINDOW_MS = 60_000;

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

const stripSignature = (s: string) => s.replace(SIGNATURE_PARAM, '').replace(/^&/, '');

/** What the client signed: the query string and the body as sent, each without the signature parameter. */
export function signedPayload(req: Pick<ApiRequest, 'queryString' | 'rawBody'>): string {
  return stripSignature(req.queryString) + stripSignature(req.rawBody);
}

const upperEscapes = (s: string) => s;
const lowerEscapes = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
/** The encodings clients use: URLSearchParams/urlencode ('+' for space), encodeURIComponent, and minimal. */
const ENCODERS: Array<(s: string) => string> = [
  (s) =>
    encodeURIComponent(s)
      .replace(/[!'()~]/g, hex)
      .replace(/%20/g, '+'),
  (s) => encodeURIComponent(s),
  (s) =>
    encodeURIComponent(s).replace(/%(2C|5B|5D|22|3A|2F|40|24|3B|3F|7B|7D)/g, (_m, h: string) =>
      String.fromCharCode(parseInt(h, 16)),
    ),
];

/**
 * Every payload the signature may cover. With the query string as sent (the normal case) there is one:
 * Binance's. Only when the edge did not pass the raw query string on (see RAW_QUERY_HEADER) is it rebuilt from
 * the decoded parameters, in the few encodings clients use (escapes in either case, ',' escaped or not); each
 * candidate encodes exactly the parameters the handler will use, so accepting any of them is as safe as one.
 */
export function signedPayloads(
  req: Pick<ApiRequest, 'queryString' | 'rawBody' | 'queryStringIsRaw' | 'queryPairs'>,
): string[] {
  if (req.queryStringIsRaw !== false || !req.queryPairs) return [signedPayload(req)];
  const body = stripSignature(req.rawBody);
  const pairs = req.queryPairs.filter(([k]) => k !== 'signature');
  const out = new Set<string>();
  for (const encode of ENCODERS) {
    const query = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
    for (const variant of [query, query.replace(/%2C/g, ',')])
      for (const escapes of [upperEscapes, lowerEscapes]) out.add(escapes(variant) + body);
  }
  return [...out];
}

const invalidKey = () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
const illegal = (name: string) =>
  new BinanceError(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]+$'.`);

/**
 * Checks a SIGNED request. The signature is remembered so the request cannot be replayed; with
 * `deferReplay` the caller records that marker itself, in the transaction of what the request does
 * (order placement and cancel: one PostgreSQL transaction, no DynamoDB item on the accept path).
 */
export async function authenticate(
  req: ApiRequest,
  need: Permission,
  deps: AuthDeps,
  opts: { deferReplay?: boolean } = {},
): Promise<Caller> {
  const apiKey = req.headers['x-mbx-apikey'];
  if (!apiKey || !API_KEY_FORMAT.test(apiKey)) throw new BinanceError(401, -2014, 'API-key format invalid.');
  const p = req.params;
  if (!p.timestamp)
    throw new BinanceError(
      400,
      -1102,
      "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    );
  if (!p.signature)
    throw new BinanceError(
      400,
      -1102,
      "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    );
  if (!TIMESTAMP.test(p.timestamp)) throw illegal('timestamp');
  if (p.recvWindow !== undefined && !RECV_WINDOW.test(p.recvWindow))
    throw new BinanceError(
      400,
      -1100,
      "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]+(\\.[0-9]{1,3})?$'.",
    );
  const recvWindow = p.recvWindow === undefined ? 5_000 : Number(p.recvWindow);
  if (recvWindow <= 0)
    throw new BinanceError(
      400,
      -1100,
      "Illegal characters found in parameter 'recvWindow'; it must be positive.",
    );
  if (recvWindow > MAX_RECV_WINDOW_MS)
    throw new BinanceError(400, -1131, 'recvWindow must be less than 60000');

  // Binance: timestamp < serverTime + 1 s and serverTime - timestamp <= recvWindow; compared in whole
  // microseconds (integers well below 2^53), so a window like 6000.346 is exact. serverTime is when the
  // edge received the request: time it then spends queued inside Cirrus is Cirrus's to answer for (with
  // 503 / -1008 when overloaded, docs/operations.md#overload-and-rate-limits), not an expired request.
  const nowUs = Math.round((req.receivedAtMs ?? (deps.clock ?? Date.now)()) * 1_000);
  const timestampUs = p.timestamp.length >= 16 ? Number(p.timestamp) : Number(p.timestamp) * 1_000;
  if (timestampUs >= nowUs + 1_000_000)
    throw new BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
  if (nowUs - timestampUs > Math.round(recvWindow * 1_000))
    throw new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  const timestamp = timestampUs / 1_000;

  const key = await deps.keys.resolve(apiKey);
  if (!key) throw invalidKey();
  const given = HEX64.test(p.signature) ? Buffer.from(p.signature, 'hex') : undefined;
  const valid =
    given !== undefined &&
    signedPayloads(req).some((payload) =>
      timingSafeEqual(given, Buffer.from(sign(key.secret, payload), 'hex')),
    );
  if (!valid) throw new BinanceError(400, -1022, 'Signature for this request is not valid.');
  if (!key.permissions.has(need)) throw invalidKey();
  // A restricted key works only from its addresses; withdrawing needs a restricted key (as on Binance).
  if (key.ipAllowlist && !key.ipAllowlist.includes(clientIp(req))) throw invalidKey();
  if (need === 'withdraw' && !key.ipAllowlist) throw invalidKey();
  // The same parameters signed for two endpoints in one millisecond give one signature: the marker names
  // the endpoint too, so only a true replay (same request again) is refused.
  const replay = {
    signature: `${req.method} ${req.resource} ${p.signature.toLowerCase()}`,
    expiresAtMs: Math.ceil(timestamp + recvWindow) + 1_000,
  };
  const caller = { userId: key.userId, apiKey, permissions: key.permissions };
  if (opts.deferReplay) return { ...caller, replay };
  if (!(await deps.replay.firstUse(replay.signature, replay.expiresAtMs))) {
    throw new BinanceError(400, -1022, 'Signature for this request was already used.');
  }
  return caller;
}
