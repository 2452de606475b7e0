// A local API Gateway WebSocket API (Lambda proxy integrations): every upgrade runs the $connect handler
// before the handshake completes (a non-2xx answer refuses it), every text frame runs the route chosen by
// `$request.body.method` (the messages handler; its answer goes back to the client, as with a route response),
// a close runs $disconnect. The events are APIGatewayProxyWebsocketEventV2-shaped, as API Gateway sends them.
//
// The management API (`POST|GET|DELETE /{stage}/@connections/{connectionId}`) listens on a port of its own,
// so the unmodified @aws-sdk/client-apigatewaymanagementapi posts frames here exactly as it does to the
// execute-api callback URL; a connection that is gone answers 410 (the SDK's GoneException).
//
// Binance's paths: `/ws`, `/ws/<stream>/<stream>` (raw frames) and `/stream?streams=<a>/<b>` (frames wrapped as
// {"stream","data"}). API Gateway has one URL per stage, so the edge passes what the path said to $connect as
// `streams` (query string) and the `X-Cirrus-Ws-Path` header (a Cloudflare Transform Rule in AWS; this file
// locally); `/ws-api/v3` is the WebSocket API's path. API Gateway's limits are kept: a connection idle for 10 minutes, or open for 2 hours, is closed.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { WebSocket, WebSocketServer } from 'ws';
import { lambdaContext } from './rest';

/** Header carrying the client's path and query (the edge sets it; a client's own value is replaced). */
export const WS_PATH_HEADER = 'X-Cirrus-Ws-Path';

export type WebSocketHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyResultV2 | void>;

export interface WebSocketApiOptions {
  /** Public port (default 8081; 0 picks a free one). */
  port?: number;
  /** Management API port (default: a free one). */
  managementPort?: number;
  stage?: string;
  connect: WebSocketHandler;
  disconnect: WebSocketHandler;
  /** $default and the method routes (all served by the messages handler, as CDK wires them). */
  messages: WebSocketHandler;
  /** Route keys that have their own route (others go to $default). */
  routeKeys?: string[];
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /** Wraps each invocation (log attribution). */
  invoke?: <T>(route: string, fn: () => Promise<T>) => Promise<T>;
  log?: (line: string) => void;
}

export interface LocalWebSocketApi {
  /** ws://127.0.0.1:<port> */
  url: string;
  /** The execute-api callback URL stand-in (endpoint of ApiGatewayManagementApiClient). */
  callbackUrl: string;
  /** Open connections. */
  size(): number;
  stop(): Promise<void>;
}

interface Connection {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  /** Messages are handled one after the other, in the order received. */
  queue: Promise<void>;
  timers: NodeJS.Timeout[];
}

const IDLE_MS = 10 * 60 * 1000;
const MAX_MS = 2 * 60 * 60 * 1000;
/** API Gateway's frame limit (128 KB message, 32 KB frames); the larger one. */
const MAX_MESSAGE_BYTES = 128 * 1024;

/** API Gateway connection ids: 12 base64 characters and '=' (e.g. `L0SM9cOFvHcCIhw=`). */
function newConnectionId(): string {
  return randomBytes(10).toString('base64').replace(/[+/]/g, 'A');
}

const statusOf = (r: APIGatewayProxyResultV2 | void): number =>
  r && typeof r === 'object' && 'statusCode' in r && typeof r.statusCode === 'number' ? r.statusCode : 200;
const bodyOf = (r: APIGatewayProxyResultV2 | void): string | undefined =>
  r && typeof r === 'object' && 'body' in r && typeof r.body === 'string' ? r.body : undefined;

/** The streams a Binance path names: `/ws/a/b` or `/stream?streams=a/b`. */
export function streamsOfPath(target: string): { streams: string[]; combined: boolean } {
  const url = new URL(target, 'http://localhost');
  const segments = url.pathname.split('/').filter(Boolean);
  const combined = segments[0] === 'stream';
  const named = combined ? (url.searchParams.get('streams') ?? '').split('/') : segments.slice(1);
  return { streams: named.map((s) => decodeURIComponent(s)).filter(Boolean), combined };
}

