// OTO / OTOCO planning (Binance POST /api/v3/orderList/oto and /otoco) without I/O: the working leg
// (LIMIT / LIMIT_MAKER) and its own lock, the pending leg or pending OCO pair and the list's lock, Binance's
// parameter names in every refusal, and the plans the matching engine accepts as they are.
import { MatchingEngine } from '@engine/core';
import { rulesFromSpec } from '@engine/core/market';
import type { EngineEvent, PlaceListCommand } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import {
  planOto,
  planOtoco,
  type ListPlan,
  type OtocoParams,
  type OtoParams,
} from '@lambdas/api/orders/plan-list';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const USDT = (n: number) => BigInt(Math.round(n * 100)) * 1_000_000n; // 8 decimals, n with ≤ 2 places
const BTC = (n: number) => BigInt(Math.round(n * 100_000)) * 1_000n; // 8 decimals, n with ≤ 5 places

/** BUY 0.1 BTC at 30000, then SELL it at 31000 as a maker. */
const oto = (over: Partial<OtoParams> = {}): OtoParams => ({
  symbol: 'BTCUSDT',
  working: { type: 'LIMIT', side: 'BUY', price: '30000', quantity: '0.1', timeInForce: 'GTC' },
  pending: { type: 'LIMIT_MAKER', side: 'SELL', price: '31000', quantity: '0.1' },
  ...over,
});
const working = (over: OtoParams['working']) => ({ working: { ...oto().working, ...over } });
const pending = (over: OtoParams['pending']) => ({ pending: { ...oto().pending, ...over } });

/** BUY 0.1 BTC at 30000, then SELL it: take profit at 31000 (maker) or stop out at 29000 (limit 28900). */
const otoco = (over: Partial<OtocoParams> = {}): OtocoParams => ({
  symbol: 'BTCUSDT',
  working: { type: 'LIMIT', side: 'BUY', price: '30000', quantity: '0.1', timeInForce: 'GTC' },
  pendingSide: 'SELL',
  pendingQuantity: '0.1',
  pendingAbove: { type: 'LIMIT_MAKER', price: '31000' },
  pendingBelow: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000', timeInForce: 'GTC' },
  ...over,
});

function refusal(fn: () => unknown): { status: number; code: number; msg: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { statusCode: number; code: number; message: string };
    return { status: e.statusCode, code: e.code, msg: e.message };
  }
  throw new Error('accepted');
}
const otoRefusal = (p: OtoParams, best?: { bid?: number; ask?: number }) =>
  refusal(() => planOto(btc, p, best));
const otocoRefusal = (p: OtocoParams, best?: { bid?: number; ask?: number }) =>
  refusal(() => planOtoco(btc, p, best));
const binanceError = (code: number, msg: string) => ({ status: 400, code, msg });
const mandatory = (name: string) =>
  binanceError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/** The plan as the engine's placeList, ids allocated 1.., answered by a fresh BTCUSDT book. */
function engineAnswer(plan: ListPlan): EngineEvent[] {
  const engine = new MatchingEngine([rulesFromSpec(btc)]);
  const cmd: PlaceListCommand = {
    kind: 'placeList',
    market: 'BTCUSDT',
    listId: 1,
    userId: 1,
    listClientOrderId: 'L',
    contingencyType: plan.contingencyType,
    legs: plan.legs.map((l, i) => ({ ...l.command, orderId: i + 1, clientOrderId: `c${i + 1}` })),
    stpMode: plan.stpMode,
    ts: 1,
  };
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}

