// Order lists (docs/api.md#order-lists) without I/O: OCO planning (Binance's leg rules, one lock per list),
// the REST shapes (checked against Binance's OpenAPI schemas), settlement operations, order views and the
// user-data payloads.
import { MatchingEngine } from '@engine/core';
import { rulesFromSpec } from '@engine/core/market';
import type { EngineEvent, ListStatusEvent } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import { ocoFromLegacy, planOco, type OcoParams } from '@lambdas/api/orders/plan-list';
import {
  cancelOrderListJson,
  newOrderListJson,
  orderJson,
  orderListJson,
  preventedMatchJson,
} from '@lambdas/api/orders/format';
import { orderProgressFromEvents, statusForClose } from '@lambdas/data-processor/order-view';
import { settlementItem } from '@lambdas/data-processor/process-record';
import { settlementOps } from '@lambdas/shared/ledger/repository';
import type { OrderListRecord } from '@lambdas/shared/ledger/order-list-repository';
import {
  executionReport,
  executions,
  listStatusPayload,
  listStatuses,
  usersOf,
} from '@lambdas/ws-fanout/user-payloads';
import { checkResponse } from '../fixtures/binance-openapi/validate';
import { orderRecord } from '../support/order-record';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const USDT = (n: number) => BigInt(Math.round(n * 100)) * 1_000_000n; // 8 decimals, n with ≤ 2 places

const sell = (over: Partial<OcoParams> = {}): OcoParams => ({
  symbol: 'BTCUSDT',
  side: 'SELL',
  quantity: '0.1',
  above: { type: 'LIMIT_MAKER', price: '31000' },
  below: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000', timeInForce: 'GTC' },
  ...over,
});

const buy = (over: Partial<OcoParams> = {}): OcoParams => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: '0.1',
  above: { type: 'STOP_LOSS', stopPrice: '31500' },
  below: { type: 'LIMIT_MAKER', price: '29000' },
  ...over,
});

const refusal = (p: OcoParams) => {
  try {
    planOco(btc, p);
  } catch (err) {
    const e = err as { statusCode: number; code: number; message: string };
    return { status: e.statusCode, code: e.code, msg: e.message };
  }
  throw new Error('accepted');
};

