// WebSocket $connect: runs after the origin-secret authorizer admitted the request; records the connection.
// Binance's paths: the edge passes the path the client opened (`/ws/<streams>` raw, `/stream?streams=a/b`
// combined) in the X-Cirrus-Ws-Path header and the streams it names as `streams`; those valid are subscribed
// at once (unknown names are ignored, as ccxt opens `/ws/<n>` with a number and SUBSCRIBEs afterwards).
// A listen key among them (`/ws/<listenKey>`, POST /api/v3/userDataStream) binds the connection to its
// user's data stream; a listen key that is unknown, closed or expired refuses the connection (400), so a
// client learns at once that it must create a new one. `/ws-api/v3` is the WebSocket API (user data by
// `userDataStream.subscribe.signature`, lambdas/ws/user-data.ts).
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '../shared/clients';
import { connectConfig } from './config';
import { logger } from '../shared/powertools';
import { ConnectionStore, MAX_STREAMS_PER_CONNECTION } from './connection-store';
import { isValidStream } from './streams';
import { LISTEN_KEY_FORMAT, UserStreamStore } from './user-stream-store';
import { lambdaHandler } from '../shared/handler';

const connectEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1).max(128),
    routeKey: z.literal('$connect'),
    identity: z.object({ sourceIp: z.string().optional() }).partial().optional(),
  }),
  // Cloudflare's view of the client, for the audit trail.
  headers: z.record(z.string(), z.string()).nullish(),
  queryStringParameters: z.record(z.string(), z.string()).nullish(),
});

const PATH_HEADER = 'x-cirrus-ws-path';

let store: ConnectionStore | undefined;
const connections = () =>
  (store ??= new ConnectionStore(dynamoClient(), connectConfig()[TABLES.connections.envVar]));
let userStore: UserStreamStore | undefined;
const userStreams = () =>
  (userStore ??= new UserStreamStore(dynamoClient(), connectConfig()[TABLES.connections.envVar]));

const handle = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsed = connectEventSchema.safeParse(event);
  if (!parsed.success) {
    logger.warn('malformed $connect event', { issues: parsed.error.issues });
    return { statusCode: 400, body: 'Bad Request' };
  }
  const { requestContext, headers, queryStringParameters } = parsed.data;
  const header = (name: string) => Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  const clientIp = header('cf-connecting-ip') ?? requestContext.identity?.sourceIp;
  const path = header(PATH_HEADER) ?? '/ws';
  const combined = path.startsWith('/stream');
  const named = (queryStringParameters?.streams ?? '').split('/');
  const streams = [...new Set(named.filter(isValidStream).slice(0, MAX_STREAMS_PER_CONNECTION))];
  const listenKeys = [...new Set(named.filter((s) => LISTEN_KEY_FORMAT.test(s)))];
  const now = Date.now();
  // One user per connection: more than one listen key is refused rather than silently merged.
  if (listenKeys.length > 1) return { statusCode: 400, body: 'Bad Request' };
  const listenKey = listenKeys[0];
  const holder = listenKey ? await userStreams().listenKeyHolder(listenKey, now) : undefined;
  if (listenKey && holder === undefined) {
    logger.info('connection with an unknown or expired listen key refused');
    return { statusCode: 400, body: 'Bad Request' };
  }
  const store = connections();
  await store.connect(requestContext.connectionId, now, clientIp, combined);
  if (listenKey && holder !== undefined)
    await userStreams().bind(
      {
        connectionId: requestContext.connectionId,
        userId: holder.userId,
        format: combined ? 'combined' : 'raw',
        listenKey,
        // Revoking the API key that made the listen key ends this stream too (the fan-out checks it).
        ...(holder.apiKey ? { apiKey: holder.apiKey } : {}),
      },
      now,
    );
  if (streams.length > 0) await store.subscribeEach(requestContext.connectionId, streams, now, combined);
  logger.info('connected', { connectionId: requestContext.connectionId, combined, streams: streams.length });
  return { statusCode: 200 };
};

export const handler = lambdaHandler(handle);
