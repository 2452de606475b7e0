// The local API Gateway WebSocket stand-in on its own, with recording handlers: the events it builds (route keys,
// event types, connection id, domain, stage, Binance paths), a refused $connect, the route response, API
// Gateway's idle limit, and the management API through the unmodified SDK.
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import { startWebSocketApi, streamsOfPath, type LocalWebSocketApi } from '@local/apigw/websocket';

type Event = {
  requestContext: Record<string, unknown>;
  body?: string;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
};

const events: Event[] = [];
let api: LocalWebSocketApi;

beforeAll(async () => {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  api = await startWebSocketApi({
    port: 0,
    idleTimeoutMs: 300,
    connect: async (e) => {
      events.push(e as Event);
      return { statusCode: (e as Event).headers?.['x-refuse'] ? 403 : 200 };
    },
    disconnect: async (e) => void events.push(e as Event),
    messages: async (e) => {
      events.push(e as Event);
      return { statusCode: 200, body: JSON.stringify({ echo: (e as Event).body }) };
    },
  });
});

afterAll(async () => {
  await api?.stop();
});

const open = (path: string, headers: Record<string, string> = {}) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${api.url}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
const nextMessage = (ws: WebSocket) => new Promise<string>((r) => ws.once('message', (d) => r(String(d))));

describe('local API Gateway WebSocket stand-in', () => {
  it('names the streams of Binance paths', () => {
    expect(streamsOfPath('/ws/btcusdt@trade/btcusdt@depth')).toEqual({
      streams: ['btcusdt@trade', 'btcusdt@depth'],
      combined: false,
    });
    expect(streamsOfPath('/stream?streams=btcusdt@trade/ethusdt@depth@100ms')).toEqual({
      streams: ['btcusdt@trade', 'ethusdt@depth@100ms'],
      combined: true,
    });
    expect(streamsOfPath('/ws')).toEqual({ streams: [], combined: false });
  });

  it('builds $connect / message / $disconnect events as API Gateway does; the route response goes back', async () => {
    events.length = 0;
    const ws = await open('/stream?streams=btcusdt@trade', { 'X-Cirrus-Ws-Path': '/forged' });
    const [connect] = events;
    const id = connect.requestContext.connectionId as string;
    expect(connect.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      stage: 'local',
      domainName: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      connectionId: expect.stringMatching(/^[A-Za-z0-9=]{16}$/),
      apiId: 'local',
      identity: { sourceIp: '127.0.0.1', userAgent: '' },
    });
    // The edge's header replaces the client's own value.
    expect(connect.headers?.['X-Cirrus-Ws-Path']).toBe('/stream?streams=btcusdt@trade');
    expect(connect.queryStringParameters).toEqual({ streams: 'btcusdt@trade' });

    const reply = nextMessage(ws);
    ws.send('{"method":"SUBSCRIBE","params":["x"],"id":1}');
    expect(JSON.parse(await reply)).toEqual({ echo: '{"method":"SUBSCRIBE","params":["x"],"id":1}' });
    const other = nextMessage(ws);
    ws.send('not json');
    await other;
    expect(events.slice(1).map((e) => [e.requestContext.routeKey, e.requestContext.eventType])).toEqual([
      ['SUBSCRIBE', 'MESSAGE'],
      ['$default', 'MESSAGE'],
    ]);
    expect(events[1].requestContext.connectionId).toBe(id);

    ws.close(1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(events[3].requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: id,
      disconnectStatusCode: 1000,
    });
    expect(api.size()).toBe(0);
  });

  it('refuses the upgrade when $connect answers non-2xx', async () => {
    await expect(open('/ws', { 'x-refuse': '1' })).rejects.toThrow(/403/);
    await expect(open('/elsewhere')).rejects.toThrow(/404/);
  });

  it("closes an idle connection (API Gateway's 10 minutes, 300 ms here) and the SDK then gets GoneException", async () => {
    events.length = 0;
    const ws = await open('/ws');
    const id = events[0].requestContext.connectionId as string;
    const sdk = new ApiGatewayManagementApiClient({ endpoint: api.callbackUrl });
    const frame = nextMessage(ws);
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{"a":1}') }),
    );
    expect(await frame).toBe('{"a":1}');
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(1001);
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{}') })),
    ).rejects.toBeInstanceOf(GoneException);
    sdk.destroy();
  });
});
