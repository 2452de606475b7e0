// User data streams against the local exchange: unmodified ccxt pro (binance, URLs moved as docs/api.md says)
// subscribes on the WebSocket API by signature and sees its own orders and fills through watchOrders and
// watchMyTrades, with the ledger's commissions; the listen-key flow (POST/PUT/DELETE /api/v3/userDataStream,
// `/ws/<listenKey>`) delivers each user only their own executionReports, refuses closed and expired keys, and
// ends a stream whose key was closed with listenKeyExpired; a deposit credited and a withdrawal requested and
// released reach the user's own stream, and no one else's, as balanceUpdate and outboundAccountPosition.
import { Worker } from 'node:worker_threads';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Pool } from 'pg';
import WebSocket from 'ws';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '@lambdas/shared/clients';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { sign, type ApiKey } from '../support/binance-client';
import { failWithdrawal, requestWithdrawal } from '../support/withdrawal-fixtures';
import {
  eventually,
  placeLimit,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

// ccxt's CommonJS build requires ES modules jest cannot load (ws-ccxt.test.ts): it runs in a worker thread.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const ccxt = require('ccxt');
let exchange;
const seen = { orders: [], trades: [], balance: null, errors: [] };
const loop = async (watch, onResult) => {
  while (exchange) {
    try { onResult(await watch()); }
    catch (err) { if (exchange) seen.errors.push(String(err && err.message)); await new Promise((r) => setTimeout(r, 200)); }
  }
};
parentPort.on('message', async ({ id, op, args }) => {
  try {
    let result = null;
    if (op === 'new') {
      const [rest, ws, apiKey, secret] = args;
      exchange = new ccxt.pro.binance({ apiKey, secret });
      const move = (urls) => Object.fromEntries(Object.entries(urls).map(([k, v]) => [k,
        typeof v === 'string' ? v.replace(/^https:\\/\\/[^/]+/, rest).replace(/^wss:\\/\\/[^/]+/, ws) : move(v)]));
      exchange.urls.api = move(exchange.urls.api);
      await exchange.loadHttpProxyAgent();
      await exchange.loadMarkets();
    } else if (op === 'watch') {
      void loop(() => exchange.watchOrders(), (orders) => {
        // ccxt may hand back an order again: one entry per execution (the report's I).
        for (const o of orders) if (!seen.orders.some((s) => s.I === o.info.I)) seen.orders.push({ id: o.id, status: o.status, filled: o.filled, clientOrderId: o.clientOrderId, x: o.info.x, I: o.info.I });
      });
      void loop(() => exchange.watchMyTrades(), (trades) => {
        for (const t of trades) if (!seen.trades.some((s) => s.id === t.id)) seen.trades.push({ id: t.id, order: t.order, price: t.info.L, amount: t.info.l, fee: t.fee, takerOrMaker: t.takerOrMaker });
      });
      void loop(() => exchange.watchBalance(), (b) => {
        seen.balance = { BTC: b.BTC && { free: b.BTC.free, used: b.BTC.used }, USDT: b.USDT && { free: b.USDT.free, used: b.USDT.used } };
      });
    } else if (op === 'seen') {
      result = seen;
    } else if (op === 'close') {
      const ex = exchange; exchange = undefined; await ex.close();
    }
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(result) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err && err.message) });
  }
});
`;

jest.setTimeout(90_000);

let t: TestExchange;
let worker: Worker;
let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, op, args });
  });
}

beforeAll(async () => {
  t = await startTestExchange(1_000);
  worker = new Worker(WORKER, { eval: true });
  worker.on('message', (m: { id: number; ok: boolean; result?: string; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(JSON.parse(m.result!));
    else p?.reject(new Error(m.error));
  });
});

afterAll(async () => {
  await call('close').catch(() => undefined);
  await worker?.terminate();
  await t?.stop();
});

const order = (key: ApiKey, side: 'BUY' | 'SELL', quantity: string, price: string) =>
  t.api.signed<{ orderId: number; clientOrderId: string }>('POST', '/api/v3/order', key, {
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity,
    price,
    newOrderRespType: 'ACK',
  });
const cancel = (key: ApiKey, orderId: number) =>
  t.api.signed('DELETE', '/api/v3/order', key, { symbol: 'BTCUSDT', orderId });

/** USER_STREAM: the API key header only. */
const userStream = <T>(method: string, key: ApiKey, listenKey?: string) =>
  t.api.raw<T>(method, `/api/v3/userDataStream${listenKey ? `?listenKey=${listenKey}` : ''}`, undefined, {
    'X-MBX-APIKEY': key.apiKey,
  });

/** A raw connection collecting every frame; `opened` rejects with the HTTP status of a refused upgrade. */
function listen(path: string) {
  const frames: Array<Record<string, unknown>> = [];
  const ws = new WebSocket(`${t.ex.wsUrl}${path}`);
  ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, frames, opened };
}

interface SeenOrder {
  id: string;
  status: string;
  filled: number;
  clientOrderId: string;
  x: string;
}
interface SeenTrade {
  id: string;
  order: string;
  price: string;
  amount: string;
  fee: { cost: number; currency: string };
  takerOrMaker: string;
}
interface Seen {
  orders: SeenOrder[];
  trades: SeenTrade[];
  balance: Record<'BTC' | 'USDT', { free: number; used: number } | undefined> | null;
  errors: string[];
}

describe('ccxt pro binance, unmodified: watchOrders, watchMyTrades and watchBalance', () => {
  it("sees its own orders' changes and fills with the ledger's commission, and never another user's", async () => {
    const { alice, bob } = t;
    await call('new', t.ex.restUrl.replace(/\/$/, ''), t.ex.wsUrl, alice.apiKey, alice.secretKey);
    await call('watch');
    // ccxt subscribes by signature on /ws-api/v3; wait until alice's connection is bound.
    await eventually(async () => {
      expect((await call<Seen>('seen')).errors).toEqual([]);
      const probe = await order(alice, 'BUY', '0.00100', '20000.00');
      await cancel(alice, probe.body.orderId);
      const seen = await call<Seen>('seen');
      expect(seen.orders.some((o) => o.id === String(probe.body.orderId))).toBe(true);
    }, 20_000);

    // Each step waits for alice's client to see the previous one: ccxt keeps the latest state per order id,
    // so two updates of one order that reach it before the loop reads them would show as one.
    const xsOf = async (orderId: string) =>
      (await call<Seen>('seen')).orders.filter((o) => o.id === orderId).map((o) => o.x);
    const resting = await order(alice, 'BUY', '0.02000', '30000.00');
    const id = String(resting.body.orderId);
    await eventually(async () => expect(await xsOf(id)).toEqual(['NEW']), 20_000);
    const bobs = await order(bob, 'SELL', '0.00500', '29990.00'); // fills part of alice's order
    const bobOwn = await order(bob, 'SELL', '0.01000', '31000.00'); // bob's alone
    await eventually(async () => expect(await xsOf(id)).toEqual(['NEW', 'TRADE']), 20_000);
    await cancel(alice, resting.body.orderId);

    await eventually(async () => {
      const seen = await call<Seen>('seen');
      const mine = seen.orders.filter((o) => o.id === id);
      expect(mine.map((o) => o.x)).toEqual(['NEW', 'TRADE', 'CANCELED']);
      expect(mine.map((o) => o.status)).toEqual(['open', 'open', 'canceled']);
      expect(mine[2].filled).toBe(0.005);
      expect(seen.trades.filter((tr) => tr.order === id)).toHaveLength(1);
    }, 30_000);

    const seen = await call<Seen>('seen');
    expect(seen.errors).toEqual([]);
    // Never bob's orders.
    for (const o of [bobs.body.orderId, bobOwn.body.orderId])
      expect(seen.orders.some((s) => s.id === String(o))).toBe(false);
    // The fill as /api/v3/myTrades reports it from the ledger's legs: same price, quantity and commission.
    const rest = (
      await t.api.signed<
        Array<{ id: number; price: string; qty: string; commission: string; commissionAsset: string }>
      >('GET', '/api/v3/myTrades', alice, { symbol: 'BTCUSDT', orderId: resting.body.orderId })
    ).body;
    expect(rest).toHaveLength(1);
    const trade = seen.trades.find((tr) => tr.order === id)!;
    expect(trade).toMatchObject({
      id: String(rest[0].id),
      price: rest[0].price,
      amount: rest[0].qty,
      takerOrMaker: 'maker',
    });
    expect(trade.fee.currency).toBe(rest[0].commissionAsset);
    expect(trade.fee.cost).toBe(Number(rest[0].commission));

    // watchBalance ends at the settled balances /api/v3/account reads from the ledger.
    await eventually(async () => {
      const account = (
        await t.api.signed<{ balances: Array<{ asset: string; free: string; locked: string }> }>(
          'GET',
          '/api/v3/account',
          alice,
        )
      ).body;
      const { balance } = await call<Seen>('seen');
      for (const asset of ['BTC', 'USDT'] as const) {
        const b = account.balances.find((x) => x.asset === asset)!;
        expect(balance?.[asset]).toEqual({ free: Number(b.free), used: Number(b.locked) });
      }
    }, 20_000);

    // A deposit (no order involved) reaches watchBalance too: balanceUpdate, then the position.
    const before = (await call<Seen>('seen')).balance!.USDT!.free;
    const pool = new Pool({ connectionString: t.pg.url, max: 1 });
    try {
      const { uid } = (await t.api.signed<{ uid: number }>('GET', '/api/v3/account', alice)).body;
      await new LedgerRepository(pool).creditDeposit(uid, 'USDT', 700_000_000n, `test:ccxt:${Date.now()}`);
    } finally {
      await pool.end();
    }
    await eventually(
      async () => expect((await call<Seen>('seen')).balance!.USDT!.free).toBe(before + 7),
      20_000,
    );
    expect((await call<Seen>('seen')).errors).toEqual([]);
  });
});

describe('listen keys: POST / PUT / DELETE /api/v3/userDataStream and /ws/<listenKey>', () => {
  it('delivers each user only their own executionReports', async () => {
    const { alice, bob } = t;
    const a = await userStream<{ listenKey: string }>('POST', alice);
    const b = await userStream<{ listenKey: string }>('POST', bob);
    expect(a.status).toBe(200);
    expect(a.body.listenKey).toMatch(/^[A-Za-z0-9]{60}$/);
    expect(b.body.listenKey).not.toBe(a.body.listenKey);
    const aliceWs = listen(`/ws/${a.body.listenKey}`);
    const bobWs = listen(`/stream?streams=${b.body.listenKey}`);
    await Promise.all([aliceWs.opened, bobWs.opened]);

    const buy = await order(alice, 'BUY', '0.00300', '29000.00');
    const sell = await order(bob, 'SELL', '0.00300', '29000.00'); // fills alice's order completely
    await eventually(async () => {
      const ids = (frames: Array<Record<string, unknown>>) =>
        frames
          .map((f) => (f.e === undefined ? (f.data as Record<string, unknown>) : f))
          .map((e) => [e.i, e.x, e.X]);
      expect(ids(aliceWs.frames)).toEqual(
        expect.arrayContaining([
          [buy.body.orderId, 'NEW', 'NEW'],
          [buy.body.orderId, 'TRADE', 'FILLED'],
        ]),
      );
      expect(ids(bobWs.frames)).toEqual(
        expect.arrayContaining([
          [sell.body.orderId, 'NEW', 'NEW'],
          [sell.body.orderId, 'TRADE', 'FILLED'],
        ]),
      );
    }, 30_000);
    // Raw frames for /ws/<key>, combined ({stream: listenKey, data}) for /stream.
    expect(bobWs.frames.every((f) => f.stream === b.body.listenKey)).toBe(true);
    const aliceOrders = aliceWs.frames.map((f) => f.i);
    const bobOrders = bobWs.frames.map((f) => (f.data as Record<string, unknown>).i);
    expect(aliceOrders).not.toContain(sell.body.orderId);
    expect(bobOrders).not.toContain(buy.body.orderId);
    const fill = aliceWs.frames.find((f) => f.x === 'TRADE')!;
    expect(fill).toMatchObject({ e: 'executionReport', s: 'BTCUSDT', S: 'BUY', o: 'LIMIT', l: '0.00300000' });
    expect(fill).toMatchObject({ L: '29000.00000000', z: '0.00300000', m: true, N: 'BTC' });
    aliceWs.ws.close();
    bobWs.ws.close();
  });

  it("keeps a key alive, refuses another user's key, closes it, then refuses it and ends its stream", async () => {
    const { alice, bob } = t;
    const { listenKey } = (await userStream<{ listenKey: string }>('POST', alice)).body;
    expect((await userStream('PUT', alice, listenKey)).body).toEqual({});
    // Bob can neither extend nor close alice's key: answered as an unknown key.
    for (const method of ['PUT', 'DELETE'])
      expect(await userStream(method, bob, listenKey)).toMatchObject({
        status: 400,
        body: { code: -1125, msg: 'This listenKey does not exist.' },
      });
    expect((await userStream('PUT', alice)).body).toMatchObject({ code: -1102 });
    expect((await t.api.raw('POST', '/api/v3/userDataStream')).body).toMatchObject({ code: -2014 });

    const open = listen(`/ws/${listenKey}`);
    await open.opened;
    expect((await userStream('DELETE', alice, listenKey)).body).toEqual({});
    // The next event for alice tells the open connection its key is gone, and nothing follows.
    const after = await order(alice, 'BUY', '0.00100', '20000.00');
    await eventually(async () =>
      expect(open.frames).toEqual([{ e: 'listenKeyExpired', E: expect.any(Number), listenKey }]),
    );
    await cancel(alice, after.body.orderId);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(open.frames).toHaveLength(1);
    open.ws.close();

    await expect(listen(`/ws/${listenKey}`).opened).rejects.toThrow('refused 400');
    expect((await userStream('PUT', alice, listenKey)).body).toMatchObject({ code: -1125 });
  });

  it('refuses an expired key', async () => {
    const listenKey = 'E'.repeat(60);
    await dynamoClient().send(
      new PutCommand({
        TableName: process.env[TABLES.connections.envVar]!,
        Item: {
          pk: `listenKey#${listenKey}`,
          sk: 'meta',
          userId: 1,
          expiresAtMs: Date.now() - 1,
          expiresAt: 0,
        },
      }),
    );
    await expect(listen(`/ws/${listenKey}`).opened).rejects.toThrow('refused 400');
  });

  it('revoking the API key that signed a subscription ends it: eventStreamTerminated, then nothing more', async () => {
    // A second key of alice's, to subscribe with and then revoke.
    const made = await t.api.signed<ApiKey & { code?: number }>('POST', '/cirrus/v1/apiKeys', t.alice, {
      permissions: 'read',
      label: 'stream',
    });
    expect(made.status).toBe(200);
    const key = made.body;
    const api = listen('/ws-api/v3');
    await api.opened;
    const params: Record<string, string> = { apiKey: key.apiKey, timestamp: String(Date.now()) };
    const payload = Object.keys(params)
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&');
    api.ws.send(
      JSON.stringify({
        id: 's1',
        method: 'userDataStream.subscribe.signature',
        params: { ...params, signature: sign(key.secretKey, payload) },
      }),
    );
    await eventually(async () => expect(api.frames[0]).toMatchObject({ id: 's1', status: 200 }));
    const reports = () =>
      api.frames.filter((f) => (f.event as { e?: string } | undefined)?.e === 'executionReport');
    // A 0.001 BTC limit far from the market: it rests (placeLimit: RESULT, status 200 checked).
    const place = () => placeLimit<{ orderId: number }>(t.api, t.alice, 'BUY', '0.001', '20000');
    const first = await place();
    await eventually(async () =>
      expect(reports().map((f) => (f.event as { i: number }).i)).toContain(first.orderId),
    );

    expect((await t.api.signed('DELETE', '/cirrus/v1/apiKeys', t.alice, { apiKey: key.apiKey })).status).toBe(
      200,
    );
    // Past the fan-out's recheck interval, the next event of alice's ends the stream instead of reaching it.
    await new Promise((r) => setTimeout(r, 2_500));
    const counted = reports().length;
    const second = await place();
    await eventually(async () =>
      expect(api.frames.map((f) => (f.event as { e?: string } | undefined)?.e)).toContain(
        'eventStreamTerminated',
      ),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(reports()).toHaveLength(counted);
    expect(reports().map((f) => (f.event as { i: number }).i)).not.toContain(second.orderId);
    // The stream ended with it: nothing after eventStreamTerminated.
    expect((api.frames[api.frames.length - 1].event as { e: string }).e).toBe('eventStreamTerminated');
    for (const id of [first.orderId, second.orderId])
      await t.api.signed('DELETE', '/api/v3/order', t.alice, { symbol: 'BTCUSDT', orderId: id });
    api.ws.close();
  });

  it('revoking the API key that made a listen key ends its stream: listenKeyExpired, then nothing more', async () => {
    const made = await t.api.signed<ApiKey>('POST', '/cirrus/v1/apiKeys', t.bob, { permissions: 'read' });
    expect(made.status).toBe(200);
    const key = made.body;
    const created = await userStream<{ listenKey: string }>('POST', key);
    const stream = listen(`/ws/${created.body.listenKey}`);
    await stream.opened;
    const reports = () => stream.frames.filter((f) => f.e === 'executionReport');
    const place = () => placeLimit<{ orderId: number }>(t.api, t.bob, 'SELL', '0.001', '90000');
    const first = await place();
    await eventually(async () => expect(reports().map((f) => f.i)).toContain(first.orderId));

    expect((await t.api.signed('DELETE', '/cirrus/v1/apiKeys', t.bob, { apiKey: key.apiKey })).status).toBe(
      200,
    );
    // The revoked key can no longer keep its listen key alive.
    const keepAlive = await userStream<{ code: number }>('PUT', key, created.body.listenKey);
    expect([keepAlive.status, keepAlive.body.code]).toEqual([401, -2015]);
    await new Promise((r) => setTimeout(r, 2_500));
    const counted = reports().length;
    const second = await place();
    await eventually(async () =>
      expect(stream.frames[stream.frames.length - 1]).toMatchObject({
        e: 'listenKeyExpired',
        listenKey: created.body.listenKey,
      }),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(reports()).toHaveLength(counted);
    expect(reports().map((f) => f.i)).not.toContain(second.orderId);
    for (const id of [first.orderId, second.orderId])
      await t.api.signed('DELETE', '/api/v3/order', t.bob, { symbol: 'BTCUSDT', orderId: id });
    stream.ws.close();
  });

  it('refuses a WebSocket API subscription with a bad signature', async () => {
    const api = listen('/ws-api/v3');
    await api.opened;
    api.ws.send(
      JSON.stringify({
        id: 'x1',
        method: 'userDataStream.subscribe.signature',
        params: { apiKey: t.alice.apiKey, timestamp: Date.now(), signature: '0'.repeat(64) },
      }),
    );
    await eventually(async () =>
      expect(api.frames).toEqual([
        { id: 'x1', status: 400, error: { code: -1022, msg: 'Signature for this request is not valid.' } },
      ]),
    );
    api.ws.close();
  });
});

