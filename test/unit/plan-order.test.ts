import { needsBestOpposite, planOrder, type NewOrderParams } from '@lambdas/api/orders/plan-order';
import { MARKETS } from '@contracts/markets';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const limit = (over: Partial<NewOrderParams> = {}): NewOrderParams => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  quantity: '0.5',
  price: '30000',
  ...over,
});

function codeOf(fn: () => unknown): { status: number; code: number; msg: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { statusCode?: number; status?: number; code: number; message: string };
    return { status: e.statusCode ?? e.status ?? 0, code: e.code, msg: e.message };
  }
  throw new Error('expected a Binance error');
}

describe('planOrder: trailing stops', () => {
  const trailing = (over: Partial<NewOrderParams> = {}): NewOrderParams => ({
    symbol: 'BTCUSDT',
    side: 'SELL',
    type: 'STOP_LOSS',
    quantity: '0.1',
    trailingDelta: '100',
    ...over,
  });

  it('a trailing STOP_LOSS SELL needs no stopPrice and locks its base quantity, as a plain stop', () => {
    const plan = planOrder(btc, trailing());
    expect(plan.command).toEqual({
      kind: 'place',
      market: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: 10_000,
      stpMode: 'EXPIRE_MAKER',
      icebergQuantity: undefined,
      stopPrice: undefined,
      timeInForce: undefined,
      price: undefined,
      trailingDelta: 100,
    });
    expect(plan.lock).toEqual({ asset: 'BTC', amount: 10_000_000n });
  });

  it('with a stopPrice (the activation price) and a limit: the limit order’s lock', () => {
    const plan = planOrder(
      btc,
      trailing({
        side: 'BUY',
        type: 'TAKE_PROFIT_LIMIT',
        timeInForce: 'GTC',
        price: '29500',
        stopPrice: '29000',
        trailingDelta: '250',
      }),
    );
    expect(plan.command).toMatchObject({ type: 'TAKE_PROFIT_LIMIT', stopPrice: 2_900_000, price: 2_950_000 });
    expect(plan.command.trailingDelta).toBe(250);
    expect(plan.lock).toEqual({ asset: 'USDT', amount: 2_950n * 100_000_000n });
  });

  it('a market-like BUY runs protected: 5 % past where it would trigger from its reference', () => {
    // From its stopPrice 30,000: triggers at 30,000 × 1.01 = 30,300 at the earliest; protected 31,815.
    const fromStop = planOrder(btc, trailing({ side: 'BUY', stopPrice: '30000' }));
    expect(fromStop.command).toMatchObject({
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'IOC',
      price: 3_181_500,
      stopPrice: 3_000_000,
      trailingDelta: 100,
    });
    expect(fromStop.userType).toBe('STOP_LOSS');
    // Trailing from entry: from the best ask, 30,000.01 → 30,300.0101 → 30,300.02 (up) → 31,815.021 → 31,815.03.
    const fromEntry = planOrder(btc, trailing({ side: 'BUY' }), 3_000_001);
    expect(fromEntry.command).toMatchObject({
      type: 'STOP_LOSS_LIMIT',
      price: 3_181_503,
      trailingDelta: 100,
    });
    expect(codeOf(() => planOrder(btc, trailing({ side: 'BUY' })))).toMatchObject({ code: -2010 });
  });

  it.each([
    ['below the filter', trailing({ trailingDelta: '9' }), -1013, 'Filter failure: TRAILING_DELTA'],
    ['above the filter', trailing({ trailingDelta: '2001' }), -1013, 'Filter failure: TRAILING_DELTA'],
    [
      'above the filter (BUY STOP_LOSS: the "above" bounds)',
      trailing({ side: 'BUY', stopPrice: '30000', trailingDelta: '2001' }),
      -1013,
      'Filter failure: TRAILING_DELTA',
    ],
    [
      'not a whole number',
      trailing({ trailingDelta: '1.5' }),
      -1100,
      "Illegal characters found in parameter 'trailingDelta'; legal range is '^[0-9]{1,20}$'.",
    ],
    [
      'on a MARKET order',
      trailing({ type: 'MARKET' }),
      -1106,
      "Parameter 'trailingDelta' sent when not required.",
    ],
    [
      'a stop without stopPrice nor trailingDelta',
      trailing({ trailingDelta: undefined }),
      -1102,
      "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
    ],
  ])('refuses %s', (_, params, code, msg) => {
    expect(codeOf(() => planOrder(btc, params))).toEqual({ status: 400, code, msg });
  });

  it('accepts the filter bounds themselves', () => {
    expect(planOrder(btc, trailing({ trailingDelta: '10' })).command.trailingDelta).toBe(10);
    expect(planOrder(btc, trailing({ trailingDelta: '2000' })).command.trailingDelta).toBe(2000);
  });
});

