// Binance's listen keys (USER_STREAM security: the X-MBX-APIKEY header, no signature):
//   POST   /api/v3/userDataStream               -> {"listenKey": "..."} valid for 60 minutes
//   PUT    /api/v3/userDataStream?listenKey=... -> {}  extends it by 60 minutes
//   DELETE /api/v3/userDataStream?listenKey=... -> {}  closes it
// A key belongs to the user whose API key created it: another user's key is answered exactly like an
// unknown one (-1125), so keys cannot even be probed. Opening `/ws/<listenKey>` binds a WebSocket
// connection to that user (lambdas/ws/connect.ts).
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { API_KEY_FORMAT } from '../shared/auth/api-keys';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { BinanceError, createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { LISTEN_KEY_FORMAT, UserStreamStore } from '../ws/user-stream-store';
import { apiContext } from './context';

let store: UserStreamStore | undefined;
const streams = () => (store ??= new UserStreamStore(dynamoClient(), requiredEnv(TABLES.connections.envVar)));

const keySchema = z.object({ listenKey: z.string().min(1).max(128) });
const noSuchKey = () => new BinanceError(400, -1125, 'This listenKey does not exist.');

/** The caller's user id from the API key alone (any permission: Binance's USER_STREAM). */
async function caller(req: ApiRequest): Promise<number> {
  const apiKey = req.headers['x-mbx-apikey'];
  if (!apiKey || !API_KEY_FORMAT.test(apiKey)) throw new BinanceError(401, -2014, 'API-key format invalid.');
  const key = await apiContext().keys.resolve(apiKey);
  if (!key) throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
  return key.userId;
}

async function create(req: ApiRequest) {
  const userId = await caller(req);
  // The listen key remembers the API key that made it: revoking that key ends its streams.
  return { listenKey: await streams().createListenKey(userId, Date.now(), req.headers['x-mbx-apikey']) };
}

async function keepAlive(req: ApiRequest) {
  const userId = await caller(req);
  const { listenKey } = parseParams(keySchema, req.params);
  if (!LISTEN_KEY_FORMAT.test(listenKey)) throw noSuchKey();
  if (!(await streams().keepAlive(listenKey, userId, Date.now()))) throw noSuchKey();
  return {};
}

async function close(req: ApiRequest) {
  const userId = await caller(req);
  const { listenKey } = parseParams(keySchema, req.params);
  if (!LISTEN_KEY_FORMAT.test(listenKey)) throw noSuchKey();
  if (!(await streams().closeListenKey(listenKey, userId))) throw noSuchKey();
  return {};
}

export const handler = createApiHandler(
  router({
    'POST /api/v3/userDataStream': create,
    'PUT /api/v3/userDataStream': keepAlive,
    'DELETE /api/v3/userDataStream': close,
  }),
);
