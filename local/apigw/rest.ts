// A local API Gateway (REST, Lambda proxy integration): builds the same APIGatewayProxyEvent API Gateway
// sends, invokes the handler module CDK deploys, and writes its result back.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { RAW_QUERY_HEADER } from '../../lambdas/shared/http/request';

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
  const now = Date.now();
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
      requestTimeEpoch: now,
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

function lambdaContext(name: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
  res.end(JSON.stringify(body));
};

export async function startRestApi(opts: {
  port: number;
  routes: LocalRoute[];
  log?: (line: string) => void;
}): Promise<LocalRestApi> {
  const table = new Map(opts.routes.map((r) => [`${r.method} ${r.path}`, r]));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = table.get(`${req.method} ${path}`);
      if (!route) return json(res, 404, { code: -1020, msg: 'This operation is not supported.' });
      const event = buildProxyEvent(req, Buffer.concat(chunks), route);
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
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