describe('planOrder', () => {
  it('LIMIT BUY locks price × quantity of quote (1 tick·lot = 10 USDT minor units)', () => {
    const plan = planOrder(btc, limit());
    expect(plan.command).toMatchObject({
      type: 'LIMIT',
      side: 'BUY',
      timeInForce: 'GTC',
      price: 3_000_000,
      quantity: 50_000,
    });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: 15_000n * 100_000_000n });
  });

  it('LIMIT SELL locks the base quantity', () => {
    const plan = planOrder(btc, limit({ side: 'SELL' }));
    expect(plan.lock).toEqual({ asset: 'BTC', amount: 50_000_000n });
  });

  it('MARKET BUY by quote amount locks exactly that amount', () => {
    const plan = planOrder(btc, { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: '100' });
    expect(plan.command).toMatchObject({ type: 'MARKET', quoteQuantity: 1_000_000_000 });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: 10_000_000_000n });
  });

  it('MARKET BUY by quantity runs as a protected LIMIT IOC 5 % above the best ask', () => {
    const plan = planOrder(
      btc,
      { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.1' },
      3_000_000,
    );
    expect(plan.userType).toBe('MARKET');
    expect(plan.command).toMatchObject({
      type: 'LIMIT',
      timeInForce: 'IOC',
      price: 3_150_000,
      quantity: 10_000,
    });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: 3_150n * 100_000_000n });
    expect(
      codeOf(() => planOrder(btc, { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.1' })),
    ).toMatchObject({ code: -2010 });
  });

  it('stop orders: SELL stays a stop market order, BUY becomes a protected stop limit', () => {
    const sell = planOrder(btc, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: '0.1',
      stopPrice: '29000',
    });
    expect(sell.command).toMatchObject({ type: 'STOP_LOSS', stopPrice: 2_900_000, quantity: 10_000 });
    expect(sell.lock).toEqual({ asset: 'BTC', amount: 10_000_000n });
    const buy = planOrder(btc, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'STOP_LOSS',
      quantity: '0.1',
      stopPrice: '31000',
    });
    expect(buy.command).toMatchObject({
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'IOC',
      price: 3_255_000,
      stopPrice: 3_100_000,
    });
  });

  it('iceberg within ICEBERG_PARTS is accepted, beyond it refused', () => {
    expect(planOrder(btc, limit({ quantity: '1', icebergQty: '0.1' })).command.icebergQuantity).toBe(10_000);
    expect(codeOf(() => planOrder(btc, limit({ quantity: '1', icebergQty: '0.005' })))).toMatchObject({
      code: -1013,
    });
  });

  it.each([
    ['missing price', limit({ price: undefined }), -1102],
    ['missing timeInForce', limit({ timeInForce: undefined }), -1102],
    ['missing quantity', limit({ quantity: undefined }), -1102],
    ['off-grid price', limit({ price: '30000.001' }), -1013],
    ['quantity below step', limit({ quantity: '0.000001' }), -1013],
    ['below min notional', limit({ quantity: '0.0001', price: '100' }), -1013],
    ['exponent notation', limit({ quantity: '1e3' }), -1100],
    ['negative price', limit({ price: '-1' }), -1100],
    ['invalid side', limit({ side: 'HOLD' }), -1117],
    ['invalid type', limit({ type: 'TRAILING' }), -1116],
    ['invalid timeInForce', limit({ timeInForce: 'DAY' }), -1115],
    [
      'price on a market order',
      { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1', price: '1' },
      -1106,
    ],
    [
      'SELL by quote amount',
      { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quoteOrderQty: '100' },
      -1013,
    ],
    ['price above max', limit({ price: '2000000' }), -1013],
  ])('%s → %i', (_name, params, code) => {
    const err = codeOf(() => planOrder(btc, params as NewOrderParams, 3_000_000));
    expect(err.code).toBe(code);
    expect(err.status).toBe(400);
    expect(err.msg.length).toBeGreaterThan(0);
  });
});

