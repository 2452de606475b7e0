// A local API Gateway (REST, Lambda proxy integration): builds the same APIGatewayProxyEvent API Gateway
// sends, invokes the handler module CDK deploys, and writes its result back.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { loadReporter } from '@lambdas/shared/http/load-reporter';
import { overloaded } from '@lambdas/shared/http/load-shedding';
import { RAW_QUERY_HEADER } from '@lambdas/shared/http/request';

export interface LocalRoute {
  method: string;
  path: string;
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
}

export interface LocalRestApi {
  url: string;
  stop(): Promise<void>;
}

export function buildProxyEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { path: string },
  stage = 'local',
  receivedAt = Date.now(),
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    if (name.toLowerCase() === RAW_QUERY_HEADER) continue; // only the edge sets it, never the client
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  // What the edge (a Cloudflare Transform Rule in AWS) adds: the query string exactly as sent, which proxy
  // events do not carry, so signatures are checked over the client's own bytes.
  const target = req.url ?? '/';
  const rawQuery = target.includes('?') ? target.slice(target.indexOf('?') + 1).split('#')[0] : '';
  headers['X-Cirrus-Raw-Query'] = rawQuery;
  multiValueHeaders['X-Cirrus-Raw-Query'] = [rawQuery];
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      path: `/${stage}${url.pathname}`,
      stage,
      requestId: randomUUID(),
      requestTimeEpoch: receivedAt,
      resourceId: 'local',
      resourcePath: route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

/** The Lambda context an invocation gets (the local API Gateways, REST and WebSocket, share it). */
export function lambdaContext(name: string, memoryLimitInMB = '512'): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
};

/**
 * The local stand-in for the account's concurrency limit and API Gateway's throttling
 * (docs/operations.md#overload-and-rate-limits): when this process is behind (event-loop delay) or holds
 * too many requests, a new request is refused at once with Binance's 503 / -1008 instead of waiting in a
 * queue until its recvWindow has passed.
 */
