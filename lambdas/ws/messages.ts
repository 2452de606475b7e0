// WebSocket messages, routed on `$request.body.method` (Binance's WebSocket API shape):
//   {"method":"SUBSCRIBE","params":["btcusdt@depth","btcusdt@trade"],"id":1}  -> {"result":null,"id":1}
//   {"method":"UNSUBSCRIBE","params":[...],"id":2}                          -> {"result":null,"id":2}
//   {"method":"LIST_SUBSCRIPTIONS","id":3}                                  -> {"result":[...],"id":3}
// Anything else reaches $default here too and gets Binance's error object.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { MARKETS } from '../../lib/markets';
import { TABLES } from '../../lib/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { logger } from '../shared/powertools';
import { CANDLE_INTERVALS } from '../shared/stores/market-data';
import { ConnectionStore, MAX_STREAMS_PER_CONNECTION } from './connection-store';

const SYMBOLS = new Set(MARKETS.map((m) => m.symbol.toLowerCase()));
const STREAM_KINDS = new Set([
  'depth',
  'depth@100ms',
  'trade',
  'ticker',
  'miniTicker',
  'bookTicker',
  ...Object.keys(CANDLE_INTERVALS).map((i) => `kline_${i}`),
]);

/** `<symbol>@<kind>` for a listed market and a known stream kind. */
export function isValidStream(stream: string): boolean {
  const at = stream.indexOf('@');
  return at > 0 && SYMBOLS.has(stream.slice(0, at)) && STREAM_KINDS.has(stream.slice(at + 1));
}

const requestId = z.union([z.number().int(), z.string().max(64), z.null()]).default(null);
const streams = z
  .array(z.string().max(64))
  .min(1)
  .max(MAX_STREAMS_PER_CONNECTION)
  .refine((s) => s.every(isValidStream), { message: 'unknown stream name' });

export const wsRequestSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('SUBSCRIBE'), params: streams, id: requestId }),
  z.object({ method: z.literal('UNSUBSCRIBE'), params: streams, id: requestId }),
  z.object({ method: z.literal('LIST_SUBSCRIPTIONS'), id: requestId }),
]);

const eventSchema = z.object({
  requestContext: z.object({ connectionId: z.string().min(1).max(128) }),
  body: z
    .string()
    .max(64 * 1024)
    .nullish(),
});

let store: ConnectionStore | undefined;
const connections = () =>
  (store ??= new ConnectionStore(dynamoClient(), requiredEnv(TABLES.connections.envVar)));

const reply = (body: unknown): APIGatewayProxyResultV2 => ({ statusCode: 200, body: JSON.stringify(body) });
const error = (code: number, msg: string, id: unknown = null) => reply({ error: { code, msg }, id });

export const handler = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsedEvent = eventSchema.safeParse(event);
  if (!parsedEvent.success) return { statusCode: 400, body: 'Bad Request' };
  const { connectionId } = parsedEvent.data.requestContext;

  let json: unknown;
  try {
    json = JSON.parse(parsedEvent.data.body ?? '');
  } catch {
    return error(3, 'Invalid JSON');
  }
  const request = wsRequestSchema.safeParse(json);
  if (!request.success) {
    const id = (json as { id?: unknown } | null)?.id ?? null;
    return error(2, `Invalid request: ${request.error.issues[0]?.message ?? 'malformed'}`, id);
  }

  const msg = request.data;
  const store = connections();
  switch (msg.method) {
    case 'SUBSCRIBE': {
      const current = await store.subscriptions(connectionId);
      const fresh = [...new Set(msg.params)].filter((s) => !current.includes(s));
      if (current.length + fresh.length > MAX_STREAMS_PER_CONNECTION)
        return error(2, `at most ${MAX_STREAMS_PER_CONNECTION} streams per connection`, msg.id);
      await store.subscribe(connectionId, fresh, Date.now());
      logger.debug('subscribed', { connectionId, streams: fresh });
      return reply({ result: null, id: msg.id });
    }
    case 'UNSUBSCRIBE':
      await store.unsubscribe(connectionId, [...new Set(msg.params)]);
      return reply({ result: null, id: msg.id });
    case 'LIST_SUBSCRIPTIONS':
      return reply({ result: (await store.subscriptions(connectionId)).sort(), id: msg.id });
  }
};