describe('planOrder: every refusal names its filter or parameter', () => {
  const market = (over: Partial<NewOrderParams>): NewOrderParams => ({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'MARKET',
    ...over,
  });
  const stop = (over: Partial<NewOrderParams>): NewOrderParams => ({
    symbol: 'BTCUSDT',
    side: 'SELL',
    type: 'STOP_LOSS',
    quantity: '0.1',
    stopPrice: '29000',
    ...over,
  });
  const illegal = (name: string) =>
    `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`;

  it.each([
    [
      'trailingDelta on a LIMIT order',
      limit({ trailingDelta: '100' }),
      -1106,
      "Parameter 'trailingDelta' sent when not required.",
    ],
    [
      'unknown STP mode',
      limit({ selfTradePreventionMode: 'EXPIRE_ALL' }),
      -1100,
      "Illegal characters found in parameter 'selfTradePreventionMode'.",
    ],
    ['invalid side', limit({ side: 'HOLD' }), -1117, 'Invalid side.'],
    ['invalid type', limit({ type: 'TRAILING' }), -1116, 'Invalid orderType.'],
    ['price with letters', limit({ price: '3e4' }), -1100, illegal('price')],
    ['quantity with letters', limit({ quantity: '0x1' }), -1100, illegal('quantity')],
    ['quote amount with letters', market({ quoteOrderQty: '1,5' }), -1100, illegal('quoteOrderQty')],
    ['stop price with letters', stop({ stopPrice: '-5' }), -1100, illegal('stopPrice')],
    ['iceberg with letters', limit({ icebergQty: '.1' }), -1100, illegal('icebergQty')],
    ['21 integer digits', limit({ price: '123456789012345678901' }), -1100, illegal('price')],
    [
      'missing timeInForce',
      limit({ timeInForce: undefined }),
      -1102,
      "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
    ],
    ['invalid timeInForce', limit({ timeInForce: 'DAY' }), -1115, 'Invalid timeInForce.'],
    [
      'timeInForce on a MARKET order',
      market({ quantity: '0.1', timeInForce: 'GTC' }),
      -1106,
      "Parameter 'timeInForce' sent when not required.",
    ],
    [
      'missing price',
      limit({ price: '' }),
      -1102,
      "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
    ],
    ['price off the grid', limit({ price: '30000.001' }), -1013, 'Filter failure: PRICE_FILTER'],
    [
      'price on a MARKET order',
      market({ quantity: '0.1', price: '30000' }),
      -1106,
      "Parameter 'price' sent when not required.",
    ],
    [
      'missing stopPrice',
      stop({ stopPrice: undefined }),
      -1102,
      "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
    ],
    ['stopPrice off the grid', stop({ stopPrice: '29000.005' }), -1013, 'Filter failure: PRICE_FILTER'],
    [
      'stopPrice on a LIMIT order',
      limit({ stopPrice: '29000' }),
      -1106,
      "Parameter 'stopPrice' sent when not required.",
    ],
    [
      'quantity and quoteOrderQty',
      market({ quantity: '0.1', quoteOrderQty: '100' }),
      -1106,
      "Parameter 'quantity' sent when not required.",
    ],
    [
      'quoteOrderQty on a stop order',
      stop({ quantity: undefined, quoteOrderQty: '100' }),
      -1106,
      "Parameter 'quoteOrderQty' sent when not required.",
    ],
    [
      'quoteOrderQty on a LIMIT order',
      limit({ quoteOrderQty: '100' }),
      -1106,
      "Parameter 'quoteOrderQty' sent when not required.",
    ],
    [
      'quote amount under one tick·lot',
      market({ quoteOrderQty: '0.00000009' }),
      -1013,
      'Filter failure: NOTIONAL',
    ],
    [
      'quote amount under NOTIONAL',
      market({ quoteOrderQty: '4.9999999' }),
      -1013,
      'Filter failure: NOTIONAL',
    ],
    [
      'missing quantity',
      market({}),
      -1102,
      "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
    ],
    [
      'MARKET quantity off the grid',
      market({ quantity: '0.000001' }),
      -1013,
      'Filter failure: MARKET_LOT_SIZE',
    ],
    ['LIMIT quantity off the grid', limit({ quantity: '0.000001' }), -1013, 'Filter failure: LOT_SIZE'],
    ['iceberg off the grid', limit({ icebergQty: '0.000001' }), -1013, 'Filter failure: ICEBERG_PARTS'],
    ['iceberg as large as the order', limit({ icebergQty: '0.5' }), -1013, 'Filter failure: ICEBERG_PARTS'],
    [
      'iceberg on a quote amount',
      market({ quoteOrderQty: '100', icebergQty: '0.1' }),
      -1013,
      'Filter failure: ICEBERG_PARTS',
    ],
    [
      'iceberg in 101 parts',
      limit({ quantity: '1.01', icebergQty: '0.01' }),
      -1013,
      'Filter failure: ICEBERG_PARTS',
    ],
    ['IOC iceberg', limit({ timeInForce: 'IOC', icebergQty: '0.1' }), -2010, 'Iceberg orders must be GTC.'],
    [
      'LIMIT under NOTIONAL',
      limit({ quantity: '0.00001', price: '499999.99' }),
      -1013,
      'Filter failure: NOTIONAL',
    ],
    [
      'SELL by quote amount',
      market({ side: 'SELL', quoteOrderQty: '100' }),
      -1013,
      'quoteOrderQty is supported for BUY market orders only.',
    ],
  ])('%s → %i %s', (_name, params, code, msg) => {
    expect(codeOf(() => planOrder(btc, params as NewOrderParams, 3_000_000))).toEqual({
      status: 400,
      code,
      msg,
    });
  });

  it('MARKET by quantity: NOTIONAL at the best opposite price, refused only below it', () => {
    // 5 USDT = 50,000,000 tick·lots: 17 lots at 30,000 pass, 1 lot at 30,000 (0.3 USDT) does not.
    expect(codeOf(() => planOrder(btc, market({ quantity: '0.00001' }), 3_000_000))).toEqual({
      status: 400,
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
    expect(
      codeOf(() => planOrder(btc, market({ side: 'SELL', quantity: '0.00001' }), 3_000_000)),
    ).toMatchObject({
      code: -1013,
    });
    // Exactly the minimum is enough: 5 lots at 10,000,000 ticks (100,000 USDT) is 50,000,000 tick·lots.
    expect(planOrder(btc, market({ side: 'SELL', quantity: '0.00005' }), 10_000_000).command).toMatchObject({
      type: 'MARKET',
      quantity: 5,
    });
    expect(planOrder(btc, limit({ quantity: '0.00005', price: '100000' })).command).toMatchObject({
      price: 10_000_000,
      quantity: 5,
    });
    // A SELL by quantity without a book price is not checked here (the engine expires it if nothing trades).
    expect(planOrder(btc, market({ side: 'SELL', quantity: '0.00001' })).lock).toEqual({
      asset: 'BTC',
      amount: 1_000n,
    });
  });

  it('a quote amount at exactly NOTIONAL is accepted as MARKET, locking just that', () => {
    const plan = planOrder(btc, market({ quoteOrderQty: '5' }));
    expect(plan).toEqual({
      command: {
        kind: 'place',
        market: 'BTCUSDT',
        side: 'BUY',
        stpMode: 'EXPIRE_MAKER',
        icebergQuantity: undefined,
        stopPrice: undefined,
        type: 'MARKET',
        quoteQuantity: 50_000_000,
      },
      userType: 'MARKET',
      lock: { asset: 'USDT', amount: 500_000_000n },
    });
  });

  it('builds the whole command: defaults, STP, LIMIT_MAKER with or without a timeInForce, icebergs', () => {
    expect(planOrder(btc, limit({ newClientOrderId: 'x', timeInForce: 'FOK' }))).toEqual({
      command: {
        kind: 'place',
        market: 'BTCUSDT',
        side: 'BUY',
        stpMode: 'EXPIRE_MAKER',
        icebergQuantity: undefined,
        stopPrice: undefined,
        type: 'LIMIT',
        timeInForce: 'FOK',
        price: 3_000_000,
        quantity: 50_000,
      },
      userType: 'LIMIT',
      lock: { asset: 'USDT', amount: 1_500_000_000_000n },
    });
    const maker = planOrder(
      btc,
      limit({
        type: 'LIMIT_MAKER',
        timeInForce: 'GTC',
        side: 'SELL',
        selfTradePreventionMode: 'NONE',
        icebergQty: '0.05',
      }),
    );
    expect(maker.command).toEqual({
      kind: 'place',
      market: 'BTCUSDT',
      side: 'SELL',
      stpMode: 'NONE',
      icebergQuantity: 5_000,
      stopPrice: undefined,
      type: 'LIMIT_MAKER',
      timeInForce: undefined,
      price: 3_000_000,
      quantity: 50_000,
    });
    expect(
      planOrder(btc, limit({ type: 'LIMIT_MAKER', timeInForce: undefined })).command.timeInForce,
    ).toBeUndefined();
    // Ten parts exactly: accepted.
    expect(planOrder(btc, limit({ quantity: '1', icebergQty: '0.01' })).command.icebergQuantity).toBe(1_000);
    const sl = planOrder(btc, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'GTC',
      quantity: '0.1',
      price: '31000',
      stopPrice: '30900',
      selfTradePreventionMode: 'EXPIRE_BOTH',
    });
    expect(sl).toEqual({
      command: {
        kind: 'place',
        market: 'BTCUSDT',
        side: 'BUY',
        stpMode: 'EXPIRE_BOTH',
        icebergQuantity: undefined,
        stopPrice: 3_090_000,
        type: 'STOP_LOSS_LIMIT',
        timeInForce: 'GTC',
        price: 3_100_000,
        quantity: 10_000,
      },
      userType: 'STOP_LOSS_LIMIT',
      lock: { asset: 'USDT', amount: 310_000_000_000n },
    });
  });

  it('protected BUYs: 5 % past the reference rounded up to a tick, capped at maxPrice, within 2^53', () => {
    const tp = planOrder(btc, stop({ side: 'BUY', type: 'TAKE_PROFIT', stopPrice: '29000' }));
    expect(tp).toEqual({
      command: {
        kind: 'place',
        market: 'BTCUSDT',
        side: 'BUY',
        stpMode: 'EXPIRE_MAKER',
        icebergQuantity: undefined,
        stopPrice: 2_900_000,
        type: 'TAKE_PROFIT_LIMIT',
        timeInForce: 'IOC',
        price: 3_045_000,
        quantity: 10_000,
      },
      userType: 'TAKE_PROFIT',
      lock: { asset: 'USDT', amount: 304_500_000_000n },
    });
    // 3,000,001 × 1.05 = 3,150,001.05 → 3,150,002 ticks (never below 5 %).
    expect(planOrder(btc, market({ quantity: '0.1' }), 3_000_001).command.price).toBe(3_150_002);
    // 3,000,000 × 1.05 is exact: no extra tick.
    expect(planOrder(btc, market({ quantity: '0.1' }), 3_000_000).command.price).toBe(3_150_000);
    // Near the top of the book the limit is the market's maxPrice (1,000,000 = 100,000,000 ticks).
    expect(planOrder(btc, market({ quantity: '0.1' }), 99_000_000).command.price).toBe(100_000_000);
    expect(planOrder(btc, market({ quantity: '0.1' }), 95_238_095).command.price).toBe(100_000_000);
    expect(planOrder(btc, market({ quantity: '0.1' }), 95_238_094).command.price).toBe(99_999_999);
    expect(codeOf(() => planOrder(btc, market({ quantity: '0.1' })))).toEqual({
      status: 400,
      code: -2010,
      msg: 'Order would not execute: no liquidity on the book.',
    });
    // A market so wide that price × quantity passes 2^53.
    const wide = { ...btc, symbol: 'WIDE', maxPrice: '100000000000', maxQty: '100000000' };
    expect(codeOf(() => planOrder(wide, market({ quantity: '10000000' }), 1_000_000_000))).toEqual({
      status: 400,
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
    expect(codeOf(() => planOrder(wide, limit({ quantity: '10000000', price: '1000000000' })))).toEqual({
      status: 400,
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
    // Far under 2^53 but at a price no normal market allows: accepted, price × quantity is still exact.
    expect(planOrder(wide, limit({ quantity: '0.00001', price: '90071992547.40' })).command.price).toBe(
      9_007_199_254_740,
    );
  });
});

describe('planOrder: the edges of each check', () => {
  it('TAKE_PROFIT_LIMIT needs a price, a timeInForce and a stop price', () => {
    const tpl = planOrder(btc, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      quantity: '0.1',
      price: '31000',
      stopPrice: '31000',
    });
    expect(tpl.command).toMatchObject({
      type: 'TAKE_PROFIT_LIMIT',
      timeInForce: 'GTC',
      price: 3_100_000,
      stopPrice: 3_100_000,
    });
  });

  it('the best opposite price checks MARKET orders only, not limits or stops', () => {
    // 5 lots at 100,000 USDT pass NOTIONAL at their own price; a best opposite of 1 tick must not matter.
    expect(planOrder(btc, limit({ quantity: '0.00005', price: '100000' }), 1).command.price).toBe(10_000_000);
    const stopLoss = {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_LOSS',
      quantity: '0.00001',
      stopPrice: '29000',
    };
    expect(planOrder(btc, stopLoss, 3_000_000).command).toMatchObject({ type: 'STOP_LOSS', quantity: 1 });
  });

  it('a quote amount: zero refused even without a NOTIONAL minimum, beyond 2^53 tick·lots refused', () => {
    const free = { ...btc, symbol: 'FREE', minNotional: '0' };
    const buy = (quoteOrderQty: string) => ({ symbol: 'FREE', side: 'BUY', type: 'MARKET', quoteOrderQty });
    expect(codeOf(() => planOrder(free, buy('0.00000009')))).toMatchObject({
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
    expect(planOrder(free, buy('0.0000001')).command.quoteQuantity).toBe(1);
    expect(codeOf(() => planOrder(btc, { ...buy('1000000000000'), symbol: 'BTCUSDT' }))).toMatchObject({
      code: -1013,
      msg: 'Filter failure: NOTIONAL',
    });
  });

  it('price × quantity of exactly 2^53 − 1 tick·lots is accepted, plain and protected', () => {
    // 9,007,199,254,740,991 = 441,650,591 × 20,394,401.
    const wide = { ...btc, symbol: 'WIDE2', maxPrice: '4416505.91', maxQty: '100000000' };
    const plain = planOrder(wide, limit({ symbol: 'WIDE2', price: '4416505.91', quantity: '203.94401' }));
    expect(plain.command).toMatchObject({ price: 441_650_591, quantity: 20_394_401 });
    // A protected BUY capped at maxPrice: the same product.
    const market = { symbol: 'WIDE2', side: 'BUY', type: 'MARKET', quantity: '203.94401' };
    expect(planOrder(wide, market, 441_000_000).command).toMatchObject({
      price: 441_650_591,
      quantity: 20_394_401,
    });
  });
});

describe('needsBestOpposite: when planning reads the book first', () => {
  it.each<[string, Parameters<typeof needsBestOpposite>[0], boolean]>([
    ['MARKET by quantity, BUY', { type: 'MARKET', side: 'BUY' }, true],
    ['MARKET by quantity, SELL (NOTIONAL at the reference price)', { type: 'MARKET', side: 'SELL' }, true],
    ['MARKET by quote amount', { type: 'MARKET', side: 'BUY', quoteOrderQty: '100' }, false],
    [
      'MARKET with an empty quote amount (read as absent)',
      { type: 'MARKET', side: 'BUY', quoteOrderQty: '' },
      true,
    ],
    ['trailing stop BUY from entry', { type: 'STOP_LOSS', side: 'BUY', trailingDelta: '100' }, true],
    [
      'trailing stop BUY, empty stopPrice',
      { type: 'STOP_LOSS', side: 'BUY', trailingDelta: '100', stopPrice: '' },
      true,
    ],
    [
      'trailing stop BUY with a stopPrice',
      { type: 'STOP_LOSS', side: 'BUY', trailingDelta: '100', stopPrice: '30000' },
      false,
    ],
    ['trailing stop SELL from entry', { type: 'STOP_LOSS', side: 'SELL', trailingDelta: '100' }, false],
    ['LIMIT', { type: 'LIMIT', side: 'BUY' }, false],
  ])('%s → %s', (_name, params, expected) => {
    expect(needsBestOpposite(params)).toBe(expected);
  });
});