class Throttle {
  /** Delay of each of the last ticks (about one second of them). */
  private readonly lags: number[] = [];
  private inFlight = 0;
  private expected: number;
  private lastOverloadAt = -Infinity;
  /** When a tick last came later than maxLagMs: the process was starved of CPU, however briefly. */
  private lastLateTickAt = -Infinity;
  /**
   * A standing queue in front of this process (CoDel's signal): the youngest signed request of a whole
   * interval had already waited longer than QUEUE_TARGET_MS since its client signed it. One client with a late
   * clock cannot raise an interval's minimum while others' requests arrive fresh.
   */
  private intervalStart = performance.now();
  private intervalMinAgeMs = Infinity;
  private intervalSamples = 0;
  private intervalMaxInFlight = 0;
  private queuedSince = -Infinity;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxLagMs: number,
    tickMs = 50,
  ) {
    this.expected = performance.now() + tickMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - this.expected);
      if (lag > this.maxLagMs) this.lastLateTickAt = now;
      this.lags.push(lag);
      if (this.lags.length > Math.ceil(1_000 / tickMs)) this.lags.shift();
      this.expected = now + tickMs;
    }, tickMs);
    this.timer.unref();
  }

  /**
   * Whether this process (the gateway or the order admission) refused work in the last few seconds, was
   * starved of CPU in them (a machine shared with other busy processes: requests then wait in the kernel's
   * queues while this process does not run), or holds requests while new connections wait in the kernel's
   * accept queue.
   */
  recentlyOverloaded(): boolean {
    return (
      this.standingQueue() ||
      performance.now() - this.lastOverloadAt < 10_000 ||
      performance.now() - this.lastLateTickAt < 10_000 ||
      Date.now() - loadReporter.lastShedAt < 10_000 ||
      this.inFlight >= 2 // another request besides this one
    );
  }

  /** Records how long a signed request waited between its client's timestamp and this process reading it. */
  noteAge(ageMs: number): void {
    const now = performance.now();
    if (now - this.intervalStart >= QUEUE_INTERVAL_MS) {
      // Busy as well (several requests held at once): a lone client whose clock runs late sends old
      // timestamps too, one request at a time, and is answered -1021 by the handler, not refused here.
      if (
        this.intervalSamples >= 5 &&
        this.intervalMaxInFlight >= 4 &&
        this.intervalMinAgeMs > QUEUE_TARGET_MS
      )
        this.queuedSince = now;
      this.intervalStart = now;
      this.intervalMinAgeMs = Infinity;
      this.intervalSamples = 0;
      this.intervalMaxInFlight = 0;
    }
    this.intervalMinAgeMs = Math.min(this.intervalMinAgeMs, ageMs);
    this.intervalSamples++;
    this.intervalMaxInFlight = Math.max(this.intervalMaxInFlight, this.inFlight);
  }

  /** Recently expired requests by API key (at most a few dozen keys, pruned as they age). */
  private readonly expiredAt = new Map<string, number>();

  /** Records an expired request of `apiKey`; whether another key's request expired in the last 2 s. */
  noteExpired(apiKey: string): boolean {
    const now = performance.now();
    for (const [key, at] of this.expiredAt) if (now - at > 2_000) this.expiredAt.delete(key);
    const others = [...this.expiredAt.keys()].some((key) => key !== apiKey);
    if (this.expiredAt.size < 64 || this.expiredAt.has(apiKey)) this.expiredAt.set(apiKey, now);
    return others;
  }

  /** A standing queue was seen in the last two intervals: requests that waited in it are refused. */
  standingQueue(): boolean {
    return performance.now() - this.queuedSince < 2 * QUEUE_INTERVAL_MS;
  }

  tryEnter(): boolean {
    // Behind for a whole second (every recent tick late: not one GC pause), or stuck in the current turn of
    // the event loop for four times that bound.
    const sustained = this.lags.length > 0 ? Math.min(...this.lags) : 0;
    const current = performance.now() - this.expected;
    if (this.inFlight >= this.maxInFlight || sustained > this.maxLagMs || current > 4 * this.maxLagMs) {
      this.lastOverloadAt = performance.now();
      return false;
    }
    this.inFlight++;
    return true;
  }

  leave(): void {
    this.inFlight--;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CoDel's interval and target for the standing-queue signal (Throttle.noteAge). */
const QUEUE_INTERVAL_MS = 500;
const QUEUE_TARGET_MS = 1_000;

/** A signed request's age (now − its timestamp) and recvWindow, or undefined for an unsigned one. */
function signedAge(
  req: IncomingMessage,
  params: URLSearchParams,
  body: Buffer,
): { ageMs: number; recvWindow: number } | undefined {
  const form = (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : undefined;
  const timestamp = Number(params.get('timestamp') ?? form?.get('timestamp'));
  const recvWindow = Number(params.get('recvWindow') ?? form?.get('recvWindow') ?? 5_000);
  if (!Number.isFinite(timestamp) || timestamp <= 0 || !Number.isFinite(recvWindow)) return undefined;
  return { ageMs: Date.now() - timestamp, recvWindow };
}

/** The handlers' own overload answer (lambdas/shared/http/load-shedding.ts), given by the gateway. */
function refuseOverloaded(res: ServerResponse): void {
  const err = overloaded();
  json(res, err.statusCode, err.toJSON(), err.headers);
}

export async function startRestApi(opts: {
  port: number;
  routes: LocalRoute[];
  log?: (line: string) => void;
  /** Requests held at once before new ones are refused (default 512). */
  maxInFlight?: number;
  /** Event-loop delay past which new requests are refused (default 250 ms). */
  maxLagMs?: number;
}): Promise<LocalRestApi> {
  const table = new Map(opts.routes.map((r) => [`${r.method} ${r.path}`, r]));
  const throttle = new Throttle(opts.maxInFlight ?? 512, opts.maxLagMs ?? 250);
  let refused = 0;
  let lastReport = 0;
  const server: Server = createServer((req, res) => {
    if (!throttle.tryEnter()) {
      refused++;
      if (Date.now() - lastReport > 5_000) {
        opts.log?.(
          `rest api     overloaded: ${refused} requests refused with 503/-1008 (event loop behind or too many in flight)`,
        );
        lastReport = Date.now();
        refused = 0;
      }
      req.resume();
      return refuseOverloaded(res);
    }
    res.once('close', () => throttle.leave());
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = table.get(`${req.method} ${url.pathname}`);
      if (!route) return json(res, 404, { code: -1020, msg: 'This operation is not supported.' });
      const body = Buffer.concat(chunks);
      // A standing queue in front of the gateway (connections waiting in the kernel faster than this process
      // reads them): a request that waited in it past the target is refused as overloaded at once, which
      // drains the queue, rather than run late or answered -1021 when its recvWindow has gone.
      const signed = signedAge(req, url.searchParams, body);
      if (signed) {
        throttle.noteAge(signed.ageMs);
        if (throttle.standingQueue() && signed.ageMs > QUEUE_TARGET_MS) return refuseOverloaded(res);
        if (signed.ageMs > signed.recvWindow) {
          // Expired before this process read it. Ours to answer when this process was busy, or when another
          // client's request expired too just now (clients' clocks do not go wrong together; a queue in front
          // of this process delays everyone): 503. One client alone with a late clock: the handler's -1021.
          const otherClientsStale = throttle.noteExpired(String(req.headers['x-mbx-apikey'] ?? ''));
          if (throttle.recentlyOverloaded() || otherClientsStale) return refuseOverloaded(res);
        }
      }
      const event = buildProxyEvent(req, body, route, 'local', receivedAt);
      route
        .handler(event, lambdaContext(`cirrus-local${route.path.replace(/\//g, '-')}`))
        .then((result) => {
          const headers: Record<string, string | string[]> = {
            ...(result.headers as Record<string, string>),
          };
          for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
          res.writeHead(result.statusCode, headers);
          res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
        })
        .catch((err: unknown) => {
          // What API Gateway answers when the integration fails.
          opts.log?.(
            `handler for ${route.method} ${route.path} failed: ${err instanceof Error ? err.stack : String(err)}`,
          );
          json(res, 502, { message: 'Internal server error' });
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${opts.port} for the REST API is already in use (try --port)`
            : err.message,
        ),
      ),
    );
    // A deep accept queue (the kernel caps it at net.core.somaxconn): with Node's default of 511, a burst of
    // new connections while the process is busy overflows it, and the kernel drops their SYNs, which clients
    // resend after 1, 3 and 7 s; queued, they are answered (or refused as overloaded) as soon as possible.
    server.listen({ port: opts.port, host: '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        throttle.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
