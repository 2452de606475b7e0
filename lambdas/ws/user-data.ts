// Binance WebSocket API user data requests (on `/ws-api/v3`, as ccxt pro subscribes for spot):
//   {"id":"1","method":"userDataStream.subscribe.signature","params":{"apiKey","timestamp","signature"[,"recvWindow"]}}
//     -> {"id":"1","status":200,"result":{"subscriptionId":0}}; then events {"subscriptionId":0,"event":{…}}
//   {"id":"2","method":"userDataStream.unsubscribe"} -> {"id":"2","status":200,"result":{}}
// The signature is Binance's for the WebSocket API: HMAC-SHA256 of the other parameters sorted by name as
// `k=v&…`, checked exactly as a SIGNED REST request (lambdas/shared/auth/signed-request.ts: recvWindow, the
// key's permissions, and a signature accepted once, so a captured request cannot bind another connection to
// the victim's stream). Errors: {"id","status":4xx,"error":{"code","msg"}}.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { ApiKeyStore } from '../shared/auth/api-keys';
import { DynamoReplayStore } from '../shared/auth/replay-store';
import { authenticate, type AuthDeps } from '../shared/auth/signed-request';
import { dynamoClient, kmsClient } from '../shared/clients';
import { userDataConfig } from './config';
import { dbPool } from '../shared/db';
import { BinanceError } from '../shared/http/binance-error';
import { logger } from '../shared/powertools';
import { SUBSCRIPTION_ID, UserStreamStore } from './user-stream-store';
import { lambdaHandler } from '../shared/handler';

export const USER_DATA_METHODS = ['userDataStream.subscribe.signature', 'userDataStream.unsubscribe'];

const eventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1).max(128),
    identity: z.object({ sourceIp: z.string().optional() }).partial().optional(),
  }),
  body: z.string().max(64 * 1024),
});
const requestSchema = z.object({
  id: z.union([z.string().max(36), z.number().int(), z.null()]).optional(),
  method: z.enum(USER_DATA_METHODS as [string, ...string[]]),
  params: z
    .record(z.string(), z.union([z.string().max(256), z.number().finite()]))
    .optional()
    .default({}),
});

let deps: { auth: AuthDeps; streams: UserStreamStore } | undefined;
const userDataDeps = () => {
  if (deps) return deps;
  const db = dynamoClient();
  const config = userDataConfig();
  deps = {
    auth: {
      keys: new ApiKeyStore(dbPool(), kmsClient(), config.DATA_KEY_ID),
      replay: new DynamoReplayStore(db, config[TABLES.idempotency.envVar]),
    },
    streams: new UserStreamStore(db, config[TABLES.connections.envVar]),
  };
  return deps;
};

type Id = string | number | null;
const answer = (body: unknown): APIGatewayProxyResultV2 => ({ statusCode: 200, body: JSON.stringify(body) });
const failure = (id: Id, status: number, code: number, msg: string) =>
  answer({ id, status, error: { code, msg } });

/** The query string Binance signs for a WebSocket API request: parameters sorted by name, `k=v&…`. */
export function signedQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

const handle = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsedEvent = eventSchema.safeParse(event);
  if (!parsedEvent.success) return { statusCode: 400, body: 'Bad Request' };
  const { connectionId, identity } = parsedEvent.data.requestContext;
  let json: unknown;
  try {
    json = JSON.parse(parsedEvent.data.body);
  } catch {
    return failure(null, 400, -1100, 'Malformed request.');
  }
  const parsed = requestSchema.safeParse(json);
  const rawId = (json as { id?: unknown } | null)?.id;
  const id: Id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
  if (!parsed.success) return failure(id, 400, -1100, 'Malformed request.');
  const { streams, auth } = userDataDeps();

  if (parsed.data.method === 'userDataStream.unsubscribe') {
    await streams.unbind(connectionId);
    return answer({ id, status: 200, result: {} });
  }

  const params = Object.fromEntries(Object.entries(parsed.data.params).map(([k, v]) => [k, String(v)]));
  const { apiKey, ...rest } = params;
  try {
    const caller = await authenticate(
      {
        method: 'WS',
        resource: parsed.data.method,
        params: rest,
        headers: apiKey === undefined ? {} : { 'x-mbx-apikey': apiKey },
        queryString: signedQuery(params),
        rawBody: '',
        sourceIp: identity?.sourceIp ?? '',
      },
      'read',
      auth,
    );
    // The signing key is kept with the binding: revoking it ends the stream (docs/api.md#user-data-streams).
    await streams.bind({ connectionId, userId: caller.userId, format: 'wsapi', apiKey }, Date.now());
    logger.info('user data stream subscribed', { connectionId });
    return answer({ id, status: 200, result: { subscriptionId: SUBSCRIPTION_ID } });
  } catch (err) {
    if (err instanceof BinanceError) return failure(id, err.statusCode, err.code, err.message);
    throw err;
  }
};

export const handler = lambdaHandler(handle);