describe('planOto', () => {
  it('a BUY LIMIT working leg and a SELL LIMIT_MAKER pending leg: two locks in two assets', () => {
    const plan = planOto(btc, oto({ listClientOrderId: 'L', selfTradePreventionMode: 'EXPIRE_TAKER' }));
    expect(plan.contingencyType).toBe('OTO');
    expect(plan.stpMode).toBe('EXPIRE_TAKER');
    expect(plan.legs).toEqual([
      {
        command: {
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 3_000_000,
          quantity: 10_000,
          icebergQuantity: undefined,
          stopPrice: undefined,
        },
        userType: 'LIMIT',
        clientOrderId: undefined,
        stpMode: 'EXPIRE_TAKER',
      },
      {
        command: {
          side: 'SELL',
          type: 'LIMIT_MAKER',
          timeInForce: undefined,
          price: 3_100_000,
          quantity: 10_000,
          icebergQuantity: undefined,
          stopPrice: undefined,
        },
        userType: 'LIMIT_MAKER',
        clientOrderId: undefined,
        stpMode: 'EXPIRE_TAKER',
        pending: true,
      },
    ]);
    expect(plan.legs[0]).not.toHaveProperty('pending');
    expect(plan.lock).toEqual({ asset: 'BTC', amount: 10_000_000n }); // the pending SELL's 0.1 BTC
    expect(plan.workingLock).toEqual({ asset: 'USDT', amount: 300_000_000_000n }); // 3000 USDT
    expect(plan.workingLock).toEqual({ asset: 'USDT', amount: USDT(3_000) });
  });

  it('the default STP mode is planOrder’s; client ids pass through to their legs', () => {
    const plan = planOto(
      btc,
      oto({
        listClientOrderId: 'L',
        ...working({ clientOrderId: 'w' }),
        pending: { ...oto().pending, clientOrderId: 'p' },
      }),
    );
    expect(plan.stpMode).toBe('EXPIRE_MAKER');
    expect(plan.legs.map((l) => [l.clientOrderId, l.stpMode])).toEqual([
      ['w', 'EXPIRE_MAKER'],
      ['p', 'EXPIRE_MAKER'],
    ]);
  });

  it('a LIMIT_MAKER working leg; a pending leg of any type but MARKET by quote, by planOrder’s rules', () => {
    // LIMIT_MAKER working: a timeInForce sent is ignored, as for a single LIMIT_MAKER.
    const maker = planOto(btc, oto(working({ type: 'LIMIT_MAKER', timeInForce: 'GTC' })));
    expect(maker.legs[0].command).toMatchObject({ type: 'LIMIT_MAKER', timeInForce: undefined });
    expect(maker.workingLock).toEqual({ asset: 'USDT', amount: USDT(3_000) });
    // A pending MARKET SELL by quantity.
    const market = planOto(btc, oto(pending({ type: 'MARKET', price: undefined })), { bid: 2_990_000 });
    expect(market.legs[1].command).toMatchObject({ type: 'MARKET', quantity: 10_000 });
    expect(market.lock).toEqual({ asset: 'BTC', amount: BTC(0.1) });
    // A pending trailing STOP_LOSS SELL without a stop price.
    const trailing = planOto(
      btc,
      oto(pending({ type: 'STOP_LOSS', price: undefined, trailingDelta: '200', quantity: '0.05' })),
    );
    expect(trailing.legs[1].command).toMatchObject({
      type: 'STOP_LOSS',
      trailingDelta: 200,
      quantity: 5_000,
    });
    expect(trailing.lock).toEqual({ asset: 'BTC', amount: 5_000_000n });
  });

  it('a pending BUY without a limit runs protected: its reference is best.ask, not best.bid', () => {
    // SELL 0.1 at 31000 first, then buy back at market: 30000 (the ask) × 1.05 = 31500 IOC.
    const p = oto({
      working: { type: 'LIMIT', side: 'SELL', price: '31000', quantity: '0.1', timeInForce: 'GTC' },
      pending: { type: 'MARKET', side: 'BUY', quantity: '0.1' },
    });
    const plan = planOto(btc, p, { bid: 2_000_000, ask: 3_000_000 });
    expect(plan.legs[1]).toMatchObject({
      userType: 'MARKET',
      pending: true,
      command: { type: 'LIMIT', timeInForce: 'IOC', price: 3_150_000, quantity: 10_000 },
    });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: USDT(3_150) });
    expect(plan.workingLock).toEqual({ asset: 'BTC', amount: BTC(0.1) });
    expect(otoRefusal(p, { bid: 2_000_000 })).toEqual(
      binanceError(-2010, 'Order would not execute: no liquidity on the book.'),
    );
  });

  it('-1102 names each missing mandatory parameter, working ones first', () => {
    expect(otoRefusal(oto(working({ type: undefined })))).toEqual(mandatory('workingType'));
    expect(otoRefusal(oto(working({ side: '' })))).toEqual(mandatory('workingSide'));
    expect(otoRefusal(oto(working({ price: undefined })))).toEqual(mandatory('workingPrice'));
    expect(otoRefusal(oto(working({ quantity: undefined })))).toEqual(mandatory('workingQuantity'));
    expect(otoRefusal(oto(pending({ type: undefined })))).toEqual(mandatory('pendingType'));
    expect(otoRefusal(oto(pending({ side: undefined })))).toEqual(mandatory('pendingSide'));
    expect(otoRefusal(oto(pending({ quantity: '' })))).toEqual(mandatory('pendingQuantity'));
    expect(otoRefusal(oto({ working: {}, pending: {} }))).toEqual(mandatory('workingType'));
    // Mandatory by type (Binance's table): workingTimeInForce for LIMIT, pendingPrice for LIMIT_MAKER, ...
    expect(otoRefusal(oto(working({ timeInForce: undefined })))).toEqual(mandatory('workingTimeInForce'));
    expect(otoRefusal(oto(pending({ price: undefined })))).toEqual(mandatory('pendingPrice'));
    expect(otoRefusal(oto(pending({ type: 'STOP_LOSS', price: undefined })))).toEqual(
      mandatory('pendingStopPrice'),
    );
    expect(
      otoRefusal(oto(pending({ type: 'TAKE_PROFIT_LIMIT', stopPrice: '31500', timeInForce: undefined }))),
    ).toEqual(mandatory('pendingTimeInForce'));
  });

  it('a working leg other than LIMIT / LIMIT_MAKER is an invalid order type (-1116)', () => {
    const invalidType = { status: 400, code: -1116, msg: 'Invalid orderType.' };
    expect(otoRefusal(oto(working({ type: 'MARKET', timeInForce: undefined })))).toEqual(invalidType);
    expect(otoRefusal(oto(working({ type: 'STOP_LOSS_LIMIT' })))).toEqual(invalidType);
    expect(otoRefusal(oto(working({ type: 'TAKE_PROFIT' })))).toEqual(invalidType);
    expect(otoRefusal(oto(pending({ type: 'OCO' })))).toEqual(invalidType);
  });

  it('an invalid side is -1117 for either leg', () => {
    const invalidSide = { status: 400, code: -1117, msg: 'Invalid side.' };
    expect(otoRefusal(oto(working({ side: 'HOLD' })))).toEqual(invalidSide);
    expect(otoRefusal(oto(pending({ side: 'buy' })))).toEqual(invalidSide);
  });

  it('single-order errors name the leg’s own parameter (working…, pending…)', () => {
    expect(otoRefusal(oto(working({ quantity: '0.1x' })))).toEqual(
      binanceError(
        -1100,
        "Illegal characters found in parameter 'workingQuantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
      ),
    );
    expect(otoRefusal(oto(pending({ price: '-31000' })))).toMatchObject({
      code: -1100,
      msg: expect.stringMatching(/^Illegal characters found in parameter 'pendingPrice'; /),
    });
    expect(otoRefusal(oto(pending({ type: 'STOP_LOSS', price: undefined, trailingDelta: '1.5' })))).toEqual(
      binanceError(
        -1100,
        "Illegal characters found in parameter 'pendingTrailingDelta'; legal range is '^[0-9]{1,20}$'.",
      ),
    );
    expect(
      otoRefusal(
        oto(pending({ type: 'STOP_LOSS', price: undefined, stopPrice: '29000', timeInForce: 'GTC' })),
      ),
    ).toEqual(binanceError(-1106, "Parameter 'pendingTimeInForce' sent when not required."));
    expect(otoRefusal(oto(pending({ stopPrice: '29000' })))).toEqual(
      binanceError(-1106, "Parameter 'pendingStopPrice' sent when not required."),
    );
    expect(otoRefusal(oto(working({ timeInForce: 'GTX' })))).toEqual(
      binanceError(-1115, 'Invalid timeInForce.'),
    );
  });

  it('the market’s filters for each leg (-1013)', () => {
    expect(otoRefusal(oto(working({ price: '30000.001' })))).toEqual(
      binanceError(-1013, 'Filter failure: PRICE_FILTER'),
    );
    expect(otoRefusal(oto(pending({ quantity: '0.000001' })))).toEqual(
      binanceError(-1013, 'Filter failure: LOT_SIZE'),
    );
    expect(otoRefusal(oto(working({ quantity: '0.0001' })))).toEqual(
      binanceError(-1013, 'Filter failure: NOTIONAL'),
    );
    expect(otoRefusal(oto(pending({ type: 'STOP_LOSS', price: undefined, trailingDelta: '5' })))).toEqual(
      binanceError(-1013, 'Filter failure: TRAILING_DELTA'),
    );
  });

  it('icebergs: limit-priced legs only (-1106), GTC unless LIMIT_MAKER (-1160), named per leg', () => {
    expect(planOto(btc, oto(working({ icebergQty: '0.02' }))).legs[0].command.icebergQuantity).toBe(2_000);
    expect(planOto(btc, oto(pending({ icebergQty: '0.05' }))).legs[1].command.icebergQuantity).toBe(5_000);
    expect(otoRefusal(oto(working({ icebergQty: '0.02', timeInForce: 'IOC' })))).toEqual(
      binanceError(
        -1160,
        "Parameter 'workingIcebergQty' is not supported if 'workingTimeInForce' is not GTC.",
      ),
    );
    expect(
      otoRefusal(
        oto(pending({ type: 'STOP_LOSS', price: undefined, stopPrice: '29000', icebergQty: '0.01' })),
      ),
    ).toEqual(binanceError(-1106, "Parameter 'pendingIcebergQty' sent when not required."));
    expect(otoRefusal(oto(working({ icebergQty: '0.2' })))).toEqual(
      binanceError(-1013, 'Filter failure: ICEBERG_PARTS'),
    );
  });

  it('client ids distinct among the list and its legs (-2010 Duplicate order sent.)', () => {
    const duplicate = { status: 400, code: -2010, msg: 'Duplicate order sent.' };
    expect(otoRefusal(oto({ listClientOrderId: 'x', ...pending({ clientOrderId: 'x' }) }))).toEqual(
      duplicate,
    );
    expect(
      otoRefusal(oto({ ...working({ clientOrderId: 'y' }), ...pending({ clientOrderId: 'y' }) })),
    ).toEqual(duplicate);
    expect(
      planOto(btc, oto({ listClientOrderId: '', ...working({ clientOrderId: '' }), ...pending({}) })).legs,
    ).toHaveLength(2);
  });

  it('one STP mode for both legs; an unknown one is refused (-1100)', () => {
    expect(planOto(btc, oto({ selfTradePreventionMode: 'NONE' })).legs.map((l) => l.stpMode)).toEqual([
      'NONE',
      'NONE',
    ]);
    expect(otoRefusal(oto({ selfTradePreventionMode: 'SOMETIMES' }))).toEqual(
      binanceError(-1100, "Illegal characters found in parameter 'selfTradePreventionMode'."),
    );
  });

  it('the engine accepts the plan as it is: the working leg placed, the pending leg held', () => {
    const events = engineAnswer(planOto(btc, oto()));
    expect(events.filter((e) => e.type === 'rejected')).toEqual([]);
    expect(events.find((e) => e.type === 'listStatus')).toMatchObject({
      contingencyType: 'OTO',
      listStatusType: 'EXEC_STARTED',
    });
  });
});