describe('OCO planning', () => {
  it('a SELL OCO: [above, below] legs on the market grid, the base quantity locked once', () => {
    const plan = planOco(btc, sell({ selfTradePreventionMode: 'EXPIRE_TAKER' }));
    expect(plan.contingencyType).toBe('OCO');
    expect(plan.stpMode).toBe('EXPIRE_TAKER');
    expect(plan.legs.map((l) => l.command)).toEqual([
      {
        side: 'SELL',
        type: 'LIMIT_MAKER',
        price: 3_100_000,
        quantity: 10_000,
        icebergQuantity: undefined,
        stopPrice: undefined,
        timeInForce: undefined,
      },
      {
        side: 'SELL',
        type: 'STOP_LOSS_LIMIT',
        price: 2_890_000,
        quantity: 10_000,
        stopPrice: 2_900_000,
        timeInForce: 'GTC',
        icebergQuantity: undefined,
      },
    ]);
    expect(plan.lock).toEqual({ asset: 'BTC', amount: 10_000_000n }); // 0.1 BTC, not 0.2
  });

  it('a BUY OCO locks the larger of its legs’ quote needs (a STOP_LOSS BUY at its protected price)', () => {
    const plan = planOco(btc, buy());
    // STOP_LOSS BUY runs as STOP_LOSS_LIMIT IOC at the stop + 5 %: 31500 × 1.05 = 33075.
    expect(plan.legs[0]).toMatchObject({
      userType: 'STOP_LOSS',
      command: { type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', price: 3_307_500, stopPrice: 3_150_000 },
    });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: USDT(3_307.5) });
    const limits = planOco(
      btc,
      buy({ above: { type: 'STOP_LOSS_LIMIT', price: '31600', stopPrice: '31500', timeInForce: 'GTC' } }),
    );
    expect(limits.lock).toEqual({ asset: 'USDT', amount: USDT(3_160) });
    // The other leg the larger: a TAKE_PROFIT_LIMIT below at a price above (the price relation still holds).
    expect(planOco(btc, buy({ below: { type: 'LIMIT_MAKER', price: '31400' } })).lock.amount).toBe(
      USDT(3_307.5),
    );
  });

  it('Binance’s leg rules per side, each with its own code', () => {
    expect(refusal(sell({ above: { type: 'LIMIT', price: '31000', timeInForce: 'GTC' } }))).toMatchObject({
      code: -1158,
    });
    expect(refusal(sell({ above: { type: 'MARKET' } }))).toMatchObject({ code: -1158 });
    expect(refusal(sell({ above: { type: 'STOP_LOSS', stopPrice: '31000' } }))).toMatchObject({
      code: -1197,
    });
    expect(refusal(sell({ below: { type: 'LIMIT_MAKER', price: '29000' } }))).toMatchObject({ code: -1166 });
    expect(refusal(sell({ below: { type: 'TAKE_PROFIT', stopPrice: '29000' } }))).toMatchObject({
      code: -1199,
    });
    expect(refusal(buy({ above: { type: 'LIMIT_MAKER', price: '31000' } }))).toMatchObject({ code: -1165 });
    expect(refusal(buy({ above: { type: 'TAKE_PROFIT', stopPrice: '31000' } }))).toMatchObject({
      code: -1198,
    });
    expect(refusal(buy({ below: { type: 'STOP_LOSS', stopPrice: '29000' } }))).toMatchObject({ code: -1196 });
    expect(refusal(sell({ side: 'HOLD' }))).toMatchObject({ code: -1117 });
    expect(refusal(sell({ above: {} }))).toMatchObject({
      code: -1102,
      msg: expect.stringContaining("'aboveType'"),
    });
  });

  it('a TAKE_PROFIT_LIMIT leg is compared at its limit price, as Binance and the engine do', () => {
    // Price above the stop leg's trigger, its own trigger below it: Binance's relation holds (price > stop).
    const ok = planOco(
      btc,
      sell({ above: { type: 'TAKE_PROFIT_LIMIT', price: '31000', stopPrice: '28500', timeInForce: 'GTC' } }),
    );
    const engine = new MatchingEngine([rulesFromSpec(btc)]);
    const out: EngineEvent[] = [];
    engine.apply(
      {
        kind: 'placeList',
        market: 'BTCUSDT',
        listId: 1,
        userId: 1,
        listClientOrderId: 'L',
        contingencyType: 'OCO',
        legs: ok.legs.map((l, i) => ({ ...l.command, orderId: i + 1, clientOrderId: `c${i + 1}` })),
        stpMode: ok.stpMode,
        ts: 1,
      },
      out,
    );
    expect(out.filter((e) => e.type === 'rejected')).toEqual([]);
    expect(out.some((e) => e.type === 'listStatus' && e.listStatusType === 'EXEC_STARTED')).toBe(true);
    // Its trigger above the stop leg's but its price below it: refused, as the engine would (INVALID_PRICE).
    expect(
      refusal(
        sell({
          above: { type: 'TAKE_PROFIT_LIMIT', price: '28500', stopPrice: '31000', timeInForce: 'GTC' },
        }),
      ),
    ).toMatchObject({ code: -2010, msg: 'The relationship of the prices for the orders is not correct.' });
  });

  it('prices: the relation between the legs, the filters, each error naming the leg’s own parameter', () => {
    expect(refusal(sell({ above: { type: 'LIMIT_MAKER', price: '28000' } }))).toEqual({
      status: 400,
      code: -2010,
      msg: 'The relationship of the prices for the orders is not correct.',
    });
    expect(refusal(buy({ below: { type: 'LIMIT_MAKER', price: '32000' } }))).toMatchObject({ code: -2010 });
    expect(
      refusal(sell({ below: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000' } })),
    ).toMatchObject({
      code: -1102,
      msg: expect.stringContaining("'belowTimeInForce'"),
    });
    expect(refusal(sell({ above: { type: 'LIMIT_MAKER' } }))).toMatchObject({
      code: -1102,
      msg: expect.stringContaining("'abovePrice'"),
    });
    expect(refusal(sell({ above: { type: 'LIMIT_MAKER', price: '31000.001' } }))).toMatchObject({
      code: -1013,
      msg: 'Filter failure: PRICE_FILTER',
    });
    expect(refusal(sell({ quantity: '0.000001' }))).toMatchObject({
      code: -1013,
      msg: 'Filter failure: LOT_SIZE',
    });
    expect(refusal(sell({ quantity: '0.0001' }))).toMatchObject({
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
  });

  it('icebergs only on limit legs, and GTC; client ids distinct', () => {
    expect(
      refusal(sell({ below: { type: 'STOP_LOSS', stopPrice: '29000', icebergQty: '0.01' } })),
    ).toMatchObject({ code: -1106 });
    expect(
      refusal(
        sell({
          below: {
            type: 'STOP_LOSS_LIMIT',
            price: '28900',
            stopPrice: '29000',
            timeInForce: 'IOC',
            icebergQty: '0.01',
          },
        }),
      ),
    ).toMatchObject({ code: -1160 });
    expect(
      planOco(btc, sell({ above: { type: 'LIMIT_MAKER', price: '31000', icebergQty: '0.01' } })).legs[0]
        .command.icebergQuantity,
    ).toBe(1_000);
    expect(
      refusal(
        sell({ listClientOrderId: 'x', above: { type: 'LIMIT_MAKER', price: '31000', clientOrderId: 'x' } }),
      ),
    ).toMatchObject({
      code: -2010,
      msg: 'Duplicate order sent.',
    });
  });

  it('the legacy order/oco: limit leg above for a SELL, below for a BUY; stopLimitPrice makes STOP_LOSS_LIMIT', () => {
    const legacy = { symbol: 'BTCUSDT', quantity: '0.1', price: '31000', stopPrice: '29000' };
    expect(
      ocoFromLegacy({ ...legacy, side: 'SELL', stopLimitPrice: '28900', stopLimitTimeInForce: 'GTC' }),
    ).toMatchObject({
      above: { type: 'LIMIT_MAKER', price: '31000' },
      below: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000', timeInForce: 'GTC' },
    });
    expect(ocoFromLegacy({ ...legacy, side: 'BUY', price: '29000', stopPrice: '31500' })).toMatchObject({
      above: { type: 'STOP_LOSS', stopPrice: '31500' },
      below: { type: 'LIMIT_MAKER', price: '29000' },
    });
    expect(() => ocoFromLegacy({ ...legacy, side: 'SELL', stopLimitPrice: '28900' })).toThrow(
      /stopLimitTimeInForce/,
    );
  });
});

const list: OrderListRecord = {
  orderListId: 4,
  userId: 7,
  symbol: 'BTCUSDT',
  listClientOrderId: 'L4',
  contingencyType: 'OCO',
  listStatusType: 'EXEC_STARTED',
  listOrderStatus: 'EXECUTING',
  orderIds: [10, 11],
  lockAsset: 'BTC',
  lockAmount: '10000000',
  time: 1_700_000_000_000,
  updateTime: 1_700_000_000_000,
  lastSeq: 3,
};
const legs = [
  orderRecord({
    orderId: 10,
    clientOrderId: 'a',
    side: 'SELL',
    type: 'LIMIT_MAKER',
    priceTicks: 3_100_000,
    qtyLots: 10_000,
    orderListId: 4,
    isWorking: true,
    workingTime: 5,
  }),
  orderRecord({
    orderId: 11,
    clientOrderId: 'b',
    side: 'SELL',
    type: 'STOP_LOSS_LIMIT',
    priceTicks: 2_890_000,
    stopTicks: 2_900_000,
    qtyLots: 10_000,
    orderListId: 4,
  }),
];

describe('order-list responses (Binance’s OpenAPI schemas)', () => {
  it('POST /api/v3/orderList/oco by newOrderRespType', () => {
    const result = newOrderListJson(btc, list, legs, 'RESULT', new Map());
    expect(checkResponse('POST /api/v3/orderList/oco', result)).toEqual([]);
    expect(result).toMatchObject({
      orderListId: 4,
      contingencyType: 'OCO',
      listStatusType: 'EXEC_STARTED',
      listOrderStatus: 'EXECUTING',
      listClientOrderId: 'L4',
      transactionTime: list.time,
      symbol: 'BTCUSDT',
      orders: [
        { symbol: 'BTCUSDT', orderId: 10, clientOrderId: 'a' },
        { symbol: 'BTCUSDT', orderId: 11, clientOrderId: 'b' },
      ],
    });
    expect(result.orderReports.map((r) => [r.orderId, r.orderListId])).toEqual([
      [10, 4],
      [11, 4],
    ]);
    const full = newOrderListJson(btc, list, legs, 'FULL', new Map([[10, []]]));
    expect(checkResponse('POST /api/v3/orderList/oco', full)).toEqual([]);
    const ack = newOrderListJson(btc, list, legs, 'ACK', new Map());
    expect(ack.orderReports[0]).toEqual({
      symbol: 'BTCUSDT',
      orderId: 10,
      orderListId: 4,
      clientOrderId: 'a',
      transactTime: 1,
    });
  });

  it('DELETE /api/v3/orderList, GET orderList / allOrderList / openOrderList', () => {
    const cancelled = cancelOrderListJson(
      btc,
      { ...list, listStatusType: 'ALL_DONE', listOrderStatus: 'ALL_DONE' },
      legs.map((o) => ({ ...o, status: 'CANCELED' as const })),
      1_700_000_000_500,
      'cx',
    );
    expect(checkResponse('DELETE /api/v3/orderList', cancelled)).toEqual([]);
    expect(cancelled.orderReports[0]).toMatchObject({
      origClientOrderId: 'a',
      clientOrderId: 'cx',
      status: 'CANCELED',
    });
    const one = orderListJson(list, legs);
    expect(checkResponse('/api/v3/orderList', one)).toEqual([]);
    expect(checkResponse('/api/v3/allOrderList', [one])).toEqual([]);
    expect(checkResponse('/api/v3/openOrderList', [one])).toEqual([]);
  });

  it('orders show their list id; single orders -1', () => {
    expect(orderJson(btc, legs[0]).orderListId).toBe(4);
    expect(orderJson(btc, orderRecord()).orderListId).toBe(-1);
  });

  it('GET /api/v3/myPreventedMatches', () => {
    const m = preventedMatchJson(btc, {
      symbol: 'BTCUSDT',
      preventedMatchId: 1,
      takerOrderId: 5,
      makerOrderId: 3,
      priceTicks: 3_000_000,
      makerPreventedLots: 1_000,
      stpMode: 'EXPIRE_MAKER',
      transactTime: 9,
    });
    expect(checkResponse('/api/v3/myPreventedMatches', [m])).toEqual([]);
    expect(m).toMatchObject({
      price: '30000.00000000',
      makerPreventedQuantity: '0.01000000',
      makerSymbol: 'BTCUSDT',
    });
  });
});

const base = { market: 'BTCUSDT', ts: 50 };
const status = (over: Partial<ListStatusEvent>): ListStatusEvent => ({
  ...base,
  seq: 9,
  type: 'listStatus',
  listId: 4,
  userId: 7,
  listClientOrderId: 'L4',
  contingencyType: 'OCO',
  listStatusType: 'ALL_DONE',
  listOrderStatus: 'ALL_DONE',
  orderIds: [10, 11],
  ...over,
});

describe('settlement of list events', () => {
  const events: EngineEvent[] = [
    { ...base, seq: 5, type: 'rejected', command: 'placeList', orderId: 12, userId: 7, reason: 'WOULD_TAKE' },
    { ...base, seq: 6, type: 'closed', orderId: 11, userId: 7, reason: 'LIST', executedQty: 0, cumQuote: 0 },
    {
      ...base,
      seq: 7,
      type: 'prevented',
      preventedMatchId: 2,
      takerOrderId: 13,
      makerOrderId: 10,
      userId: 7,
      price: 3_100_000,
      makerPreventedQuantity: 10_000,
      stpMode: 'EXPIRE_MAKER',
    },
    { ...base, seq: 8, type: 'activated', orderId: 14, userId: 7, orderListId: 5, orderType: 'LIMIT' },
    status({}),
  ];
  const item = settlementItem(btc, {
    key: 'k',
    record: { v: 1, market: 'BTCUSDT', commands: [], events },
    raw: '',
  });

  it('a refused list leg is a first-answer rejection; the status and the prevented match are operations', () => {
    expect(item.rejectedOrderIds).toEqual([12]);
    expect(settlementOps(item)).toEqual([
      { op: 'rejectPlace', orderId: 12, seq: 5, ts: 50 },
      { op: 'release', orderId: 11 },
      {
        op: 'prevented',
        market: 'BTCUSDT',
        preventedMatchId: 2,
        userId: 7,
        takerOrderId: 13,
        makerOrderId: 10,
        price: 3_100_000,
        makerPreventedQuantity: 10_000,
        stpMode: 'EXPIRE_MAKER',
        ts: 50,
      },
      {
        op: 'listStatus',
        listId: 4,
        listStatusType: 'ALL_DONE',
        listOrderStatus: 'ALL_DONE',
        seq: 9,
        ts: 50,
      },
    ]);
  });

  it('a leg its sibling expired shows EXPIRED; an activated pending leg is NEW and working; list events advance no order row', () => {
    expect(statusForClose('LIST')).toBe('EXPIRED');
    expect(orderProgressFromEvents(events)).toEqual([
      { orderId: 11, seq: 6, updateTime: 50, status: 'EXPIRED', executedLots: 0, cumQuote: 0 },
      { orderId: 14, seq: 8, updateTime: 50, status: 'NEW', isWorking: true, workingTime: 50 },
    ]);
  });

  it('a pending leg is accepted PENDING_NEW, not working; a stop leg activated stays not working', () => {
    const accepted = (orderId: number, seq: number, orderType: 'LIMIT' | 'STOP_LOSS'): EngineEvent => ({
      ...base,
      seq,
      type: 'accepted',
      orderId,
      userId: 7,
      clientOrderId: `c${orderId}`,
      side: 'SELL',
      orderType,
      timeInForce: 'GTC',
      price: orderType === 'LIMIT' ? 3_100_000 : 0,
      quantity: 10_000,
      quoteQuantity: 0,
      stopPrice: orderType === 'LIMIT' ? 0 : 2_900_000,
      icebergQuantity: 0,
      stpMode: 'EXPIRE_MAKER',
      orderListId: 5,
      pending: true,
    });
    expect(
      orderProgressFromEvents([
        accepted(20, 1, 'LIMIT'),
        accepted(21, 2, 'STOP_LOSS'),
        {
          ...base,
          seq: 3,
          type: 'activated',
          orderId: 21,
          userId: 7,
          orderListId: 5,
          orderType: 'STOP_LOSS',
        },
      ]),
    ).toEqual([
      { orderId: 20, seq: 1, updateTime: 50, status: 'PENDING_NEW', isWorking: false },
      { orderId: 21, seq: 3, updateTime: 50, status: 'NEW', isWorking: false },
    ]);
  });
});

describe('user data for lists', () => {
  it('listStatus as Binance sends it, to the list’s owner', () => {
    const e = status({ listStatusType: 'EXEC_STARTED', listOrderStatus: 'EXECUTING' });
    expect(usersOf([e])).toEqual(new Set([7]));
    expect(listStatuses([e], new Set([8]))).toEqual([]);
    expect(listStatusPayload(e, new Map([[10, 'a']]), 99)).toEqual({
      e: 'listStatus',
      E: 99,
      s: 'BTCUSDT',
      g: 4,
      c: 'OCO',
      l: 'EXEC_STARTED',
      L: 'EXECUTING',
      r: 'NONE',
      C: 'L4',
      T: 50,
      O: [
        { s: 'BTCUSDT', i: 10, c: 'a' },
        { s: 'BTCUSDT', i: 11, c: '' },
      ],
    });
    expect(
      listStatusPayload(status({ listOrderStatus: 'REJECT', rejectReason: 'WOULD_TAKE' }), new Map(), 1).r,
    ).toBe('WOULD_MATCH_IMMEDIATELY');
  });

  it('executionReport g is the list id; a leg expired by its sibling reports EXPIRED; refused legs REJECTED', () => {
    const ex = executions(
      btc,
      [
        {
          ...base,
          seq: 6,
          type: 'closed',
          orderId: 11,
          userId: 7,
          reason: 'LIST',
          executedQty: 0,
          cumQuote: 0,
        },
        {
          ...base,
          seq: 7,
          type: 'rejected',
          command: 'placeList',
          orderId: 12,
          userId: 7,
          reason: 'WOULD_TAKE',
        },
      ],
      new Set([7]),
    );
    expect(ex.map((x) => [x.orderId, x.execution.x, x.execution.X])).toEqual([
      [11, 'EXPIRED', 'EXPIRED'],
      [12, 'REJECTED', 'REJECTED'],
    ]);
    expect(executionReport(btc, legs[1], ex[0].execution, 1).g).toBe(4);
    expect(executionReport(btc, orderRecord(), ex[0].execution, 1).g).toBe(-1);
  });
});
