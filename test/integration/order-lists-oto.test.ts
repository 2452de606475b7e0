// OTO and OTOCO lists end to end against the local exchange (docs/api.md#order-lists): an OTO placed by
// unmodified ccxt (its implicit `privatePostOrderListOto`) whose working BUY fills, which places the pending
// SELL (PENDING_NEW → NEW), which then fills; both locks taken at placement (the working leg's own, the
// pending leg's with the list), each released by the engine's answers alone; an OTOCO cancelled before its
// working leg fills (everything comes back), and one run to the end (the placed pair acts as an OCO); a
// cancel of a pending leg cancels its list; an OTO the account cannot fund for both legs refused with nothing
// locked. Responses are checked against Binance's OpenAPI schemas (test/fixtures/binance-openapi).
import { Pool } from 'pg';
import { checkResponse } from '@test/fixtures/binance-openapi/validate';
import type { ApiKey } from '@test/support/binance-client';
import { CcxtWorker } from '@test/support/ccxt-worker';
import {
  accountBalance,
  checkConservation,
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '@test/support/exchange-helpers';

jest.setTimeout(180_000);

let t: TestExchange;
let pool: Pool;
let ccxt: CcxtWorker;
let kate: ApiKey & { userId: number }; // OTO by ccxt
let leo: ApiKey & { userId: number }; // fills kate's working leg
let mia: ApiKey & { userId: number }; // fills kate's pending leg
let nina: ApiKey & { userId: number }; // OTOCO, cancelled
let omar: ApiKey & { userId: number }; // refused OTO; cancels a pending leg
let pia: ApiKey & { userId: number }; // OTOCO that runs to the end
let quinn: ApiKey & { userId: number }; // fills pia's pending leg
const everyone = () => [kate, leo, mia, nina, omar, pia, quinn];

beforeAll(async () => {
  t = await startTestExchange(1_000);
  pool = new Pool({ connectionString: t.pg.url, max: 2 });
  const fund = (name: string, funds: Record<string, string>) =>
    registerFundedUser(t.api, t.pg.url, name, funds);
  [kate, leo, mia, nina, omar, pia, quinn] = await Promise.all([
    fund('kate', { USDT: '5000', BTC: '0.1' }),
    fund('leo', { BTC: '1' }),
    fund('mia', { USDT: '5000' }),
    fund('nina', { USDT: '5000', BTC: '0.1' }),
    fund('omar', { USDT: '5000' }),
    fund('pia', { USDT: '5000', BTC: '0.1' }),
    fund('quinn', { USDT: '5000' }),
  ]);
  ccxt = new CcxtWorker();
  await ccxt.add('kate', { apiKey: kate.apiKey, secret: kate.secretKey }, t.ex.restUrl.replace(/\/$/, ''));
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
  side: string;
  isWorking?: boolean;
}
interface ListBody {
  orderListId: number;
  contingencyType: string;
  listStatusType: string;
  listOrderStatus: string;
  listClientOrderId: string;
  orders: Array<{ symbol: string; orderId: number; clientOrderId: string }>;
  orderReports?: Array<OrderBody & Record<string, unknown>>;
  code?: number;
  msg?: string;
}

const balance = (key: ApiKey, asset: string) => accountBalance(t.api, key, asset);

const openOrders = async (key: ApiKey) =>
  (await t.api.signed<OrderBody[]>('GET', '/api/v3/openOrders', key, { symbol: 'BTCUSDT' })).body;
const getOrder = async (key: ApiKey, orderId: number) =>
  (await t.api.signed<OrderBody>('GET', '/api/v3/order', key, { symbol: 'BTCUSDT', orderId })).body;
const getList = async (key: ApiKey, orderListId: number) =>
  (await t.api.signed<ListBody>('GET', '/api/v3/orderList', key, { orderListId })).body;
const lockRow = async (orderId: number) =>
  (await pool.query('SELECT status, remaining FROM order_locks WHERE order_id = $1', [orderId])).rows[0];

async function limit(key: ApiKey, side: 'BUY' | 'SELL', quantity: string, price: string) {
  const res = await t.api.signed<OrderBody>('POST', '/api/v3/order', key, {
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity,
    price,
    newOrderRespType: 'RESULT',
  });
  expect(res.status).toBe(200);
  return res.body;
}

/** A BUY-then-SELL OTOCO: working BUY 0.1 at 29000, then a SELL pair (LIMIT_MAKER 33000, stop 28000). */
const otoco = (key: ApiKey, over: Record<string, string>) =>
  t.api.signed<ListBody>('POST', '/api/v3/orderList/otoco', key, {
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
  for (const key of everyone()) {
    if ((await openOrders(key)).length === 0) continue;
    await t.api.signed('DELETE', '/api/v3/openOrders', key, { symbol: 'BTCUSDT' });
    await eventually(async () => expect(await openOrders(key)).toEqual([]));
  }
});

describe('OTO and OTOCO order lists end to end', () => {
  it('an OTO by ccxt: the working BUY fills, the pending SELL is placed (PENDING_NEW → NEW) and fills; ALL_DONE', async () => {
    const placed = (await ccxt.call('kate', 'privatePostOrderListOto', [
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
    expect(await balance(kate, 'USDT')).toEqual({ free: '2000.00000000', locked: '3000.00000000' });
    expect(await balance(kate, 'BTC')).toEqual({ free: '0.00000000', locked: '0.10000000' });
    expect(await getOrder(kate, pending)).toMatchObject({
      status: 'PENDING_NEW',
      orderListId: placed.orderListId,
    });
    expect((await openOrders(kate)).map((o) => [o.orderId, o.status])).toEqual([
      [working, 'NEW'],
      [pending, 'PENDING_NEW'],
    ]);

    // The working leg fills (kate is the maker: 0.1 % of 0.1 BTC is her fee): the pending leg is placed.
    await limit(leo, 'SELL', '0.1', '30000');
    await eventually(async () => {
      expect(await getOrder(kate, working)).toMatchObject({ status: 'FILLED' });
      expect(await getOrder(kate, pending)).toMatchObject({ status: 'NEW', isWorking: true });
    });
    expect(await lockRow(working)).toEqual({ status: 'closed', remaining: '0' });
    expect(await balance(kate, 'USDT')).toEqual({ free: '2000.00000000', locked: '0.00000000' });
    expect(await balance(kate, 'BTC')).toEqual({ free: '0.09990000', locked: '0.10000000' });

    // The pending leg fills: 3200 USDT less the 0.1 % maker fee; the list is done and its lock closed.
    await limit(mia, 'BUY', '0.1', '32000');
    await eventually(async () => {
      expect(await getList(kate, placed.orderListId)).toMatchObject({
        listStatusType: 'ALL_DONE',
        listOrderStatus: 'ALL_DONE',
      });
    });
    expect(await getOrder(kate, pending)).toMatchObject({ status: 'FILLED' });
    expect(await lockRow(-placed.orderListId)).toEqual({ status: 'closed', remaining: '0' });
    expect(await balance(kate, 'USDT')).toEqual({ free: '5196.80000000', locked: '0.00000000' });
    expect(await balance(kate, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
    expect(await balance(mia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.00000000' });
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

    const cancelled = await t.api.signed<ListBody>('DELETE', '/api/v3/orderList', nina, {
      symbol: 'BTCUSDT',
      orderListId: res.body.orderListId,
    });
    expect(cancelled.status).toBe(200);
    await eventually(async () => {
      expect((await getList(nina, res.body.orderListId)).listOrderStatus).toBe('ALL_DONE');
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

    await limit(leo, 'SELL', '0.1', '29000');
    await eventually(async () => {
      expect(await getOrder(pia, working)).toMatchObject({ status: 'FILLED' });
      expect(await getOrder(pia, above)).toMatchObject({ status: 'NEW', isWorking: true });
      // A stop placed: NEW, waiting for its trigger (the last price is 29000, above 28000).
      expect(await getOrder(pia, below)).toMatchObject({ status: 'NEW', isWorking: false });
    });
    expect(await balance(pia, 'USDT')).toEqual({ free: '2100.00000000', locked: '0.00000000' });
    expect(await balance(pia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.10000000' });

    await limit(quinn, 'BUY', '0.04', '33000');
    await eventually(async () => {
      expect(await getOrder(pia, above)).toMatchObject({ status: 'PARTIALLY_FILLED' });
      expect(await getOrder(pia, below)).toMatchObject({ status: 'EXPIRED' });
    });
    expect(await balance(pia, 'BTC')).toEqual({ free: '0.09990000', locked: '0.06000000' });
    await limit(quinn, 'BUY', '0.06', '33000');
    await eventually(async () => {
      expect((await getList(pia, res.body.orderListId)).listOrderStatus).toBe('ALL_DONE');
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
    const res = await t.api.signed<ListBody>('POST', '/api/v3/orderList/oto', omar, {
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
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    expect(await balance(omar, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    expect(await openOrders(omar)).toEqual([]);
    // And one it can fund (a pending BUY in the same asset: both locks from USDT, 3000 + 1500).
    const ok = await t.api.signed<ListBody>('POST', '/api/v3/orderList/oto', omar, {
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
    });
    expect(ok.status).toBe(200);
    expect(await balance(omar, 'USDT')).toEqual({ free: '500.00000000', locked: '4500.00000000' });
    // Cancelling the pending leg by its order id cancels the whole list (Binance), and frees both locks.
    const pendingId = ok.body.orders[1].orderId;
    const cancel = await t.api.signed<OrderBody>('DELETE', '/api/v3/order', omar, {
      symbol: 'BTCUSDT',
      orderId: pendingId,
    });
    expect(cancel.status).toBe(200);
    await eventually(async () => {
      expect((await getList(omar, ok.body.orderListId)).listOrderStatus).toBe('ALL_DONE');
      expect(await getOrder(omar, ok.body.orders[0].orderId)).toMatchObject({ status: 'CANCELED' });
      expect(await getOrder(omar, pendingId)).toMatchObject({ status: 'CANCELED' });
    });
    expect(await balance(omar, 'USDT')).toEqual({ free: '5000.00000000', locked: '0.00000000' });
    await checkConservation(t.pg.url);
  });

  it('refuses malformed OTO/OTOCO parameters with Binance errors and changes nothing', async () => {
    const missingWorking = await t.api.signed<ListBody>('POST', '/api/v3/orderList/oto', omar, {
      symbol: 'BTCUSDT',
      workingSide: 'BUY',
      workingPrice: '30000',
      workingQuantity: '0.1',
      pendingType: 'LIMIT',
      pendingSide: 'SELL',
      pendingPrice: '32000',
      pendingQuantity: '0.1',
      pendingTimeInForce: 'GTC',
    });
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
