// PUT /api/v3/order/amend/keepPriority against the local exchange (docs/api.md#amend-keep-priority): a lower
// quantity keeps the order's place in its price level, the ledger releases exactly the freed part of the lock
// with the engine's answer (BUY: quote, SELL: base), refusals change nothing, nobody amends another user's
// order, and the ledger's invariants hold at the end.
import type { ApiKey } from '../support/binance-client';
import {
  accountBalance,
  placeLimit,
  checkConservation,
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';

jest.setTimeout(120_000);

let t: TestExchange;

beforeAll(async () => {
  t = await startTestExchange(1_000);
});

afterAll(async () => {
  await t?.stop();
});

interface OrderBody {
  orderId: number;
  clientOrderId: string;
  status: string;
  origQty: string;
  executedQty: string;
}

const balance = (key: ApiKey, asset: string) => accountBalance(t.api, key, asset);

const limit = (key: ApiKey, side: 'BUY' | 'SELL', quantity: string, price: string, clientId?: string) =>
  placeLimit<OrderBody>(t.api, key, side, quantity, price, { newClientOrderId: clientId });

const amend = (key: ApiKey, params: Record<string, string | number | undefined>) =>
  t.api.signed<Record<string, unknown>>('PUT', '/api/v3/order/amend/keepPriority', key, {
    symbol: 'BTCUSDT',
    ...params,
  });

const getOrder = async (key: ApiKey, orderId: number) =>
  (await t.api.signed<OrderBody>('GET', '/api/v3/order', key, { symbol: 'BTCUSDT', orderId })).body;

describe('amend keep priority', () => {
  it('lowers a BUY: the freed quote comes back, the order keeps its place ahead of a later one', async () => {
    const ann = await registerFundedUser(t.api, t.pg.url, 'ann', { USDT: '1000' });
    const ben = await registerFundedUser(t.api, t.pg.url, 'ben', { USDT: '1000' });
    const cid = await registerFundedUser(t.api, t.pg.url, 'cid', { BTC: '1' });
    const first = await limit(ann, 'BUY', '0.02', '30000', 'amend-me');
    const second = await limit(ben, 'BUY', '0.02', '30000');
    expect(await balance(ann, 'USDT')).toEqual({ free: '400.00000000', locked: '600.00000000' });

    const res = await amend(ann, { orderId: first.orderId, newQty: '0.015' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      transactTime: expect.any(Number),
      executionId: expect.any(Number),
      amendedOrder: {
        symbol: 'BTCUSDT',
        orderId: first.orderId,
        orderListId: -1,
        origClientOrderId: 'amend-me',
        clientOrderId: 'amend-me',
        price: '30000.00000000',
        qty: '0.01500000',
        executedQty: '0.00000000',
        preventedQty: '0.00000000',
        quoteOrderQty: '0.00000000',
        cumulativeQuoteQty: '0.00000000',
        status: 'NEW',
        timeInForce: 'GTC',
        type: 'LIMIT',
        side: 'BUY',
        workingTime: expect.any(Number),
        selfTradePreventionMode: 'EXPIRE_MAKER',
      },
    });
    // 0.005 × 30000 = 150 USDT released with the engine's answer.
    expect(await balance(ann, 'USDT')).toEqual({ free: '550.00000000', locked: '450.00000000' });
    expect((await getOrder(ann, first.orderId)).origQty).toBe('0.01500000');

    // A sell of 0.015 at that price fills the amended order first (priority kept), the later one not at all.
    const sold = await t.api.signed<OrderBody>('POST', '/api/v3/order', cid, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'IOC',
      quantity: '0.015',
      price: '30000',
    });
    expect(sold.body.status).toBe('FILLED');
    await eventually(async () => expect((await getOrder(ann, first.orderId)).status).toBe('FILLED'));
    expect(await getOrder(ben, second.orderId)).toMatchObject({ status: 'NEW', executedQty: '0.00000000' });
    expect(await balance(ann, 'USDT')).toEqual({ free: '550.00000000', locked: '0.00000000' });
    expect(await balance(ann, 'BTC')).toEqual({ free: '0.01498500', locked: '0.00000000' });
    await t.api.signed('DELETE', '/api/v3/order', ben, { symbol: 'BTCUSDT', orderId: second.orderId });
    await eventually(async () =>
      expect(await balance(ben, 'USDT')).toEqual({ free: '1000.00000000', locked: '0.00000000' }),
    );
  });

  it('lowers a partially filled SELL by origClientOrderId: the freed base comes back, twice in a row', async () => {
    const dee = await registerFundedUser(t.api, t.pg.url, 'dee', { BTC: '1' });
    const eve = await registerFundedUser(t.api, t.pg.url, 'eve', { USDT: '1000' });
    const order = await limit(dee, 'SELL', '0.1', '40000', 'dee-sell');
    await t.api.signed('POST', '/api/v3/order', eve, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'IOC',
      quantity: '0.02',
      price: '40000',
    });
    await eventually(async () =>
      expect((await getOrder(dee, order.orderId)).status).toBe('PARTIALLY_FILLED'),
    );
    expect(await balance(dee, 'BTC')).toEqual({ free: '0.90000000', locked: '0.08000000' });

    const once = await amend(dee, {
      origClientOrderId: 'dee-sell',
      newQty: '0.06',
      newClientOrderId: 'dee-sell',
    });
    expect(once.status).toBe(200);
    expect(once.body).toMatchObject({
      amendedOrder: { qty: '0.06000000', executedQty: '0.02000000', status: 'PARTIALLY_FILLED' },
    });
    expect(await balance(dee, 'BTC')).toEqual({ free: '0.94000000', locked: '0.04000000' });
    const twice = await amend(dee, { orderId: order.orderId, newQty: '0.03' });
    expect(twice.status).toBe(200);
    expect(await balance(dee, 'BTC')).toEqual({ free: '0.97000000', locked: '0.01000000' });

    // Its amendments, as Binance lists them (executionId: the engine's answer), for its owner only.
    const history = await t.api.signed<Array<Record<string, unknown>>>(
      'GET',
      '/api/v3/order/amendments',
      dee,
      {
        symbol: 'BTCUSDT',
        orderId: order.orderId,
      },
    );
    expect(history.status).toBe(200);
    expect(history.body).toEqual([
      {
        symbol: 'BTCUSDT',
        orderId: order.orderId,
        executionId: once.body.executionId,
        origClientOrderId: 'dee-sell',
        newClientOrderId: 'dee-sell',
        origQty: '0.10000000',
        newQty: '0.06000000',
        time: expect.any(Number),
      },
      {
        symbol: 'BTCUSDT',
        orderId: order.orderId,
        executionId: twice.body.executionId,
        origClientOrderId: 'dee-sell',
        newClientOrderId: 'dee-sell',
        origQty: '0.06000000',
        newQty: '0.03000000',
        time: expect.any(Number),
      },
    ]);
    const later = await t.api.signed<unknown[]>('GET', '/api/v3/order/amendments', dee, {
      symbol: 'BTCUSDT',
      orderId: order.orderId,
      fromExecutionId: twice.body.executionId as number,
      limit: 5,
    });
    expect(later.body).toHaveLength(1);
    const other = await t.api.signed<{ code: number }>('GET', '/api/v3/order/amendments', eve, {
      symbol: 'BTCUSDT',
      orderId: order.orderId,
    });
    expect([other.status, other.body.code]).toEqual([400, -2013]);
    const missing = await t.api.signed<{ code: number }>('GET', '/api/v3/order/amendments', dee, {
      symbol: 'BTCUSDT',
    });
    expect([missing.status, missing.body.code]).toEqual([400, -1102]);

    await t.api.signed('DELETE', '/api/v3/order', dee, { symbol: 'BTCUSDT', orderId: order.orderId });
    await eventually(async () =>
      expect(await balance(dee, 'BTC')).toEqual({ free: '0.98000000', locked: '0.00000000' }),
    );
  });

  it('lowers a stop waiting for its trigger: the freed base comes back at once; NOTIONAL at its stop price', async () => {
    const hal = await registerFundedUser(t.api, t.pg.url, 'hal', { BTC: '0.1' });
    const placed = await t.api.signed<OrderBody>('POST', '/api/v3/order', hal, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: '0.1',
      stopPrice: '10000',
      newOrderRespType: 'RESULT',
    });
    expect(placed.status).toBe(200);
    const orderId = placed.body.orderId;
    expect(await balance(hal, 'BTC')).toEqual({ free: '0.00000000', locked: '0.10000000' });
    // 10000 × 0.0001 = 1 USDT is under NOTIONAL: a stop market order is checked at its stop price.
    const tiny = await amend(hal, { orderId, newQty: '0.0001' });
    expect([tiny.status, tiny.body.code]).toEqual([400, -1013]);
    const res = await amend(hal, { orderId, newQty: '0.04' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      amendedOrder: { orderId, orderListId: -1, qty: '0.04000000', status: 'NEW', type: 'STOP_LOSS' },
    });
    expect(res.body).not.toHaveProperty('listStatus');
    await eventually(async () =>
      expect(await balance(hal, 'BTC')).toEqual({ free: '0.06000000', locked: '0.04000000' }),
    );
    expect(await getOrder(hal, orderId)).toMatchObject({ status: 'NEW', origQty: '0.04000000' });
    await t.api.signed('DELETE', '/api/v3/order', hal, { symbol: 'BTCUSDT', orderId });
    await eventually(async () =>
      expect(await balance(hal, 'BTC')).toEqual({ free: '0.10000000', locked: '0.00000000' }),
    );
  });

  it('refuses what it cannot do, with nothing changed', async () => {
    const fay = await registerFundedUser(t.api, t.pg.url, 'fay', { USDT: '1000' });
    const gus = await registerFundedUser(t.api, t.pg.url, 'gus', { USDT: '1000' });
    const order = await limit(fay, 'BUY', '0.01', '30000', 'fay-1');
    const cases: Array<[ApiKey, Record<string, string | number | undefined>, number, string]> = [
      [
        fay,
        { orderId: order.orderId, newQty: '0.02' },
        -2038,
        'Order amend (quantity increase) is not supported.',
      ],
      [
        fay,
        { orderId: order.orderId, newQty: '0.01' },
        -2038,
        'The requested action would change no state; rejecting',
      ],
      [fay, { orderId: order.orderId, newQty: '0.000001' }, -1013, 'Filter failure: LOT_SIZE'],
      [fay, { orderId: order.orderId, newQty: '0.0001' }, -1013, 'Filter failure: NOTIONAL'],
      [
        fay,
        { orderId: order.orderId, newQty: '1e-3' },
        -1100,
        "Illegal characters found in parameter 'newQty'",
      ],
      [fay, { orderId: order.orderId }, -1102, "Mandatory parameter 'newQty'"],
      [fay, { newQty: '0.005' }, -1102, "'origClientOrderId' or 'orderId'"],
      [fay, { orderId: order.orderId + 1_000_000, newQty: '0.005' }, -2038, 'Unknown order sent.'],
      [
        fay,
        { orderId: order.orderId, origClientOrderId: 'not-fay-1', newQty: '0.005' },
        -2039,
        'Client order ID is not correct',
      ],
      [
        fay,
        { orderId: order.orderId, newClientOrderId: 'renamed', newQty: '0.005' },
        -1130,
        'newClientOrderId',
      ],
      // Another user's order is indistinguishable from an unknown one.
      [gus, { orderId: order.orderId, newQty: '0.005' }, -2038, 'Unknown order sent.'],
      [gus, { origClientOrderId: 'fay-1', newQty: '0.005' }, -2038, 'Unknown order sent.'],
    ];
    for (const [key, params, code, msg] of cases) {
      const res = await amend(key, params);
      expect({ params, status: res.status, code: (res.body as { code: number }).code }).toEqual({
        params,
        status: 400,
        code,
      });
      expect((res.body as { msg: string }).msg).toContain(msg);
    }
    expect(await getOrder(fay, order.orderId)).toMatchObject({ status: 'NEW', origQty: '0.01000000' });
    expect(await balance(fay, 'USDT')).toEqual({ free: '700.00000000', locked: '300.00000000' });
    expect(await balance(gus, 'USDT')).toEqual({ free: '1000.00000000', locked: '0.00000000' });

    // A closed order cannot be amended.
    await t.api.signed('DELETE', '/api/v3/order', fay, { symbol: 'BTCUSDT', orderId: order.orderId });
    await eventually(async () => expect((await getOrder(fay, order.orderId)).status).toBe('CANCELED'));
    const closed = await amend(fay, { orderId: order.orderId, newQty: '0.005' });
    expect(closed.body).toEqual({ code: -2038, msg: 'Unknown order sent.' });
    expect(await balance(fay, 'USDT')).toEqual({ free: '1000.00000000', locked: '0.00000000' });
  });

  it('exchangeInfo says amendAllowed, with the MAX_NUM_ORDER_AMENDS filter and the default STP mode orders get', async () => {
    const info = await t.api.public<{
      symbols: Array<{
        amendAllowed: boolean;
        filters: Array<Record<string, unknown>>;
        defaultSelfTradePreventionMode: string;
      }>;
    }>('GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' });
    const [symbol] = info.body.symbols;
    expect(symbol.amendAllowed).toBe(true);
    expect(symbol.filters).toContainEqual({ filterType: 'MAX_NUM_ORDER_AMENDS', maxNumOrderAmends: 10 });
    expect(symbol.defaultSelfTradePreventionMode).toBe('EXPIRE_MAKER');
  });

  it('the ledger balances and every lock matches an open order', async () => {
    await checkConservation(t.pg.url);
  });
});