describe('planOtoco', () => {
  it('a BUY working leg, then a SELL pair: LIMIT_MAKER above, STOP_LOSS_LIMIT below; the base locked once', () => {
    const plan = planOtoco(btc, otoco({ listClientOrderId: 'L', selfTradePreventionMode: 'EXPIRE_BOTH' }));
    expect(plan.contingencyType).toBe('OTOCO');
    expect(plan.stpMode).toBe('EXPIRE_BOTH');
    expect(plan.legs.map((l) => l.command)).toEqual([
      {
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 3_000_000,
        quantity: 10_000,
        icebergQuantity: undefined,
        stopPrice: undefined,
      },
      {
        side: 'SELL',
        type: 'LIMIT_MAKER',
        timeInForce: undefined,
        price: 3_100_000,
        quantity: 10_000,
        icebergQuantity: undefined,
        stopPrice: undefined,
      },
      {
        side: 'SELL',
        type: 'STOP_LOSS_LIMIT',
        timeInForce: 'GTC',
        price: 2_890_000,
        stopPrice: 2_900_000,
        quantity: 10_000,
        icebergQuantity: undefined,
      },
    ]);
    expect(plan.legs.map((l) => [l.userType, l.pending, l.stpMode])).toEqual([
      ['LIMIT', undefined, 'EXPIRE_BOTH'],
      ['LIMIT_MAKER', true, 'EXPIRE_BOTH'],
      ['STOP_LOSS_LIMIT', true, 'EXPIRE_BOTH'],
    ]);
    expect(plan.lock).toEqual({ asset: 'BTC', amount: 10_000_000n }); // 0.1 BTC once, not 0.2
    expect(plan.workingLock).toEqual({ asset: 'USDT', amount: 300_000_000_000n });
  });

  it('a BUY pair locks the larger of its legs’ quote needs (planOco’s rule); the working SELL its base', () => {
    const plan = planOtoco(
      btc,
      otoco({
        working: { type: 'LIMIT_MAKER', side: 'SELL', price: '30500', quantity: '0.2' },
        pendingSide: 'BUY',
        pendingQuantity: '0.1',
        pendingAbove: { type: 'STOP_LOSS', stopPrice: '31500' },
        pendingBelow: { type: 'LIMIT_MAKER', price: '29000' },
      }),
    );
    // STOP_LOSS BUY runs as STOP_LOSS_LIMIT IOC at 31500 × 1.05 = 33075 > the LIMIT_MAKER's 2900.
    expect(plan.legs[1]).toMatchObject({
      userType: 'STOP_LOSS',
      command: { type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', price: 3_307_500, stopPrice: 3_150_000 },
    });
    expect(plan.lock).toEqual({ asset: 'USDT', amount: USDT(3_307.5) });
    expect(plan.workingLock).toEqual({ asset: 'BTC', amount: BTC(0.2) });
  });

  it('-1102 names the missing working and pending parameters', () => {
    expect(otocoRefusal(otoco({ working: {} }))).toEqual(mandatory('workingType'));
    expect(otocoRefusal(otoco({ working: { ...otoco().working, price: '' } }))).toEqual(
      mandatory('workingPrice'),
    );
    expect(otocoRefusal(otoco({ pendingSide: undefined }))).toEqual(mandatory('pendingSide'));
    expect(otocoRefusal(otoco({ pendingQuantity: undefined }))).toEqual(mandatory('pendingQuantity'));
    expect(otocoRefusal(otoco({ pendingAbove: {} }))).toEqual(mandatory('pendingAboveType'));
    expect(otocoRefusal(otoco({ pendingBelow: {} }))).toEqual(mandatory('pendingBelowType'));
    expect(
      otocoRefusal(otoco({ pendingBelow: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000' } })),
    ).toEqual(mandatory('pendingBelowTimeInForce'));
    expect(otocoRefusal(otoco({ pendingAbove: { type: 'LIMIT_MAKER' } }))).toEqual(
      mandatory('pendingAbovePrice'),
    );
    expect(otocoRefusal(otoco({ pendingBelow: { type: 'STOP_LOSS' } }))).toEqual(
      mandatory('pendingBelowStopPrice'),
    );
  });

  it('the working leg as an OTO’s: LIMIT / LIMIT_MAKER only (-1116)', () => {
    expect(
      otocoRefusal(otoco({ working: { type: 'MARKET', side: 'BUY', price: '30000', quantity: '0.1' } })),
    ).toEqual(binanceError(-1116, 'Invalid orderType.'));
    expect(otocoRefusal(otoco({ working: { ...otoco().working, timeInForce: undefined } }))).toEqual(
      mandatory('workingTimeInForce'),
    );
  });

  it('the pending pair by the OCO rules, with the OCO codes', () => {
    expect(otocoRefusal(otoco({ pendingSide: 'HOLD' }))).toEqual(binanceError(-1117, 'Invalid side.'));
    expect(
      otocoRefusal(otoco({ pendingAbove: { type: 'LIMIT', price: '31000', timeInForce: 'GTC' } })),
    ).toEqual(binanceError(-1158, 'Order type not supported in OCO.'));
    expect(otocoRefusal(otoco({ pendingBelow: { type: 'MARKET' } }))).toMatchObject({ code: -1158 });
    expect(otocoRefusal(otoco({ pendingAbove: { type: 'STOP_LOSS', stopPrice: '31000' } }))).toEqual(
      binanceError(-1197, 'A stop loss order in a sell OCO must be below.'),
    );
    expect(otocoRefusal(otoco({ pendingBelow: { type: 'LIMIT_MAKER', price: '29000' } }))).toEqual(
      binanceError(-1166, 'A limit order in a sell OCO must be above.'),
    );
    expect(otocoRefusal(otoco({ pendingBelow: { type: 'TAKE_PROFIT', stopPrice: '29000' } }))).toMatchObject({
      code: -1199,
    });
    const buyPair = { pendingSide: 'BUY', working: { ...otoco().working, side: 'SELL', price: '31000' } };
    expect(
      otocoRefusal(
        otoco({
          ...buyPair,
          pendingAbove: { type: 'LIMIT_MAKER', price: '31000' },
          pendingBelow: { type: 'STOP_LOSS', stopPrice: '29000' },
        }),
      ),
    ).toEqual(binanceError(-1165, 'A limit order in a buy OCO must be below.'));
    expect(otocoRefusal(otoco({ pendingAbove: { type: 'LIMIT_MAKER', price: '28000' } }))).toEqual(
      binanceError(-2010, 'The relationship of the prices for the orders is not correct.'),
    );
  });

  it('single-order errors name pendingAbove… / pendingBelow… / pendingQuantity', () => {
    expect(otocoRefusal(otoco({ pendingQuantity: '1e-3' }))).toEqual(
      binanceError(
        -1100,
        "Illegal characters found in parameter 'pendingQuantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
      ),
    );
    expect(otocoRefusal(otoco({ pendingQuantity: '0.000001' }))).toEqual(
      binanceError(-1013, 'Filter failure: LOT_SIZE'),
    );
    expect(
      otocoRefusal(otoco({ pendingAbove: { type: 'LIMIT_MAKER', price: '31000', stopPrice: '30500' } })),
    ).toEqual(binanceError(-1106, "Parameter 'pendingAboveStopPrice' sent when not required."));
    expect(
      otocoRefusal(otoco({ pendingBelow: { type: 'STOP_LOSS', stopPrice: '29000', trailingDelta: 'x' } })),
    ).toEqual(
      binanceError(
        -1100,
        "Illegal characters found in parameter 'pendingBelowTrailingDelta'; legal range is '^[0-9]{1,20}$'.",
      ),
    );
    expect(
      otocoRefusal(
        otoco({
          pendingBelow: {
            type: 'STOP_LOSS_LIMIT',
            price: '28900',
            stopPrice: '29000',
            timeInForce: 'IOC',
            icebergQty: '0.01',
          },
        }),
      ),
    ).toEqual(
      binanceError(
        -1160,
        "Parameter 'pendingBelowIcebergQty' is not supported if 'pendingBelowTimeInForce' is not GTC.",
      ),
    );
    expect(
      otocoRefusal(otoco({ pendingBelow: { type: 'STOP_LOSS', stopPrice: '29000', icebergQty: '0.01' } })),
    ).toEqual(binanceError(-1106, "Parameter 'pendingBelowIcebergQty' sent when not required."));
  });

  it('client ids distinct among the list, the working leg and both pending legs', () => {
    const duplicate = { status: 400, code: -2010, msg: 'Duplicate order sent.' };
    expect(
      otocoRefusal(
        otoco({
          working: { ...otoco().working, clientOrderId: 'z' },
          pendingBelow: { ...otoco().pendingBelow, clientOrderId: 'z' },
        }),
      ),
    ).toEqual(duplicate);
    expect(
      otocoRefusal(
        otoco({ listClientOrderId: 'a', pendingAbove: { ...otoco().pendingAbove, clientOrderId: 'a' } }),
      ),
    ).toEqual(duplicate);
    const ok = planOtoco(
      btc,
      otoco({
        listClientOrderId: 'L',
        working: { ...otoco().working, clientOrderId: 'w' },
        pendingAbove: { ...otoco().pendingAbove, clientOrderId: 'a' },
        pendingBelow: { ...otoco().pendingBelow, clientOrderId: 'b' },
      }),
    );
    expect(ok.legs.map((l) => l.clientOrderId)).toEqual(['w', 'a', 'b']);
  });

  it('the engine accepts the plan as it is', () => {
    const events = engineAnswer(planOtoco(btc, otoco()));
    expect(events.filter((e) => e.type === 'rejected')).toEqual([]);
    expect(events.find((e) => e.type === 'listStatus')).toMatchObject({
      contingencyType: 'OTOCO',
      listStatusType: 'EXEC_STARTED',
    });
  });
});
