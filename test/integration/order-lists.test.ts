// Order lists end to end against the local exchange (docs/api.md#order-lists): a SELL OCO placed by
// unmodified ccxt (its implicit `privatePostOrderListOco`), its limit leg filled partly then fully, the stop
// leg EXPIRED by its sibling, balances exact and the list's one lock released by the engine's ALL_DONE; a BUY
// OCO whose stop leg triggers and fills (what its lock did not spend comes back); cancels of a list (by the
// list, and by one of its legs); refusals that change nothing; and myPreventedMatches after a self-trade
// prevention expiry. OTO and OTOCO: an OTO by ccxt (`privatePostOrderListOto`) whose working BUY fills and
// places the pending SELL (PENDING_NEW → NEW), which fills; both locks taken at placement (the working leg's
// own, the pending leg's with the list), each released by the engine's answers alone; an OTOCO cancelled
// before its working leg fills, and one run to the end (the placed pair acts as an OCO); a cancel of a
// pending leg cancels its list; an OTO the account cannot fund for both legs refused with nothing locked.
// Responses are checked against Binance's OpenAPI schemas (test/fixtures/binance-openapi).
// Needs the engine's order lists (engine/core: placeList, cancelList, listStatus, prevented).
import { Pool } from 'pg';
import WebSocket from 'ws';
import { checkResponse } from '../fixtures/binance-openapi/validate';
import type { ApiKey } from '../support/binance-client';
import { CcxtWorker } from '@test/support/ccxt-worker';
import {
  accountBalance,
  placeLimit,
  checkConservation,
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

jest.setTimeout(180_000);

let ccxt: CcxtWorker;
let t: TestExchange;
let pool: Pool;
let carol: ApiKey & { userId: number }; // SELL OCO
let dave: ApiKey & { userId: number }; // buys from carol
let erin: ApiKey & { userId: number }; // BUY OCO
let frank: ApiKey & { userId: number }; // sells to erin
let george: ApiKey & { userId: number }; // moves the last price
let hank: ApiKey & { userId: number }; // cancels
let ivan: ApiKey & { userId: number }; // self-trade prevention
let judy: ApiKey & { userId: number }; // user data stream
let kate: ApiKey & { userId: number }; // myTrades of a list leg
let leo: ApiKey & { userId: number }; // buys from kate
let otto: ApiKey & { userId: number }; // OTO by ccxt
let lena: ApiKey & { userId: number }; // fills otto's working leg
let mira: ApiKey & { userId: number }; // fills otto's pending leg
let nina: ApiKey & { userId: number }; // OTOCO, cancelled
let omar: ApiKey & { userId: number }; // refused OTO; cancels a pending leg
let pia: ApiKey & { userId: number }; // OTOCO that runs to the end
let quinn: ApiKey & { userId: number }; // fills pia's pending leg
let rita: ApiKey & { userId: number }; // amends an OCO pair
let sam: ApiKey & { userId: number }; // sells to rita's stop leg
let tom: ApiKey & { userId: number }; // moves the last price for rita's stop
/** Every user above, in the order funded (the end-of-file checks go through them all). */
let everyone: Array<ApiKey & { userId: number }> = [];

beforeAll(async () => {
  t = await startTestExchange(1_000);
  pool = new Pool({ connectionString: t.pg.url, max: 2 });
  const fund = (name: string, funds: Record<string, string>) =>
    registerFundedUser(t.api, t.pg.url, name, funds);
  everyone = await Promise.all([
    fund('carol', { BTC: '0.15' }),
    fund('dave', { USDT: '10000' }),
    fund('erin', { USDT: '10000' }),
    fund('frank', { BTC: '1' }),
    fund('george', { USDT: '1000' }),
    fund('hank', { BTC: '1' }),
    fund('ivan', { BTC: '1', USDT: '1000' }),
    fund('judy', { BTC: '1' }),
    fund('kate', { BTC: '0.1' }),
    fund('leo', { USDT: '1000' }),
    fund('otto', { USDT: '5000', BTC: '0.1' }),
    fund('lena', { BTC: '1' }),
    fund('mira', { USDT: '5000' }),
    fund('nina', { USDT: '5000', BTC: '0.1' }),
    fund('omar', { USDT: '5000' }),
    fund('pia', { USDT: '5000', BTC: '0.1' }),
    fund('quinn', { USDT: '5000' }),
    fund('rita', { USDT: '10000' }),
    fund('sam', { BTC: '1' }),
    fund('tom', { USDT: '1000' }),
  ]);
  [
    carol,
    dave,
    erin,
    frank,
    george,
    hank,
    ivan,
    judy,
    kate,
    leo,
    otto,
    lena,
    mira,
    nina,
    omar,
    pia,
    quinn,
    rita,
    sam,
    tom,
  ] = everyone;
  ccxt = new CcxtWorker();
  const base = t.ex.restUrl.replace(/\/$/, '');
  await ccxt.add('carol', { apiKey: carol.apiKey, secret: carol.secretKey }, base);
  await ccxt.add('otto', { apiKey: otto.apiKey, secret: otto.secretKey }, base);
});

afterAll(async () => {
  await ccxt?.terminate();
  await pool?.end();
  await t?.stop();
});

interface OrderBody {
  orderId: number;
  orderListId: number;
  clientOrderId: string;
  status: string;
  type: string;
  side?: string;
  isWorking?: boolean;
}
interface ListBody {
  orderListId: number;
  contingencyType: string;
  listStatusType: string;
  listOrderStatus: string;
  listClientOrderId: string;
  symbol: string;
  orders: Array<{ symbol: string; orderId: number; clientOrderId: string }>;
  orderReports?: Array<OrderBody & Record<string, unknown>>;
}

const balance = (key: ApiKey, asset: string) => accountBalance(t.api, key, asset);

const openOrders = async (key: ApiKey) =>
  (await t.api.signed<OrderBody[]>('GET', '/api/v3/openOrders', key, { symbol: 'BTCUSDT' })).body;
const getOrder = async (key: ApiKey, orderId: number) =>
  (await t.api.signed<OrderBody>('GET', '/api/v3/order', key, { symbol: 'BTCUSDT', orderId })).body;
const getList = async (key: ApiKey, orderListId: number) =>
  t.api.signed<ListBody>('GET', '/api/v3/orderList', key, { orderListId });
const openLists = async (key: ApiKey) =>
  (await t.api.signed<ListBody[]>('GET', '/api/v3/openOrderList', key)).body;

const order = (
  key: ApiKey,
  side: 'BUY' | 'SELL',
  quantity: string,
  price: string,
  extra: Record<string, string> = {},
) => placeLimit<OrderBody>(t.api, key, side, quantity, price, extra);

const oco = (key: ApiKey, params: Record<string, string>) =>
  t.api.signed<ListBody & { code?: number; msg?: string }>('POST', '/api/v3/orderList/oco', key, {
    symbol: 'BTCUSDT',
    newOrderRespType: 'RESULT',
    ...params,
  });

const lockRow = async (orderId: number) =>
  (await pool.query('SELECT status, remaining FROM order_locks WHERE order_id = $1', [orderId])).rows[0];

/** A BUY-then-SELL OTOCO: working BUY 0.1 at 29000, then a SELL pair (LIMIT_MAKER 33000, stop 28000). */
const otoco = (key: ApiKey, over: Record<string, string>) =>
  t.api.signed<ListBody & { code?: number; msg?: string }>('POST', '/api/v3/orderList/otoco', key, {
    symbol: 'BTCUSDT',
    workingType: 'LIMIT',
    workingSide: 'BUY',
    workingPrice: '29000',
    workingQuantity: '0.1',
    workingTimeInForce: 'GTC',
    pendingSide: 'SELL',
    pendingQuantity: '0.1',
    pendingAboveType: 'LIMIT_MAKER',
    pendingAbovePrice: '33000',
    pendingBelowType: 'STOP_LOSS_LIMIT',
    pendingBelowPrice: '27900',
    pendingBelowStopPrice: '28000',
    pendingBelowTimeInForce: 'GTC',
    ...over,
  });

afterEach(async () => {
  for (const key of everyone) {
    if ((await openOrders(key)).length === 0) continue;
    await t.api.signed('DELETE', '/api/v3/openOrders', key, { symbol: 'BTCUSDT' });
    await eventually(async () => expect(await openOrders(key)).toEqual([]));
  }
});

describe('order lists (OCO) end to end', () => {
  it('exchangeInfo offers OCO and OTO', async () => {
    const info = await t.api.public<{
      symbols: Array<{ symbol: string; ocoAllowed: boolean; otoAllowed: boolean }>;
    }>('GET', '/api/v3/exchangeInfo');
    expect(info.body.symbols.find((s) => s.symbol === 'BTCUSDT')).toMatchObject({
      ocoAllowed: true,
      otoAllowed: true,
    });
  });

  it('a SELL OCO by ccxt: one lock; the limit leg fills partly (the stop leg expires), then fully; ALL_DONE', async () => {
    const placed = (await ccxt.call('carol', 'privatePostOrderListOco', [
      {
        symbol: 'BTCUSDT',
        side: 'SELL',
        quantity: '0.1',
        listClientOrderId: 'oco-sell',
        aboveType: 'LIMIT_MAKER',
        abovePrice: '31000',
        aboveClientOrderId: 'oco-above',
        belowType: 'STOP_LOSS_LIMIT',
        belowPrice: '28900',
        belowStopPrice: '29000',
        belowTimeInForce: 'GTC',
        belowClientOrderId: 'oco-below',
        newOrderRespType: 'RESULT',
      },
    ])) as ListBody;
    expect(checkResponse('POST /api/v3/orderList/oco', placed)).toEqual([]);
    expect(placed).toMatchObject({
      contingencyType: 'OCO',
      listStatusType: 'EXEC_STARTED',
      listOrderStatus: 'EXECUTING',
      listClientOrderId: 'oco-sell',
      symbol: 'BTCUSDT',
    });
    const [above, below] = placed.orders.map((o) => o.orderId);
    expect(placed.orders.map((o) => o.clientOrderId)).toEqual(['oco-above', 'oco-below']);
    expect(placed.orderReports!.map((r) => [r.type, r.status, r.orderListId])).toEqual([
      ['LIMIT_MAKER', 'NEW', placed.orderListId],
      ['STOP_LOSS_LIMIT', 'NEW', placed.orderListId],
    ]);
    // 0.1 BTC locked once for both legs.
    expect(await balance(carol, 'BTC')).toEqual({ free: '0.05000000', locked: '0.10000000' });
    expect((await openOrders(carol)).map((o) => [o.orderId, o.orderListId])).toEqual([
      [above, placed.orderListId],
      [below, placed.orderListId],
    ]);
    const one = await getList(carol, placed.orderListId);
    expect(checkResponse('/api/v3/orderList', one.body)).toEqual([]);
    const open = await openLists(carol);
    expect(checkResponse('/api/v3/openOrderList', open)).toEqual([]);
    expect(open.map((l) => l.orderListId)).toEqual([placed.orderListId]);

    // Partly filled: OCO, so the stop leg expires at once (its sibling executed).
    await order(dave, 'BUY', '0.04', '31000');
    await eventually(async () => {
      expect(await getOrder(carol, above)).toMatchObject({
        status: 'PARTIALLY_FILLED',
        orderListId: placed.orderListId,
      });
      expect(await getOrder(carol, below)).toMatchObject({
        status: 'EXPIRED',
        orderListId: placed.orderListId,
      });
    });
    expect(await balance(carol, 'BTC')).toEqual({ free: '0.05000000', locked: '0.06000000' });

    await order(dave, 'BUY', '0.06', '31000');
    await eventually(async () => {
      expect((await getList(carol, placed.orderListId)).body).toMatchObject({
        listStatusType: 'ALL_DONE',
        listOrderStatus: 'ALL_DONE',
      });
    });
    expect(await getOrder(carol, above)).toMatchObject({ status: 'FILLED' });
    // 0.1 BTC at 31000 = 3100 USDT, less the 0.1 % maker fee; dave gets 0.1 BTC less his 0.1 % taker fee.
    expect(await balance(carol, 'BTC')).toEqual({ free: '0.05000000', locked: '0.00000000' });
    expect(await balance(carol, 'USDT')).toEqual({ free: '3096.90000000', locked: '0.00000000' });
    expect(await balance(dave, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    expect(await balance(dave, 'USDT')).toEqual({ free: '6900.00000000', locked: '0.00000000' });
    const lock = await pool.query('SELECT status, remaining FROM order_locks WHERE order_id = $1', [
      -placed.orderListId,
    ]);
    expect(lock.rows[0]).toEqual({ status: 'closed', remaining: '0' });
    const all = await t.api.signed<ListBody[]>('GET', '/api/v3/allOrderList', carol);
    expect(checkResponse('/api/v3/allOrderList', all.body)).toEqual([]);
    expect(await openLists(carol)).toEqual([]);
    // allOrders shows both legs with their list id.
    const history = await t.api.signed<OrderBody[]>('GET', '/api/v3/allOrders', carol, { symbol: 'BTCUSDT' });
    expect(
      history.body
        .filter((o) => o.orderListId === placed.orderListId)
        .map((o) => o.status)
        .sort(),
    ).toEqual(['EXPIRED', 'FILLED']);
    await checkConservation(t.pg.url);
  });

  it('a BUY OCO whose stop leg triggers: the limit leg expires, the stop fills, the unspent lock comes back', async () => {
    const res = await oco(erin, {
      side: 'BUY',
      quantity: '0.1',
      aboveType: 'STOP_LOSS_LIMIT',
      abovePrice: '31600',
      aboveStopPrice: '31500',
      aboveTimeInForce: 'GTC',
      belowType: 'LIMIT_MAKER',
      belowPrice: '29000',
    });
    expect(res.status).toBe(200);
    const [stopLeg, limitLeg] = res.body.orders.map((o) => o.orderId);
    // max(0.1 × 31600, 0.1 × 29000) = 3160 USDT, once.
    expect(await balance(erin, 'USDT')).toEqual({ free: '6840.00000000', locked: '3160.00000000' });

    await order(frank, 'SELL', '0.1', '31550'); // what the stop will buy
    await order(frank, 'SELL', '0.01', '31500');
    await order(george, 'BUY', '0.01', '31500'); // last price 31500: the stop triggers
    await eventually(async () => {
      expect((await getList(erin, res.body.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
    });
    expect(await getOrder(erin, limitLeg)).toMatchObject({ status: 'EXPIRED' });
    expect(await getOrder(erin, stopLeg)).toMatchObject({ status: 'FILLED' });
    // Bought 0.1 at 31550 = 3155 USDT; the other 5 of the lock came back with ALL_DONE.
    expect(await balance(erin, 'USDT')).toEqual({ free: '6845.00000000', locked: '0.00000000' });
    expect(await balance(erin, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('amend keep priority of either OCO leg lowers both; the list lock frees its share once; the stop runs lower', async () => {
    const res = await oco(rita, {
      side: 'BUY',
      quantity: '0.1',
      aboveType: 'STOP_LOSS_LIMIT',
      abovePrice: '32600',
      aboveStopPrice: '32500',
      aboveTimeInForce: 'GTC',
      belowType: 'LIMIT_MAKER',
      belowPrice: '29000',
    });
    expect(res.status).toBe(200);
    const [stopLeg, limitLeg] = res.body.orders.map((o) => o.orderId);
    expect(await balance(rita, 'USDT')).toEqual({ free: '6740.00000000', locked: '3260.00000000' });
    const amend = (orderId: number, newQty: string) =>
      t.api.signed<Record<string, unknown> & { code?: number }>(
        'PUT',
        '/api/v3/order/amend/keepPriority',
        rita,
        {
          symbol: 'BTCUSDT',
          orderId,
          newQty,
        },
      );

    // The resting LIMIT_MAKER leg to 0.04: the waiting stop leg takes 0.04 too, and 3260 × 0.06/0.1 comes back.
    const first = await amend(limitLeg, '0.04');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      amendedOrder: {
        orderId: limitLeg,
        orderListId: res.body.orderListId,
        qty: '0.04000000',
        status: 'NEW',
      },
      listStatus: {
        orderListId: res.body.orderListId,
        contingencyType: 'OCO',
        listOrderStatus: 'EXECUTING',
        symbol: 'BTCUSDT',
        orders: res.body.orders,
      },
    });
    expect(await getOrder(rita, stopLeg)).toMatchObject({ origQty: '0.04000000', status: 'NEW' });
    await eventually(async () =>
      expect(await balance(rita, 'USDT')).toEqual({ free: '8696.00000000', locked: '1304.00000000' }),
    );
    // The stop leg, not on the book, to 0.03: both legs again, 1304 × 0.01/0.04 more.
    const second = await amend(stopLeg, '0.03');
    expect(second.status).toBe(200);
    expect(await getOrder(rita, limitLeg)).toMatchObject({ origQty: '0.03000000' });
    // Each amend answered both legs, the amended one first: each leg has a row per answer, with its seq.
    const amendments = async (orderId: number) =>
      (
        await t.api.signed<Array<{ executionId: number; origQty: string; newQty: string }>>(
          'GET',
          '/api/v3/order/amendments',
          rita,
          { symbol: 'BTCUSDT', orderId },
        )
      ).body.map((a) => [a.executionId, a.origQty, a.newQty]);
    expect(await amendments(limitLeg)).toEqual([
      [first.body.executionId, '0.10000000', '0.04000000'],
      [(second.body.executionId as number) + 1, '0.04000000', '0.03000000'],
    ]);
    expect(await amendments(stopLeg)).toEqual([
      [(first.body.executionId as number) + 1, '0.10000000', '0.04000000'],
      [second.body.executionId, '0.04000000', '0.03000000'],
    ]);
    await eventually(async () =>
      expect(await balance(rita, 'USDT')).toEqual({ free: '9022.00000000', locked: '978.00000000' }),
    );
    // 978 USDT at the ledger's 8 decimals, and the list's row at the quantity it now holds (0.03 = 30 lots).
    expect(await lockRow(-res.body.orderListId)).toEqual({ status: 'open', remaining: '97800000000' });
    const listRow = await pool.query(
      'SELECT lock_amount, lock_qty_lots FROM order_lists WHERE list_id = $1',
      [res.body.orderListId],
    );
    expect(listRow.rows[0]).toEqual({ lock_amount: '97800000000', lock_qty_lots: expect.any(String) });
    // A larger or the same quantity is refused, and changes nothing.
    for (const [qty, code] of [
      ['0.05', -2038],
      ['0.03', -2038],
    ] as const) {
      const refused = await amend(stopLeg, qty);
      expect([refused.status, refused.body.code]).toEqual([400, code]);
    }
    expect(await balance(rita, 'USDT')).toEqual({ free: '9022.00000000', locked: '978.00000000' });

    // The stop triggers and buys its 0.03 at 32550 (976.5); the limit leg expires; 1.5 comes back.
    await order(sam, 'SELL', '0.03', '32550');
    await order(sam, 'SELL', '0.01', '32500');
    await order(tom, 'BUY', '0.01', '32500');
    await eventually(async () => {
      expect((await getList(rita, res.body.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
    });
    expect(await getOrder(rita, limitLeg)).toMatchObject({ status: 'EXPIRED' });
    expect(await getOrder(rita, stopLeg)).toMatchObject({ status: 'FILLED', executedQty: '0.03000000' });
    expect(await balance(rita, 'USDT')).toEqual({ free: '9023.50000000', locked: '0.00000000' });
    expect(await balance(rita, 'BTC')).toEqual({ free: '0.02997000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('cancels a list by its id, and by one of its legs; funds come back with the engine’s answer', async () => {
    const params = {
      side: 'SELL',
      quantity: '0.2',
      aboveType: 'LIMIT_MAKER',
      abovePrice: '40000',
      belowType: 'STOP_LOSS',
      belowStopPrice: '29000',
    };
    const first = (await oco(hank, { ...params, listClientOrderId: 'cancel-me' })).body;
    expect(await balance(hank, 'BTC')).toEqual({ free: '0.80000000', locked: '0.20000000' });
    const cancelled = await t.api.signed<ListBody>('DELETE', '/api/v3/orderList', hank, {
      symbol: 'BTCUSDT',
      listClientOrderId: 'cancel-me',
    });
    expect(cancelled.status).toBe(200);
    expect(checkResponse('DELETE /api/v3/orderList', cancelled.body)).toEqual([]);
    expect(cancelled.body).toMatchObject({
      orderListId: first.orderListId,
      listStatusType: 'ALL_DONE',
      listOrderStatus: 'ALL_DONE',
    });
    expect(cancelled.body.orderReports!.map((r) => r.status)).toEqual(['CANCELED', 'CANCELED']);
    expect(await balance(hank, 'BTC')).toEqual({ free: '1.00000000', locked: '0.00000000' });
    // Again: the list is done.
    const again = await t.api.signed('DELETE', '/api/v3/orderList', hank, {
      symbol: 'BTCUSDT',
      orderListId: first.orderListId,
    });
    expect(again.body).toMatchObject({ code: -2011 });

    const second = (await oco(hank, params)).body;
    const leg = second.orders[1].orderId;
    const res = await t.api.signed<OrderBody>('DELETE', '/api/v3/order', hank, {
      symbol: 'BTCUSDT',
      orderId: leg,
    });
    expect(res.status).toBe(200);
    await eventually(async () => {
      expect((await getList(hank, second.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
    });
    expect((await getOrder(hank, second.orders[0].orderId)).status).toBe('CANCELED');
    expect(await balance(hank, 'BTC')).toEqual({ free: '1.00000000', locked: '0.00000000' });

    // The deprecated POST /api/v3/order/oco: a SELL's LIMIT_MAKER above, its STOP_LOSS_LIMIT below.
    const legacy = await t.api.signed<ListBody>('POST', '/api/v3/order/oco', hank, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '0.2',
      price: '40000',
      stopPrice: '29000',
      stopLimitPrice: '28900',
      stopLimitTimeInForce: 'GTC',
    });
    expect(legacy.status).toBe(200);
    expect(legacy.body.orderReports!.map((r) => r.type)).toEqual(['LIMIT_MAKER', 'STOP_LOSS_LIMIT']);
    expect(await balance(hank, 'BTC')).toEqual({ free: '0.80000000', locked: '0.20000000' });
    await t.api.signed('DELETE', '/api/v3/orderList', hank, {
      symbol: 'BTCUSDT',
      orderListId: legacy.body.orderListId,
    });
    expect(await balance(hank, 'BTC')).toEqual({ free: '1.00000000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('DELETE /api/v3/openOrders cancels a list once and answers it as a list, beside single orders', async () => {
    const list = (
      await oco(hank, {
        side: 'SELL',
        quantity: '0.2',
        aboveType: 'LIMIT_MAKER',
        abovePrice: '40000',
        belowType: 'STOP_LOSS',
        belowStopPrice: '29000',
      })
    ).body;
    const single = await order(hank, 'SELL', '0.1', '41000');
    expect(await balance(hank, 'BTC')).toEqual({ free: '0.70000000', locked: '0.30000000' });
    const res = await t.api.signed<Array<Record<string, unknown>>>('DELETE', '/api/v3/openOrders', hank, {
      symbol: 'BTCUSDT',
    });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toMatchObject({ orderId: single.orderId, orderListId: -1, status: 'CANCELED' });
    expect(res.body[1]).toMatchObject({ orderListId: list.orderListId, listOrderStatus: 'ALL_DONE' });
    expect(checkResponse('DELETE /api/v3/orderList', res.body[1])).toEqual([]);
    expect(await balance(hank, 'BTC')).toEqual({ free: '1.00000000', locked: '0.00000000' });
  });

  it('refusals change nothing: bad leg types, a wrong price relation, insufficient funds, another user’s list', async () => {
    const before = await balance(hank, 'BTC');
    const cases: Array<[Record<string, string>, number]> = [
      [
        {
          aboveType: 'LIMIT',
          abovePrice: '40000',
          aboveTimeInForce: 'GTC',
          belowType: 'STOP_LOSS',
          belowStopPrice: '29000',
        },
        -1158,
      ],
      [
        { aboveType: 'STOP_LOSS', aboveStopPrice: '40000', belowType: 'STOP_LOSS', belowStopPrice: '29000' },
        -1197,
      ],
      [
        { aboveType: 'LIMIT_MAKER', abovePrice: '28000', belowType: 'STOP_LOSS', belowStopPrice: '29000' },
        -2010,
      ],
      [{ aboveType: 'LIMIT_MAKER', abovePrice: '40000' }, -1102],
    ];
    for (const [legs, code] of cases) {
      const res = await oco(hank, { side: 'SELL', quantity: '0.2', ...legs });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(code);
    }
    const poor = await oco(hank, {
      side: 'SELL',
      quantity: '2',
      aboveType: 'LIMIT_MAKER',
      abovePrice: '40000',
      belowType: 'STOP_LOSS',
      belowStopPrice: '29000',
    });
    expect(poor.body).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    expect(await balance(hank, 'BTC')).toEqual(before);
    expect(await openOrders(hank)).toEqual([]);
    expect(await openLists(hank)).toEqual([]);
    // Another user's list is not there for this caller.
    const carolsList = (await t.api.signed<ListBody[]>('GET', '/api/v3/allOrderList', carol)).body[0];
    expect((await getList(hank, carolsList.orderListId)).body).toMatchObject({ code: -2013 });
  });

  it('myPreventedMatches after a self-trade prevention expiry, for its user only', async () => {
    const maker = await order(ivan, 'SELL', '0.01', '32000');
    await order(ivan, 'BUY', '0.01', '32000', { selfTradePreventionMode: 'EXPIRE_MAKER' });
    await eventually(async () =>
      expect((await getOrder(ivan, maker.orderId)).status).toBe('EXPIRED_IN_MATCH'),
    );
    let matches: Array<Record<string, unknown>> = [];
    await eventually(async () => {
      matches = (
        await t.api.signed<Array<Record<string, unknown>>>('GET', '/api/v3/myPreventedMatches', ivan, {
          symbol: 'BTCUSDT',
          orderId: maker.orderId,
        })
      ).body;
      expect(matches).toHaveLength(1);
    });
    expect(checkResponse('/api/v3/myPreventedMatches', matches)).toEqual([]);
    expect(matches[0]).toMatchObject({
      symbol: 'BTCUSDT',
      makerOrderId: maker.orderId,
      price: '32000.00000000',
      makerPreventedQuantity: '0.01000000',
      selfTradePreventionMode: 'EXPIRE_MAKER',
    });
    const byId = await t.api.signed('GET', '/api/v3/myPreventedMatches', ivan, {
      symbol: 'BTCUSDT',
      preventedMatchId: matches[0].preventedMatchId as number,
    });
    expect(byId.body).toEqual(matches);
    const stranger = await t.api.signed('GET', '/api/v3/myPreventedMatches', carol, {
      symbol: 'BTCUSDT',
      preventedMatchId: matches[0].preventedMatchId as number,
    });
    expect(stranger.body).toEqual([]);
    await checkConservation(t.pg.url);
  });

  it('myTrades: a list leg’s fill carries its orderListId, a single order’s fill -1', async () => {
    const placed = await oco(kate, {
      side: 'SELL',
      quantity: '0.01',
      aboveType: 'LIMIT_MAKER',
      abovePrice: '33000',
      belowType: 'STOP_LOSS_LIMIT',
      belowPrice: '28900',
      belowStopPrice: '29000',
      belowTimeInForce: 'GTC',
    });
    expect(placed.status).toBe(200);
    const [above] = placed.body.orders.map((o) => o.orderId);
    const buy = await order(leo, 'BUY', '0.01', '33000');
    const myTrades = async (key: ApiKey, extra = {}) =>
      (
        await t.api.signed<Array<{ orderId: number; orderListId: number; isMaker: boolean }>>(
          'GET',
          '/api/v3/myTrades',
          key,
          { symbol: 'BTCUSDT', ...extra },
        )
      ).body;
    await eventually(async () => {
      expect((await myTrades(kate)).map((f) => [f.orderId, f.orderListId, f.isMaker])).toEqual([
        [above, placed.body.orderListId, true],
      ]);
    });
    // By the leg's id too (the read model's order index), and the taker's single order: -1.
    expect((await myTrades(kate, { orderId: above })).map((f) => f.orderListId)).toEqual([
      placed.body.orderListId,
    ]);
    expect((await myTrades(leo)).map((f) => [f.orderId, f.orderListId, f.isMaker])).toEqual([
      [buy.orderId, -1, false],
    ]);
    await checkConservation(t.pg.url);
  });

  it('user data: listStatus when the list starts and ends, executionReports with g = the list id', async () => {
    const key = await t.api.raw<{ listenKey: string }>('POST', '/api/v3/userDataStream', undefined, {
      'X-MBX-APIKEY': judy.apiKey,
    });
    const frames: Array<Record<string, unknown>> = [];
    const ws = new WebSocket(`${t.ex.wsUrl}/ws/${key.body.listenKey}`);
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    try {
      const placed = (
        await oco(judy, {
          side: 'SELL',
          quantity: '0.1',
          listClientOrderId: 'ws-list',
          aboveType: 'LIMIT_MAKER',
          abovePrice: '40000',
          aboveClientOrderId: 'ws-above',
          belowType: 'STOP_LOSS',
          belowStopPrice: '29000',
          belowClientOrderId: 'ws-below',
        })
      ).body;
      const [above, below] = placed.orders.map((o) => o.orderId);
      // An amend of one leg: a REPLACED report for each leg of the pair, with the new quantity.
      const amended = await t.api.signed('PUT', '/api/v3/order/amend/keepPriority', judy, {
        symbol: 'BTCUSDT',
        orderId: below,
        newQty: '0.06',
      });
      expect(amended.status).toBe(200);
      await t.api.signed('DELETE', '/api/v3/orderList', judy, {
        symbol: 'BTCUSDT',
        orderListId: placed.orderListId,
      });
      await eventually(async () => {
        const lists = frames.filter((f) => f.e === 'listStatus');
        expect(lists.map((f) => [f.l, f.L])).toEqual([
          ['EXEC_STARTED', 'EXECUTING'],
          ['ALL_DONE', 'ALL_DONE'],
        ]);
        expect(lists[0]).toMatchObject({
          s: 'BTCUSDT',
          g: placed.orderListId,
          c: 'OCO',
          r: 'NONE',
          C: 'ws-list',
          O: [
            { s: 'BTCUSDT', i: above, c: 'ws-above' },
            { s: 'BTCUSDT', i: below, c: 'ws-below' },
          ],
        });
        const reports = frames.filter((f) => f.e === 'executionReport').map((f) => [f.i, f.x, f.g]);
        expect(reports).toEqual(
          expect.arrayContaining([
            [above, 'NEW', placed.orderListId],
            [below, 'NEW', placed.orderListId],
            [below, 'REPLACED', placed.orderListId],
            [above, 'REPLACED', placed.orderListId],
            [above, 'CANCELED', placed.orderListId],
            [below, 'CANCELED', placed.orderListId],
          ]),
        );
        const replaced = frames.filter((f) => f.e === 'executionReport' && f.x === 'REPLACED');
        expect(replaced.map((f) => [f.X, f.q, f.w])).toEqual([
          ['NEW', '0.06000000', false], // the stop leg waits for its trigger
          ['NEW', '0.06000000', true], // the LIMIT_MAKER leg rests
        ]);
        const cancels = frames.filter((f) => f.e === 'executionReport' && f.x === 'CANCELED');
        expect(cancels.map((f) => f.q)).toEqual(['0.06000000', '0.06000000']);
      }, 30_000);
    } finally {
      ws.close();
    }
  });
});

describe('OTO and OTOCO order lists end to end', () => {
  it('an OTO by ccxt: the working BUY fills, the pending SELL is placed (PENDING_NEW → NEW) and fills; ALL_DONE', async () => {
    const placed = (await ccxt.call('otto', 'privatePostOrderListOto', [
      {
        symbol: 'BTCUSDT',
        listClientOrderId: 'oto-1',
        workingType: 'LIMIT',
        workingSide: 'BUY',
        workingPrice: '30000',
        workingQuantity: '0.1',
        workingTimeInForce: 'GTC',
        workingClientOrderId: 'oto-working',
        pendingType: 'LIMIT_MAKER',
        pendingSide: 'SELL',
        pendingPrice: '32000',
        pendingQuantity: '0.1',
        pendingClientOrderId: 'oto-pending',
        newOrderRespType: 'RESULT',
      },
    ])) as ListBody;
    expect(checkResponse('POST /api/v3/orderList/oto', placed)).toEqual([]);
    expect(placed).toMatchObject({
      contingencyType: 'OTO',
      listStatusType: 'EXEC_STARTED',
      listOrderStatus: 'EXECUTING',
      listClientOrderId: 'oto-1',
    });
    const [working, pending] = placed.orders.map((o) => o.orderId);
    expect(placed.orderReports!.map((r) => [r.clientOrderId, r.type, r.side, r.status])).toEqual([
      ['oto-working', 'LIMIT', 'BUY', 'NEW'],
      ['oto-pending', 'LIMIT_MAKER', 'SELL', 'PENDING_NEW'],
    ]);
    // Both legs funded now: 0.1 × 30000 USDT for the working BUY (its own lock), 0.1 BTC for the pending SELL.
    expect(await balance(otto, 'USDT')).toEqual({ free: '2000.00000000', locked: '3000.00000000' });
    expect(await balance(otto, 'BTC')).toEqual({ free: '0.00000000', locked: '0.10000000' });
    expect(await getOrder(otto, pending)).toMatchObject({
      status: 'PENDING_NEW',
      orderListId: placed.orderListId,
    });
    expect((await openOrders(otto)).map((o) => [o.orderId, o.status])).toEqual([
      [working, 'NEW'],
      [pending, 'PENDING_NEW'],
    ]);

    // The working leg fills (otto is the maker: 0.1 % of 0.1 BTC is her fee): the pending leg is placed.
    await order(lena, 'SELL', '0.1', '30000');
    await eventually(async () => {
      expect(await getOrder(otto, working)).toMatchObject({ status: 'FILLED' });
      expect(await getOrder(otto, pending)).toMatchObject({ status: 'NEW', isWorking: true });
    });
    expect(await lockRow(working)).toEqual({ status: 'closed', remaining: '0' });
    expect(await balance(otto, 'USDT')).toEqual({ free: '2000.00000000', locked: '0.00000000' });
    expect(await balance(otto, 'BTC')).toEqual({ free: '0.09990000', locked: '0.10000000' });

    // The pending leg fills: 3200 USDT less the 0.1 % maker fee; the list is done and its lock closed.
    await order(mira, 'BUY', '0.1', '32000');
    await eventually(async () => {
      expect((await getList(otto, placed.orderListId)).body).toMatchObject({
        listStatusType: 'ALL_DONE',
        listOrderStatus: 'ALL_DONE',
      });
    });
    expect(await getOrder(otto, pending)).toMatchObject({ status: 'FILLED' });
    expect(await lockRow(-placed.orderListId)).toEqual({ status: 'closed', remaining: '0' });
    expect(await balance(otto, 'USDT')).toEqual({ free: '5196.80000000', locked: '0.00000000' });
    expect(await balance(otto, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    expect(await balance(mira, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('an OTOCO cancelled before its working leg fills: every leg CANCELED, both locks come back', async () => {
    const res = await otoco(nina, { newOrderRespType: 'RESULT' });
    expect(res.status).toBe(200);
    expect(checkResponse('POST /api/v3/orderList/otoco', res.body)).toEqual([]);
    expect(res.body.contingencyType).toBe('OTOCO');
    expect(res.body.orderReports!.map((r) => [r.type, r.side, r.status])).toEqual([
      ['LIMIT', 'BUY', 'NEW'],
      ['LIMIT_MAKER', 'SELL', 'PENDING_NEW'],
      ['STOP_LOSS_LIMIT', 'SELL', 'PENDING_NEW'],
    ]);
    // The working BUY's 2900 USDT, and 0.1 BTC once for the pending OCO pair.
    expect(await balance(nina, 'USDT')).toEqual({ free: '2100.00000000', locked: '2900.00000000' });
    expect(await balance(nina, 'BTC')).toEqual({ free: '0.00000000', locked: '0.10000000' });

    const cancelled = await t.api.signed<ListBody & { code?: number; msg?: string }>(
      'DELETE',
      '/api/v3/orderList',
      nina,
      {
        symbol: 'BTCUSDT',
        orderListId: res.body.orderListId,
      },
    );
    expect(cancelled.status).toBe(200);
    await eventually(async () => {
      expect((await getList(nina, res.body.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
      for (const o of res.body.orders)
        expect(await getOrder(nina, o.orderId)).toMatchObject({ status: 'CANCELED' });
    });
    expect(await balance(nina, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    expect(await balance(nina, 'BTC')).toEqual({ free: '0.10000000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('an OTOCO run to the end: working fills, the pair is placed, the upper leg fills partly (the stop expires) then fully', async () => {
    const res = await otoco(pia, { listClientOrderId: 'otoco-run', newOrderRespType: 'FULL' });
    expect(res.status).toBe(200);
    expect(checkResponse('POST /api/v3/orderList/otoco', res.body)).toEqual([]);
    const [working, above, below] = res.body.orders.map((o) => o.orderId);

    await order(lena, 'SELL', '0.1', '29000');
    await eventually(async () => {
      expect(await getOrder(pia, working)).toMatchObject({ status: 'FILLED' });
      expect(await getOrder(pia, above)).toMatchObject({ status: 'NEW', isWorking: true });
      // A stop placed: NEW, waiting for its trigger (the last price is 29000, above 28000).
      expect(await getOrder(pia, below)).toMatchObject({ status: 'NEW', isWorking: false });
    });
    expect(await balance(pia, 'USDT')).toEqual({ free: '2100.00000000', locked: '0.00000000' });
    expect(await balance(pia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.10000000' });

    await order(quinn, 'BUY', '0.04', '33000');
    await eventually(async () => {
      expect(await getOrder(pia, above)).toMatchObject({ status: 'PARTIALLY_FILLED' });
      expect(await getOrder(pia, below)).toMatchObject({ status: 'EXPIRED' });
    });
    expect(await balance(pia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.06000000' });
    await order(quinn, 'BUY', '0.06', '33000');
    await eventually(async () => {
      expect((await getList(pia, res.body.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
    });
    expect(await getOrder(pia, above)).toMatchObject({ status: 'FILLED' });
    // 0.1 BTC sold at 33000 = 3300 USDT less the 0.1 % maker fee (3.3).
    expect(await balance(pia, 'USDT')).toEqual({ free: '5396.70000000', locked: '0.00000000' });
    expect(await balance(pia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    expect(await lockRow(working)).toEqual({ status: 'closed', remaining: '0' });
    expect(await lockRow(-res.body.orderListId)).toEqual({ status: 'closed', remaining: '0' });
    await checkConservation(t.pg.url);
  });

  it('refuses an OTO the account cannot fund for both legs, and locks nothing', async () => {
    // omar has the working BUY's USDT but not the pending SELL's BTC.
    const res = await t.api.signed<ListBody & { code?: number; msg?: string }>(
      'POST',
      '/api/v3/orderList/oto',
      omar,
      {
        symbol: 'BTCUSDT',
        workingType: 'LIMIT',
        workingSide: 'BUY',
        workingPrice: '30000',
        workingQuantity: '0.1',
        workingTimeInForce: 'GTC',
        pendingType: 'LIMIT_MAKER',
        pendingSide: 'SELL',
        pendingPrice: '32000',
        pendingQuantity: '0.1',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    expect(await balance(omar, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    expect(await openOrders(omar)).toEqual([]);
    // And one it can fund (a pending BUY in the same asset: both locks from USDT, 3000 + 1500).
    const ok = await t.api.signed<ListBody & { code?: number; msg?: string }>(
      'POST',
      '/api/v3/orderList/oto',
      omar,
      {
        symbol: 'BTCUSDT',
        workingType: 'LIMIT_MAKER',
        workingSide: 'BUY',
        workingPrice: '30000',
        workingQuantity: '0.1',
        pendingType: 'LIMIT',
        pendingSide: 'BUY',
        pendingPrice: '15000',
        pendingQuantity: '0.1',
        pendingTimeInForce: 'GTC',
      },
    );
    expect(ok.status).toBe(200);
    expect(await balance(omar, 'USDT')).toEqual({ free: '500.00000000', locked: '4500.00000000' });
    // Amend keep priority: the working leg (its own lock) to 0.05, the engine's answer frees 1500 USDT; the
    // pending leg (paid from the list's lock) on its own to 0.04: 1500 × 0.06/0.1 = 900 more.
    const workingId = ok.body.orders[0].orderId;
    const pendingId = ok.body.orders[1].orderId;
    const amendKeepPriority = (orderId: number, newQty: string) =>
      t.api.signed<{ code?: number; amendedOrder?: { status: string; qty: string } }>(
        'PUT',
        '/api/v3/order/amend/keepPriority',
        omar,
        { symbol: 'BTCUSDT', orderId, newQty },
      );
    expect((await amendKeepPriority(workingId, '0.05')).status).toBe(200);
    await eventually(async () =>
      expect(await balance(omar, 'USDT')).toEqual({ free: '2000.00000000', locked: '3000.00000000' }),
    );
    const pendingAmend = await amendKeepPriority(pendingId, '0.04');
    expect(pendingAmend.status).toBe(200);
    expect(pendingAmend.body.amendedOrder).toMatchObject({ status: 'PENDING_NEW', qty: '0.04000000' });
    await eventually(async () =>
      expect(await balance(omar, 'USDT')).toEqual({ free: '2900.00000000', locked: '2100.00000000' }),
    );
    expect(await getOrder(omar, workingId)).toMatchObject({ status: 'NEW' });
    // Cancelling the pending leg by its order id cancels the whole list (Binance), and frees both locks.
    const cancel = await t.api.signed<OrderBody>('DELETE', '/api/v3/order', omar, {
      symbol: 'BTCUSDT',
      orderId: pendingId,
    });
    expect(cancel.status).toBe(200);
    await eventually(async () => {
      expect((await getList(omar, ok.body.orderListId)).body.listOrderStatus).toBe('ALL_DONE');
      expect(await getOrder(omar, ok.body.orders[0].orderId)).toMatchObject({ status: 'CANCELED' });
      expect(await getOrder(omar, pendingId)).toMatchObject({ status: 'CANCELED' });
    });
    expect(await balance(omar, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('refuses malformed OTO/OTOCO parameters with Binance errors and changes nothing', async () => {
    const missingWorking = await t.api.signed<ListBody & { code?: number; msg?: string }>(
      'POST',
      '/api/v3/orderList/oto',
      omar,
      {
        symbol: 'BTCUSDT',
        workingSide: 'BUY',
        workingPrice: '30000',
        workingQuantity: '0.1',
        pendingType: 'LIMIT',
        pendingSide: 'SELL',
        pendingPrice: '32000',
        pendingQuantity: '0.1',
        pendingTimeInForce: 'GTC',
      },
    );
    expect(missingWorking.status).toBe(400);
    expect(missingWorking.body.code).toBe(-1102);
    expect(missingWorking.body.msg).toContain('workingType');
    const badPendingPrice = await otoco(omar, { pendingAbovePrice: 'abc' });
    expect(badPendingPrice.status).toBe(400);
    expect(badPendingPrice.body.code).toBeLessThan(0);
    expect(await balance(omar, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    expect(await openOrders(omar)).toEqual([]);
  });
});