export async function startWebSocketApi(opts: WebSocketApiOptions): Promise<LocalWebSocketApi> {
  const stage = opts.stage ?? 'local';
  const routeKeys = new Set(opts.routeKeys ?? ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS']);
  const invoke = opts.invoke ?? (<T>(_route: string, fn: () => Promise<T>) => fn());
  const connections = new Map<string, Connection>();
  /** $disconnect invocations still running (stop waits for them, before the stand-ins go away). */
  const disconnecting = new Set<Promise<void>>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let publicPort = 0;
  let managementPort = 0;

  const requestContext = (
    conn: { id: string; connectedAt: number; sourceIp: string; userAgent: string },
    routeKey: string,
    eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE',
    extra: Record<string, unknown> = {},
  ) => ({
    routeKey,
    eventType,
    extendedRequestId: randomUUID(),
    requestTime: new Date().toUTCString(),
    messageDirection: 'IN',
    stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: Date.now(),
    identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
    requestId: randomUUID(),
    domainName: `127.0.0.1:${publicPort}`,
    connectionId: conn.id,
    apiId: 'local',
    ...extra,
  });

  const disconnect = (conn: Connection, code: number, reason: string) => {
    if (!connections.delete(conn.id)) return;
    for (const t of conn.timers) clearTimeout(t);
    const event = {
      headers: {},
      multiValueHeaders: {},
      requestContext: requestContext(conn, '$disconnect', 'DISCONNECT', {
        disconnectStatusCode: code,
        disconnectReason: reason,
      }),
      isBase64Encoded: false,
    };
    const done = invoke('$disconnect', () =>
      opts.disconnect(event, lambdaContext('cirrus-local-ws-disconnect', '256')),
    )
      .then(() => undefined)
      .catch((err: unknown) => opts.log?.(`ws api       $disconnect failed: ${String(err)}`))
      .finally(() => disconnecting.delete(done));
    disconnecting.add(done);
  };

  const onMessage = async (conn: Connection, data: string) => {
    let routeKey = '$default';
    try {
      const method = (JSON.parse(data) as { method?: unknown } | null)?.method;
      if (typeof method === 'string' && routeKeys.has(method)) routeKey = method;
    } catch {
      // not JSON: $default
    }
    const event = {
      requestContext: requestContext(conn, routeKey, 'MESSAGE', { messageId: randomUUID() }),
      body: data,
      isBase64Encoded: false,
    };
    try {
      const result = await invoke(routeKey, () =>
        opts.messages(event, lambdaContext('cirrus-local-ws-messages', '256')),
      );
      const body = bodyOf(result);
      if (body !== undefined && conn.socket.readyState === WebSocket.OPEN) conn.socket.send(body);
    } catch (err) {
      opts.log?.(`ws api       ${routeKey} failed: ${String(err)}`);
      // What API Gateway sends when the integration fails.
      if (conn.socket.readyState === WebSocket.OPEN)
        conn.socket.send(
          JSON.stringify({
            message: 'Internal server error',
            connectionId: conn.id,
            requestId: randomUUID(),
          }),
        );
    }
  };

  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('Upgrade Required');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = req.url ?? '/';
    const path = new URL(target, 'http://localhost').pathname;
    // `/ws-api/v3`: Binance's WebSocket API (user data streams by signature, as ccxt pro subscribes).
    if (!(
      path === '/ws' ||
      path.startsWith('/ws/') ||
      path === '/stream' ||
      path === '/ws-api/v3' ||
      path === '/'
    )) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const { streams } = streamsOfPath(target);
    const conn = {
      id: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'] ?? '',
    };
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i].toLowerCase() === WS_PATH_HEADER.toLowerCase()) continue;
      headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
      (multiValueHeaders[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
    }
    headers[WS_PATH_HEADER] = target;
    multiValueHeaders[WS_PATH_HEADER] = [target];
    const query: Record<string, string> = {};
    for (const [k, v] of new URL(target, 'http://localhost').searchParams) query[k] = v;
    if (streams.length > 0) query.streams = streams.join('/');
    const event = {
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
      requestContext: requestContext(conn, '$connect', 'CONNECT'),
      isBase64Encoded: false,
    };
    invoke('$connect', () => opts.connect(event, lambdaContext('cirrus-local-ws-connect', '256')))
      .then((result) => {
        const status = statusOf(result);
        if (status < 200 || status > 299) {
          socket.end(`HTTP/1.1 ${status === 401 || status === 403 ? status : 400} Refused\r\n\r\n`);
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const c: Connection = {
            ...conn,
            socket: ws,
            lastActiveAt: Date.now(),
            queue: Promise.resolve(),
            timers: [],
          };
          connections.set(c.id, c);
          const idle = () => {
            const left = c.lastActiveAt + (opts.idleTimeoutMs ?? IDLE_MS) - Date.now();
            if (left <= 0) ws.close(1001, 'Going away');
            else c.timers[0] = setTimeout(idle, left);
          };
          c.timers[0] = setTimeout(idle, opts.idleTimeoutMs ?? IDLE_MS);
          c.timers[1] = setTimeout(() => ws.close(1001, 'Going away'), opts.maxConnectionMs ?? MAX_MS);
          ws.on('message', (data, isBinary) => {
            c.lastActiveAt = Date.now();
            const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data);
            c.queue = c.queue.then(() => onMessage(c, text));
          });
          ws.on('close', (code, reason) => disconnect(c, code, reason.toString()));
          ws.on('error', () => ws.terminate());
        });
      })
      .catch((err: unknown) => {
        opts.log?.(`ws api       $connect failed: ${String(err)}`);
        socket.end('HTTP/1.1 500 Internal Server Error\r\n\r\n');
      });
  });

  // --- management API (the callback URL) -----------------------------------------------------------------
  const management = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The path as sent (the SDK sends no query string here): no URL object per post.
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      const at = path.indexOf('/@connections/');
      const answer = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      if (at < 0) return answer(404, { message: 'Not Found' });
      const id = decodeURIComponent(path.slice(at + '/@connections/'.length));
      const conn = connections.get(id);
      if (!conn || conn.socket.readyState !== WebSocket.OPEN) {
        res.setHeader('x-amzn-errortype', 'GoneException');
        return answer(410, { message: 'Gone' });
      }
      if (req.method === 'POST') {
        const body = Buffer.concat(chunks);
        if (body.length > MAX_MESSAGE_BYTES) return answer(413, { message: 'Payload Too Large' });
        // A text frame of the posted bytes as they are (no decoding and re-encoding).
        conn.socket.send(body, { binary: false });
        return answer(200);
      }
      if (req.method === 'GET')
        return answer(200, {
          connectedAt: new Date(conn.connectedAt).toISOString(),
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
          identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
        });
      if (req.method === 'DELETE') {
        conn.socket.close(1000, 'Connection deleted');
        return answer(204);
      }
      return answer(405, { message: 'Method Not Allowed' });
    });
  });

  const listen = (srv: Server, port: number, what: string) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE' ? `port ${port} for the ${what} is already in use` : err.message,
          ),
        ),
      );
      srv.listen(port, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
    });
  publicPort = await listen(server, opts.port ?? 8081, 'WebSocket API');
  try {
    managementPort = await listen(management, opts.managementPort ?? 0, 'WebSocket management API');
  } catch (err) {
    server.close();
    throw err;
  }

  return {
    url: `ws://127.0.0.1:${publicPort}`,
    callbackUrl: `http://127.0.0.1:${managementPort}/${stage}`,
    size: () => connections.size,
    async stop() {
      for (const conn of [...connections.values()]) {
        conn.socket.terminate();
        disconnect(conn, 1001, 'Going away');
      }
      wss.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...disconnecting]),
        new Promise((r) => (timer = setTimeout(r, 5_000))),
      ]);
      clearTimeout(timer);
      await Promise.all(
        [server, management].map(
          (srv) =>
            new Promise<void>((resolve) => {
              srv.closeAllConnections();
              srv.close(() => resolve());
            }),
        ),
      );
    },
  };
}
