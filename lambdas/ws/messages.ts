// WebSocket messages, routed on `$request.body.method` (Binance's market-stream control messages):
//   {"method":"SUBSCRIBE","params":["btcusdt@depth","btcusdt@trade"],"id":1}  -> {"result":null,"id":1}
//   {"method":"UNSUBSCRIBE","params":[...],"id":2}                          -> {"result":null,"id":2}
//   {"method":"LIST_SUBSCRIPTIONS","id":3}                                  -> {"result":[...],"id":3}
//   {"method":"SET_PROPERTY","params":["combined",true],"id":4}             -> {"result":null,"id":4}
//   {"method":"GET_PROPERTY","params":["combined"],"id":5}                  -> {"result":true,"id":5}
// Anything else reaches $default here too and gets Binance's error object {"error":{"code","msg"},"id"}
// (code 3: malformed JSON; 2: invalid request; 1: invalid value type; 0: unknown property). The connection
// stays open either way. The WebSocket API's user data requests (`userDataStream.*`) have routes and a
// function of their own in AWS (lambdas/ws/user-data.ts, which alone may read API keys); the local gateway
// sends every message here, so they are handed to that same handler.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '../shared/clients';
import { messagesConfig } from './config';
import { logger } from '../shared/powertools';
import { ConnectionStore, MAX_STREAMS_PER_CONNECTION } from './connection-store';
import { isValidStream } from './streams';
import { handler as userData, USER_DATA_METHODS } from './user-data';
import { lambdaHandler } from '../shared/handler';

export { isValidStream } from './streams';

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

/** The largest control message read (API Gateway carries frames up to 128 KB; none needs near this). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const eventSchema = z.object({
  requestContext: z.object({ connectionId: z.string().min(1).max(128) }),
  body: z.string().nullish(),
});

let store: ConnectionStore | undefined;
const connections = () =>
  (store ??= new ConnectionStore(dynamoClient(), messagesConfig()[TABLES.connections.envVar]));

type Id = number | string | null;
const reply = (body: unknown): APIGatewayProxyResultV2 => ({ statusCode: 200, body: JSON.stringify(body) });
const error = (code: number, msg: string, id: Id = null) => reply({ error: { code, msg }, id });

/** Line and column (1-based) of a character offset, as serde_json reports positions. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return `line ${lines.length} column ${lines[lines.length - 1].length + 1}`;
}

/** Where JSON.parse stopped (Node reports "at position N" for most errors); the end of the text otherwise. */
function jsonErrorOffset(text: string, err: unknown): number {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : text.length;
}

/** Binance accepts a 64-bit signed integer, an alphanumeric string of at most 36 characters, or null. */
function validId(id: unknown): id is Id {
  return (
    id === null ||
    (typeof id === 'number' && Number.isSafeInteger(id)) ||
    (typeof id === 'string' && /^[A-Za-z0-9-]{1,36}$/.test(id))
  );
}

type Checked = { ok: true; streams: string[] } | { ok: false; answer: APIGatewayProxyResultV2 };

function streamParams(params: unknown, id: Id): Checked {
  if (!Array.isArray(params) || params.length === 0)
    return {
      ok: false,
      answer: error(2, 'Invalid request: params must be a non-empty array of stream names', id),
    };
  if (params.length > MAX_STREAMS_PER_CONNECTION)
    return { ok: false, answer: error(2, 'Invalid request: too many parameters', id) };
  for (const p of params) {
    if (typeof p !== 'string')
      return { ok: false, answer: error(2, 'Invalid request: stream name must be a string', id) };
    if (!isValidStream(p))
      return { ok: false, answer: error(2, `Invalid request: unknown stream \`${p}\``, id) };
  }
  return { ok: true, streams: [...new Set(params as string[])] };
}

const handle = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsedEvent = eventSchema.safeParse(event);
  if (!parsedEvent.success) return { statusCode: 400, body: 'Bad Request' };
  const { connectionId } = parsedEvent.data.requestContext;
  const text = parsedEvent.data.body ?? '';
  // Too large to read: a clear error, as for any bad request; the connection stays open.
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES)
    return error(2, `Invalid request: message too large (at most ${MAX_MESSAGE_BYTES} bytes)`);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return error(3, `Invalid JSON: expected value at ${lineColumn(text, jsonErrorOffset(text, err))}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return error(2, 'Invalid request: expected an object');
  const msg = json as { method?: unknown; params?: unknown; id?: unknown };
  if (typeof msg.method === 'string' && USER_DATA_METHODS.includes(msg.method)) return userData(event);
  if (!validId(msg.id ?? null)) return error(2, 'Invalid request: request ID must be an unsigned integer');
  const id = (msg.id ?? null) as Id;
  if (msg.method === undefined)
    return error(
      2,
      `Invalid request: missing field \`method\` at ${lineColumn(text, text.trimEnd().length)}`,
      id,
    );
  if (typeof msg.method !== 'string' || !METHODS.includes(msg.method)) {
    const shown = typeof msg.method === 'string' ? msg.method : JSON.stringify(msg.method);
    const at = text.indexOf(JSON.stringify(msg.method));
    return error(
      2,
      `Invalid request: unknown variant \`${shown}\`, expected one of \`${METHODS.join('`, `')}\` at ${lineColumn(text, at < 0 ? text.length : at + JSON.stringify(msg.method).length)}`,
      id,
    );
  }

  const store = connections();
  switch (msg.method) {
    case 'SUBSCRIBE': {
      const checked = streamParams(msg.params, id);
      if (!checked.ok) return checked.answer;
      const [current, combined] = await Promise.all([
        store.subscriptions(connectionId),
        store.isCombined(connectionId),
      ]);
      const fresh = checked.streams.filter((s) => !current.includes(s));
      if (current.length + fresh.length > MAX_STREAMS_PER_CONNECTION)
        return error(2, `Invalid request: at most ${MAX_STREAMS_PER_CONNECTION} streams per connection`, id);
      await store.subscribe(connectionId, fresh, Date.now(), combined);
      logger.debug('subscribed', { connectionId, streams: fresh });
      return reply({ result: null, id });
    }
    case 'UNSUBSCRIBE': {
      const checked = streamParams(msg.params, id);
      if (!checked.ok) return checked.answer;
      await store.unsubscribe(connectionId, checked.streams);
      return reply({ result: null, id });
    }
    case 'LIST_SUBSCRIPTIONS':
      return reply({ result: (await store.subscriptions(connectionId)).sort(), id });
    case 'GET_PROPERTY': {
      const params = msg.params;
      if (!Array.isArray(params) || typeof params[0] !== 'string')
        return error(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return error(0, 'Unknown property', id);
      return reply({ result: await store.isCombined(connectionId), id });
    }
    default: {
      // SET_PROPERTY
      const params = msg.params;
      if (!Array.isArray(params) || typeof params[0] !== 'string')
        return error(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return error(0, 'Unknown property', id);
      if (typeof params[1] !== 'boolean') return error(1, 'Invalid value type: expected Boolean', id);
      await store.setCombined(connectionId, params[1], Date.now());
      return reply({ result: null, id });
    }
  }
};

export const handler = lambdaHandler(handle);
