// Market streams end to end on the local exchange: a `ws` client on the local API Gateway WebSocket stand-in
// (the $connect / $default / $disconnect handler modules CDK deploys), orders placed over REST, and the frames
// the fan-out consumer posts through the unmodified ApiGatewayManagementApi client, checked exactly
// (Binance's web-socket-streams.md payloads); bad control messages get Binance's error objects and the
// connection keeps working; the diff-depth ids agree with /api/v3/depth.
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '@lambdas/shared/clients';
import { ConnectionStore } from '@lambdas/ws/connection-store';
import type { ApiKey } from '../support/binance-client';
import { eventually, startTestExchange, type TestExchange } from '../support/exchange-helpers';

jest.setTimeout(60_000);

/** A WebSocket client that keeps every frame and waits for the ones a test expects. */
class Client {
  readonly frames: unknown[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const w of this.waiters) w();
    });
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** The first frame (after those already taken) matching `match`; removes it. */
  take<T = Record<string, unknown>>(
    match: (f: Record<string, unknown>) => boolean,
    timeoutMs = 15_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.frames.findIndex(
          (f) => typeof f === 'object' && f !== null && match(f as Record<string, unknown>),
        );
        if (i < 0) return false;
        const [f] = this.frames.splice(i, 1);
        this.waiters = this.waiters.filter((w) => w !== onFrame);
        clearTimeout(timer);
        resolve(f as T);
        return true;
      };
      const onFrame = () => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onFrame);
        reject(new Error(`no matching frame in ${timeoutMs} ms; have ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(onFrame);
    });
  }

  async request(body: string | object, id?: unknown): Promise<Record<string, unknown>> {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
    return this.take((f) => ('result' in f || 'error' in f) && (id === undefined || f.id === id));
  }

  close() {
    this.ws.close();
  }
}

let t: TestExchange;
let api: TestExchange['api'];
let alice: ApiKey;
let bob: ApiKey;

beforeAll(async () => {
  t = await startTestExchange(1_000);
  ({ api, alice, bob } = t);
});

afterAll(async () => {
  await t?.stop();
});

const order = (key: ApiKey, side: 'BUY' | 'SELL', quantity: string, price: string) =>
  api.signed<{ status: string; orderId: number }>('POST', '/api/v3/order', key, {
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity,
    price,
    newOrderRespType: 'RESULT',
  });

const depth = async () =>
  (
    await api.public<{ lastUpdateId: number; bids: string[][]; asks: string[][] }>('GET', '/api/v3/depth', {
      symbol: 'BTCUSDT',
    })
  ).body;

describe('WebSocket market streams', () => {
  it('SUBSCRIBE, then trade / depth / bookTicker / kline frames exactly as Binance sends them', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws`);
    const streams = ['btcusdt@trade', 'btcusdt@depth', 'btcusdt@bookTicker', 'btcusdt@kline_1m'];
    expect(await c.request({ method: 'SUBSCRIBE', params: streams, id: 1 }, 1)).toEqual({
      result: null,
      id: 1,
    });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 }, 2)).toEqual({
      result: [...streams].sort(),
      id: 2,
    });

    const before = await depth();
    expect((await order(bob, 'SELL', '0.01000', '30000.00')).status).toBe(200);
    const d1 = await c.take<Record<string, unknown>>((f) => f.e === 'depthUpdate');
    expect(d1).toEqual({
      e: 'depthUpdate',
      E: expect.any(Number),
      s: 'BTCUSDT',
      U: before.lastUpdateId + 1,
      u: expect.any(Number),
      b: [],
      a: [['30000.00000000', '0.01000000']],
    });
    const bt1 = await c.take((f) => f.s === 'BTCUSDT' && 'A' in f && !('e' in f));
    expect(bt1).toEqual({
      u: d1.u,
      s: 'BTCUSDT',
      b: '0.00000000',
      B: '0.00000000',
      a: '30000.00000000',
      A: '0.01000000',
    });

    const buy = await order(alice, 'BUY', '0.00400', '30000.00');
    expect(buy.body.status).toBe('FILLED');
    const trade = await c.take<Record<string, unknown>>((f) => f.e === 'trade');
    expect(trade).toEqual({
      e: 'trade',
      E: expect.any(Number),
      s: 'BTCUSDT',
      t: 1,
      p: '30000.00000000',
      q: '0.00400000',
      T: expect.any(Number),
      m: false,
      M: true,
    });
    await eventually(async () => {
      const [last] = (
        await api.public<Array<{ id: number; time: number }>>('GET', '/api/v3/trades', {
          symbol: 'BTCUSDT',
          limit: 1,
        })
      ).body;
      expect(last).toMatchObject({ id: 1, time: trade.T });
    });

    const d2 = await c.take<Record<string, unknown>>((f) => f.e === 'depthUpdate');
    expect(d2).toMatchObject({ U: (d1.u as number) + 1, b: [], a: [['30000.00000000', '0.00600000']] });
    expect(await c.take((f) => 'A' in f && !('e' in f))).toEqual({
      u: d2.u,
      s: 'BTCUSDT',
      b: '0.00000000',
      B: '0.00000000',
      a: '30000.00000000',
      A: '0.00600000',
    });
    const kline = await c.take<{ e: string; k: Record<string, unknown> }>((f) => f.e === 'kline');
    const openTime = Math.floor((trade.T as number) / 60_000) * 60_000;
    expect(kline).toEqual({
      e: 'kline',
      E: expect.any(Number),
      s: 'BTCUSDT',
      k: {
        t: openTime,
        T: openTime + 59_999,
        s: 'BTCUSDT',
        i: '1m',
        f: 1,
        L: 1,
        o: '30000.00000000',
        c: '30000.00000000',
        h: '30000.00000000',
        l: '30000.00000000',
        v: '0.00400000',
        n: 1,
        x: false,
        q: '120.00000000',
        V: '0.00400000',
        Q: '120.00000000',
        B: '0',
      },
    });
    // /api/v3/depth reaches the last diff's u with the same book.
    await eventually(async () => {
      expect(await depth()).toEqual({
        lastUpdateId: d2.u,
        bids: [],
        asks: [['30000.00000000', '0.00600000']],
      });
    });

    // UNSUBSCRIBE stops the trade frames; the others continue.
    expect(await c.request({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 'u-1' }, 'u-1')).toEqual({
      result: null,
      id: 'u-1',
    });
    await order(alice, 'BUY', '0.00100', '30000.00');
    const d3 = await c.take<Record<string, unknown>>((f) => f.e === 'depthUpdate');
    expect(d3).toMatchObject({ U: (d2.u as number) + 1, a: [['30000.00000000', '0.00500000']] });
    await c.take((f) => f.e === 'kline');
    expect(c.frames.filter((f) => (f as { e?: string }).e === 'trade')).toEqual([]);
    c.close();
  });

  it('combined streams from the path: /stream?streams=… wraps frames as {stream, data}; /ws/<stream> raw', async () => {
    const combined = await Client.open(`${t.ex.wsUrl}/stream?streams=btcusdt@depth@100ms/btcusdt@trade`);
    const raw = await Client.open(`${t.ex.wsUrl}/ws/btcusdt@trade`);
    expect(await combined.request({ method: 'LIST_SUBSCRIPTIONS', id: 7 }, 7)).toEqual({
      result: ['btcusdt@depth@100ms', 'btcusdt@trade'],
      id: 7,
    });
    expect(await combined.request({ method: 'GET_PROPERTY', params: ['combined'], id: 8 }, 8)).toEqual({
      result: true,
      id: 8,
    });
    expect(await raw.request({ method: 'LIST_SUBSCRIPTIONS', id: 9 }, 9)).toEqual({
      result: ['btcusdt@trade'],
      id: 9,
    });

    await order(alice, 'BUY', '0.00200', '30000.00');
    const wrapped = await combined.take<{ stream: string; data: Record<string, unknown> }>(
      (f) => f.stream === 'btcusdt@trade',
    );
    expect(wrapped.data).toMatchObject({
      e: 'trade',
      s: 'BTCUSDT',
      p: '30000.00000000',
      q: '0.00200000',
      m: false,
    });
    const diff = await combined.take<{ stream: string; data: Record<string, unknown> }>(
      (f) => f.stream === 'btcusdt@depth@100ms',
    );
    expect(diff.data).toMatchObject({
      e: 'depthUpdate',
      s: 'BTCUSDT',
      a: [['30000.00000000', '0.00300000']],
    });
    expect(await raw.take((f) => f.e === 'trade')).toEqual(wrapped.data);
    combined.close();
    raw.close();
  });

  it('ticker and miniTicker: the 24 h window after each batch with trades, as /api/v3/ticker/24hr answers it', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws/btcusdt@ticker/btcusdt@miniTicker`);
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 1 }, 1)).toEqual({
      result: ['btcusdt@miniTicker', 'btcusdt@ticker'],
      id: 1,
    });
    await order(bob, 'BUY', '0.00100', '29000.00');
    await order(alice, 'BUY', '0.00100', '30000.00');
    const full = await c.take<Record<string, unknown>>((f) => f.e === '24hrTicker');
    const mini = await c.take<Record<string, unknown>>((f) => f.e === '24hrMiniTicker');
    const rest = (
      await api.public<Record<string, string | number>>('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT' })
    ).body;
    expect(full).toEqual({
      e: '24hrTicker',
      E: expect.any(Number),
      s: 'BTCUSDT',
      p: rest.priceChange,
      P: rest.priceChangePercent,
      w: rest.weightedAvgPrice,
      x: rest.prevClosePrice,
      c: rest.lastPrice,
      Q: '0.00100000',
      b: rest.bidPrice,
      B: rest.bidQty,
      a: rest.askPrice,
      A: rest.askQty,
      o: rest.openPrice,
      h: rest.highPrice,
      l: rest.lowPrice,
      v: rest.volume,
      q: rest.quoteVolume,
      O: expect.any(Number),
      C: expect.any(Number),
      F: rest.firstId,
      L: rest.lastId,
      n: rest.count,
    });
    expect(full.c).toBe('30000.00000000');
    expect(full.b).toBe('29000.00000000');
    expect(mini).toEqual({
      e: '24hrMiniTicker',
      E: full.E,
      s: 'BTCUSDT',
      c: full.c,
      o: full.o,
      h: full.h,
      l: full.l,
      v: full.v,
      q: full.q,
    });
    c.close();
  });

  it('an oversized frame, a thousand SUBSCRIBEs on one connection, too many streams: clear errors, it keeps working', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws`);
    // 100 KB: API Gateway carries frames up to 128 KB, a control message may be at most 64 KB.
    const big = JSON.stringify({
      method: 'SUBSCRIBE',
      params: ['btcusdt@trade'],
      id: 1,
      pad: 'x'.repeat(100_000),
    });
    expect(await c.request(big)).toEqual({
      error: { code: 2, msg: 'Invalid request: message too large (at most 65536 bytes)' },
      id: null,
    });
    // A thousand SUBSCRIBE requests sent at once: every one answered, in order, by its id.
    const streams = ['btcusdt@trade', 'btcusdt@depth', 'ethusdt@trade', 'btcusdt@kline_1m'];
    for (let i = 0; i < 1000; i++)
      c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [streams[i % streams.length]], id: 100 + i }));
    const answers: unknown[] = [];
    for (let i = 0; i < 1000; i++) answers.push((await c.take((f) => f.id === 100 + i, 60_000)).result);
    expect(answers).toEqual(Array.from({ length: 1000 }, () => null));
    expect(((await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 }, 2)).result as string[]).sort()).toEqual(
      [...streams].sort(),
    );
    // More streams than a connection may hold (1,024) in one request: refused, nothing more subscribed.
    const many = Array.from({ length: 1025 }, (_, i) => `btcusdt@kline_${['1m', '5m'][i % 2]}`);
    expect(await c.request({ method: 'SUBSCRIBE', params: many, id: 3 }, 3)).toEqual({
      error: { code: 2, msg: 'Invalid request: too many parameters' },
      id: 3,
    });
    // The connection and the service still work: a trade arrives on the subscription.
    await order(alice, 'BUY', '0.00100', '30000.00');
    await order(bob, 'SELL', '0.00100', '30000.00');
    expect(await c.take((f) => f.e === 'trade')).toMatchObject({ e: 'trade', q: '0.00100000' });
    c.close();
  });

  it("bad input gets Binance's error objects and the connection keeps working", async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws`);
    expect(await c.request('{"method": "SUBSCRIBE", ')).toEqual({
      error: { code: 3, msg: expect.stringMatching(/^Invalid JSON: expected value at line 1 column \d+$/) },
      id: null,
    });
    expect(await c.request({ method: 'FOO', params: [], id: 3 }, 3)).toEqual({
      error: {
        code: 2,
        msg: expect.stringMatching(
          /^Invalid request: unknown variant `FOO`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column \d+$/,
        ),
      },
      id: 3,
    });
    expect(await c.request({ params: ['btcusdt@trade'], id: 4 }, 4)).toEqual({
      error: {
        code: 2,
        msg: expect.stringMatching(/^Invalid request: missing field `method` at line 1 column \d+$/),
      },
      id: 4,
    });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@nonsense'], id: 5 }, 5)).toEqual({
      error: { code: 2, msg: 'Invalid request: unknown stream `btcusdt@nonsense`' },
      id: 5,
    });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['dogeusdt@trade'], id: 6 }, 6)).toMatchObject({
      error: { code: 2 },
      id: 6,
    });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: { x: 1 } })).toEqual({
      error: { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' },
      id: null,
    });
    expect(await c.request({ method: 'GET_PROPERTY', params: ['colour'], id: 10 }, 10)).toEqual({
      error: { code: 0, msg: 'Unknown property' },
      id: 10,
    });
    expect(await c.request({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 11 }, 11)).toEqual({
      error: { code: 1, msg: 'Invalid value type: expected Boolean' },
      id: 11,
    });
    // Still working: nothing was subscribed by the refused requests, a good one succeeds.
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 12 }, 12)).toEqual({ result: [], id: 12 });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 13 }, 13)).toEqual({
      result: null,
      id: 13,
    });
    await order(alice, 'BUY', '0.00100', '30000.00');
    expect(await c.take((f) => f.e === 'trade')).toMatchObject({ e: 'trade', q: '0.00100000' });
    c.close();
  });

  it('management API: the unmodified SDK posts to a live connection, reads and deletes it; a gone one is GoneException', async () => {
    const store = new ConnectionStore(dynamoClient(), process.env[TABLES.connections.envVar]!);
    const before = new Set((await store.subscribers('ethusdt@trade')).map((s) => s.connectionId));
    const c = await Client.open(`${t.ex.wsUrl}/ws/ethusdt@trade`);
    let id = '';
    await eventually(async () => {
      const subs = (await store.subscribers('ethusdt@trade')).filter((s) => !before.has(s.connectionId));
      expect(subs).toHaveLength(1);
      id = subs[0].connectionId;
    });
    const mgmt = new ApiGatewayManagementApiClient({ endpoint: process.env.WS_CALLBACK_URL });
    await mgmt.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{"hello":1}') }),
    );
    expect(await c.take((f) => f.hello === 1)).toEqual({ hello: 1 });
    const info = await mgmt.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    const closed = new Promise((r) => c.ws.once('close', r));
    await mgmt.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await closed;
    await expect(
      mgmt.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{}') })),
    ).rejects.toBeInstanceOf(GoneException);
    // $disconnect removed its subscription.
    await eventually(async () => {
      expect((await store.subscribers('ethusdt@trade')).map((s) => s.connectionId)).not.toContain(id);
    });
    mgmt.destroy();
  });
});

describe('WebSocket market streams: aggTrade, partial depth, all-market tickers', () => {
  const send = (
    key: ApiKey,
    symbol: string,
    side: 'BUY' | 'SELL',
    quantity: string,
    price: string,
    tif = 'GTC',
  ) =>
    api.signed<{ status: string; orderId: number }>('POST', '/api/v3/order', key, {
      symbol,
      side,
      type: 'LIMIT',
      timeInForce: tif,
      quantity,
      price,
      newOrderRespType: 'RESULT',
    });

  it('aggTrade: one frame per taker order and price, exactly the aggregates /api/v3/aggTrades answers', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws`);
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 }, 1)).toEqual({
      result: null,
      id: 1,
    });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 }, 2)).toEqual({
      result: ['btcusdt@aggTrade'],
      id: 2,
    });
    // Two makers at 31000.00 and one at 31010.00; one IOC taker sweeps them (and whatever rests below).
    for (const [qty, price] of [
      ['0.00100', '31000.00'],
      ['0.00200', '31000.00'],
      ['0.00100', '31010.00'],
    ])
      expect((await send(bob, 'BTCUSDT', 'SELL', qty, price)).status).toBe(200);
    const taker = await send(alice, 'BTCUSDT', 'BUY', '0.01000', '31010.00', 'IOC');
    expect(taker.status).toBe(200);

    const frames: Array<Record<string, unknown>> = [];
    do frames.push(await c.take((f) => f.e === 'aggTrade'));
    while (frames[frames.length - 1].p !== '31010.00000000');
    const at31000 = frames.find((f) => f.p === '31000.00000000')!;
    expect(at31000).toMatchObject({ q: '0.00300000', l: (at31000.f as number) + 1, m: false, M: true });
    expect(frames.slice(-1)[0]).toMatchObject({ q: '0.00100000', f: (at31000.l as number) + 1 });
    for (const f of frames)
      expect(f).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT', a: f.f, E: expect.any(Number) });
    await eventually(async () => {
      const rest = (
        await api.public<unknown[]>('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', limit: frames.length })
      ).body;
      expect(rest).toEqual(frames.map(({ a, p, q, f, l, T, m, M }) => ({ a, p, q, f, l, T, m, M })));
    });
    expect(c.frames.filter((f) => (f as { e?: string }).e === 'aggTrade')).toEqual([]);
    c.close();
  });

  it('depth5 / depth10@100ms: the top of the book at a lastUpdateId, as /api/v3/depth?limit=5 / 10 answers there', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/stream?streams=btcusdt@depth5`);
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@depth10@100ms'], id: 1 }, 1)).toEqual({
      result: null,
      id: 1,
    });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 }, 2)).toEqual({
      result: ['btcusdt@depth10@100ms', 'btcusdt@depth5'],
      id: 2,
    });
    // Seven levels a side, more than depth5 shows.
    for (let i = 0; i < 7; i++) {
      expect((await send(bob, 'BTCUSDT', 'SELL', '0.00100', `${32_000 + 100 * i}.00`)).status).toBe(200);
      expect((await send(alice, 'BTCUSDT', 'BUY', `0.00${i + 1}00`, `${27_000 + 100 * i}.00`)).status).toBe(
        200,
      );
    }
    const book = async (limit: number) =>
      (
        await api.public<{ lastUpdateId: number; bids: string[][]; asks: string[][] }>(
          'GET',
          '/api/v3/depth',
          {
            symbol: 'BTCUSDT',
            limit,
          },
        )
      ).body;
    const last = (stream: string) =>
      (c.frames as Array<{ stream?: string; data: { lastUpdateId: number } }>)
        .filter((f) => f.stream === stream)
        .map((f) => f.data);
    await eventually(async () => {
      const [five, ten] = await Promise.all([book(5), book(10)]);
      expect(five.lastUpdateId).toBe(ten.lastUpdateId);
      expect(five.bids).toHaveLength(5);
      expect(ten.asks.length).toBeGreaterThanOrEqual(7);
      expect(last('btcusdt@depth5').slice(-1)[0]).toEqual(five);
      expect(last('btcusdt@depth10@100ms').slice(-1)[0]).toEqual(ten);
    });
    expect(last('btcusdt@depth5')[0]).toEqual({
      lastUpdateId: expect.any(Number),
      bids: expect.any(Array),
      asks: expect.any(Array),
    });
    const ids = last('btcusdt@depth5').map((f) => f.lastUpdateId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    c.close();
  });

  it('!ticker@arr / !miniTicker@arr: arrays of the markets that traded, as /api/v3/ticker/24hr answers each', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/stream?streams=!ticker@arr/!miniTicker@arr`);
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 1 }, 1)).toEqual({
      result: ['!miniTicker@arr', '!ticker@arr'],
      id: 1,
    });
    expect((await send(bob, 'BTCUSDT', 'SELL', '0.00100', '31500.00')).status).toBe(200);
    expect((await send(alice, 'BTCUSDT', 'BUY', '0.00100', '31500.00')).body.status).toBe('FILLED');
    expect((await send(bob, 'ETHUSDT', 'SELL', '0.0100', '2000.00')).status).toBe(200);
    expect((await send(alice, 'ETHUSDT', 'BUY', '0.0100', '2000.00')).body.status).toBe('FILLED');

    // The latest payload of each market on each stream, once both markets have been seen on both.
    const latest = { '!ticker@arr': new Map(), '!miniTicker@arr': new Map() } as Record<
      string,
      Map<string, Record<string, unknown>>
    >;
    while (Object.values(latest).some((m) => m.size < 2 || m.get('ETHUSDT')?.c !== '2000.00000000')) {
      const frame = await c.take<{ stream: string; data: Array<Record<string, unknown>> }>(
        (f) => typeof f.stream === 'string' && f.stream.startsWith('!'),
      );
      expect(Array.isArray(frame.data)).toBe(true);
      expect(new Set(frame.data.map((p) => p.s)).size).toBe(frame.data.length);
      for (const p of frame.data) {
        expect(p.e).toBe(frame.stream === '!ticker@arr' ? '24hrTicker' : '24hrMiniTicker');
        latest[frame.stream].set(p.s as string, p);
      }
    }
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const rest = (
        await api.public<Record<string, string | number>>('GET', '/api/v3/ticker/24hr', { symbol })
      ).body;
      const full = latest['!ticker@arr'].get(symbol)!;
      expect(full).toEqual({
        e: '24hrTicker',
        E: expect.any(Number),
        s: symbol,
        p: rest.priceChange,
        P: rest.priceChangePercent,
        w: rest.weightedAvgPrice,
        x: rest.prevClosePrice,
        c: rest.lastPrice,
        Q: rest.lastQty,
        b: rest.bidPrice,
        B: rest.bidQty,
        a: rest.askPrice,
        A: rest.askQty,
        o: rest.openPrice,
        h: rest.highPrice,
        l: rest.lowPrice,
        v: rest.volume,
        q: rest.quoteVolume,
        O: expect.any(Number),
        C: expect.any(Number),
        F: rest.firstId,
        L: rest.lastId,
        n: rest.count,
      });
      expect(latest['!miniTicker@arr'].get(symbol)).toEqual({
        e: '24hrMiniTicker',
        E: expect.any(Number),
        s: symbol,
        c: rest.lastPrice,
        o: rest.openPrice,
        h: rest.highPrice,
        l: rest.lowPrice,
        v: rest.volume,
        q: rest.quoteVolume,
      });
    }
    expect(latest['!ticker@arr'].get('ETHUSDT')).toMatchObject({ c: '2000.00000000', Q: '0.01000000' });
    c.close();
  });

  it('malformed variants of the new names are refused with Binance’s error; nothing is subscribed', async () => {
    const c = await Client.open(`${t.ex.wsUrl}/ws`);
    const bad = [
      'btcusdt@depth15',
      'btcusdt@depth5@1000ms',
      'btcusdt@aggtrade',
      'BTCUSDT@aggTrade',
      '!ticker@ARR',
      '!miniticker@arr',
      '!bookTicker',
    ];
    for (const [i, stream] of bad.entries())
      expect(
        await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', stream], id: i }, i),
      ).toEqual({
        error: { code: 2, msg: `Invalid request: unknown stream \`${stream}\`` },
        id: i,
      });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 99 }, 99)).toEqual({ result: [], id: 99 });
    c.close();
  });
});