describe('balance events: deposits and withdrawals on the user stream (balanceUpdate)', () => {
  it("sends the user's own balance changes in order, with the balances after them, and nobody else's", async () => {
    const carol = await registerFundedUser(t.api, t.pg.url, 'carol', {});
    const c = await userStream<{ listenKey: string }>('POST', carol);
    const b = await userStream<{ listenKey: string }>('POST', t.bob);
    const carolWs = listen(`/ws/${c.body.listenKey}`);
    const bobWs = listen(`/ws/${b.body.listenKey}`);
    await Promise.all([carolWs.opened, bobWs.opened]);

    const pool = new Pool({ connectionString: t.pg.url, max: 2 });
    try {
      // A deposit credited (100 USDT), a withdrawal of 10 + 1 fee requested, then released as failed. The
      // network is one no hot wallet sends on, so the release is the test's, not the chain's.
      const units = (n: number) => BigInt(n) * 100_000_000n;
      expect(
        await new LedgerRepository(pool).creditDeposit(
          carol.userId,
          'USDT',
          units(100),
          `test:carol:${Date.now()}`,
        ),
      ).toBe(true);
      await failWithdrawal(
        pool,
        await requestWithdrawal(pool, carol.userId, { coin: 'USDT', amount: units(10), fee: units(1) }),
      );

      await eventually(async () => {
        const updates = carolWs.frames.filter((f) => f.e === 'balanceUpdate');
        expect(updates.map((f) => [f.a, f.d])).toEqual([
          ['USDT', '100.00000000'],
          ['USDT', '-11.00000000'],
          ['USDT', '11.00000000'],
        ]);
        const positions = carolWs.frames.filter((f) => f.e === 'outboundAccountPosition');
        expect(positions.at(-1)).toMatchObject({ B: [{ a: 'USDT', f: '100.00000000', l: '0.00000000' }] });
      }, 20_000);
      for (const f of carolWs.frames.filter((x) => x.e === 'balanceUpdate'))
        expect(f).toEqual({
          e: 'balanceUpdate',
          E: expect.any(Number),
          a: 'USDT',
          d: expect.any(String),
          T: expect.any(Number),
        });
      // Each position follows the updates it reflects: never before the first update.
      expect(carolWs.frames.findIndex((f) => f.e === 'balanceUpdate')).toBe(0);
      // Bob saw none of it.
      await new Promise((r) => setTimeout(r, 500));
      expect(
        bobWs.frames.filter((f) => f.e === 'balanceUpdate' || f.e === 'outboundAccountPosition'),
      ).toEqual([]);
      // The relay marked every event published.
      const unpublished = await pool.query(
        'SELECT count(*)::int AS n FROM balance_events WHERE user_id = $1 AND published_at IS NULL',
        [carol.userId],
      );
      expect(unpublished.rows[0].n).toBe(0);
    } finally {
      await pool.end();
      carolWs.ws.close();
      bobWs.ws.close();
    }
  });
});
