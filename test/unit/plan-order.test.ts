import { planOrder, type NewOrderParams } from '../../lambdas/api/orders/plan-order';
import { MARKETS } from '../../lib/markets';

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
