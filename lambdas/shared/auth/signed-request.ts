// Binance SIGNED endpoints: X-MBX-APIKEY header, HMAC-SHA256 hex `signature` over the query string followed
// by the request body, `timestamp` within `recvWindow` (default 5,000 ms, at most 60,000 ms).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BinanceError } from '../http/binance-error';
import type { ApiRequest } from '../http/request';
import type { ApiKeyStore, Permission } from './api-keys';
import type { ReplayStore } from './replay-store';

export interface AuthDeps {
  keys: Pick<ApiKeyStore, 'resolve'>;
  replay: ReplayStore;
  clock?: () => number;
}

export interface Caller {
  userId: number;
  apiKey: string;
  /** With `deferReplay`: the marker the caller must record in its own transaction (orders do). */
  replay?: { signature: string; expiresAtMs: number };
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_PARAM = /(^|&)signature=[^&]*/;

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** What the client signed: the query string and the body, each without the signature parameter. */
export function signedPayload(req: Pick<ApiRequest, 'queryString' | 'rawBody'>): string {
  const strip = (s: string) => s.replace(SIGNATURE_PARAM, '').replace(/^&/, '');
  return strip(req.queryString) + strip(req.rawBody);
}

const invalidKey = () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');

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
  if (!apiKey) throw new BinanceError(401, -2014, 'API-key format invalid.');
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
  if (!/^\d{1,16}$/.test(p.timestamp))
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'timestamp'.");
  const recvWindow = p.recvWindow === undefined ? 5_000 : Number(p.recvWindow);
  if (!Number.isInteger(recvWindow) || recvWindow <= 0)
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'recvWindow'.");
  if (recvWindow > 60_000) throw new BinanceError(400, -1131, 'recvWindow must be less than 60000');

  const now = (deps.clock ?? Date.now)();
  const timestamp = Number(p.timestamp);
  if (timestamp > now + 1_000 || now - timestamp > recvWindow) {
    throw new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  }

  const key = await deps.keys.resolve(apiKey);
  if (!key) throw invalidKey();
  const expected = Buffer.from(sign(key.secret, signedPayload(req)), 'hex');
  const given = HEX64.test(p.signature) ? Buffer.from(p.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new BinanceError(400, -1022, 'Signature for this request is not valid.');
  }
  if (!key.permissions.has(need)) throw invalidKey();
  const replay = { signature: p.signature.toLowerCase(), expiresAtMs: timestamp + recvWindow + 1_000 };
  if (opts.deferReplay) return { userId: key.userId, apiKey, replay };
  if (!(await deps.replay.firstUse(replay.signature, replay.expiresAtMs))) {
    throw new BinanceError(400, -1022, 'Signature for this request was already used.');
  }
  return { userId: key.userId, apiKey };
}
