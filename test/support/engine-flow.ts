// Seeded random command flows for the engine cross-checks: every order type, cancels, amends, STP modes,
// icebergs, stops and malformed commands, around a drifting mid price so that a fair share trades.
import type {
  Command,
  MarketRules,
  OrderType,
  PlaceCommand,
  Side,
  StpMode,
  TimeInForce,
} from '@engine/core/types';

export const TEST_MARKETS: MarketRules[] = ['TESTA', 'TESTB'].map((symbol) => ({
  symbol,
  minPriceTicks: 1,
  maxPriceTicks: 1_000_000,
  minQtyLots: 1,
  maxQtyLots: 1_000_000,
  minNotional: 100,
  maxIcebergParts: 10,
}));

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* commandFlow(seed: number, count: number, markets = TEST_MARKETS): Generator<Command> {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const placed: Array<{ orderId: number; userId: number; market: string }> = [];
  const mid = new Map(markets.map((m) => [m.symbol, 10_000]));
  let nextId = 1;
  let ts = 1_000;
  const stp = (): StpMode =>
    rnd() < 0.6 ? 'NONE' : pick(['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const);

  for (let i = 0; i < count; i++) {
    ts += int(0, 3);
    const market = pick(markets).symbol;
    const m = Math.max(100, (mid.get(market) as number) + int(-2, 2));
    mid.set(market, m);
    const userId = int(1, 6);
    const side: Side = rnd() < 0.5 ? 'BUY' : 'SELL';
    const r = rnd();

    if (r < 0.15 && placed.length > 0) {
      const target = placed[Math.floor(rnd() * placed.length)];
      yield {
        kind: 'cancel',
        market: rnd() < 0.97 ? target.market : market,
        orderId: target.orderId,
        userId: rnd() < 0.95 ? target.userId : userId,
        ts,
      };
      continue;
    }
    if (r < 0.22 && placed.length > 0) {
      const target = placed[Math.max(0, placed.length - 1 - int(0, 30))];
      const which = rnd();
      yield {
        kind: 'amend',
        market: target.market,
        orderId: target.orderId,
        userId: rnd() < 0.97 ? target.userId : userId,
        newQuantity: which < 0.7 ? int(1, 60) : undefined,
        newPrice: which >= 0.4 ? m + int(-15, 15) : undefined,
        ts,
      };
      continue;
    }
    if (r < 0.23) {
      // Malformed or refused on purpose.
      const bad: PlaceCommand = {
        kind: 'place',
        market,
        orderId: nextId++,
        userId,
        clientOrderId: 'bad',
        side,
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: m,
        quantity: 10,
        ts,
      };
      const variant = int(0, 6);
      if (variant === 0) bad.price = 0;
      else if (variant === 1) bad.quantity = -5;
      else if (variant === 2) bad.quantity = 1.5;
      else if (variant === 3) bad.market = 'NOPE';
      else if (variant === 4 && placed.length > 0) bad.orderId = placed[int(0, placed.length - 1)].orderId;
      else if (variant === 5)
        bad.quantity = 1; // below min notional at this price? 1 × ~10,000 ≥ 100: accepted, fine
      else bad.price = 2_000_000;
      yield bad;
      continue;
    }

    const orderId = nextId++;
    const qty = int(1, 50);
    let cmd: PlaceCommand;
    const base = { kind: 'place' as const, market, orderId, userId, clientOrderId: `c${orderId}`, side, ts };
    const t = rnd();
    const off = side === 'BUY' ? int(-20, 8) : int(-8, 20);
    if (t < 0.5) {
      const tif: TimeInForce = rnd() < 0.75 ? 'GTC' : rnd() < 0.7 ? 'IOC' : 'FOK';
      cmd = {
        ...base,
        type: 'LIMIT',
        timeInForce: tif,
        price: m + off,
        quantity: qty,
        stpMode: stp(),
        ts,
      };
      if (tif === 'GTC' && rnd() < 0.12) {
        cmd.quantity = qty + 20;
        cmd.icebergQuantity = int(3, 10);
      }
    } else if (t < 0.58) {
      cmd =
        rnd() < 0.65
          ? {
              ...base,
              type: 'MARKET',
              quantity: qty,
              stpMode: stp(),
              ts,
            }
          : {
              ...base,
              type: 'MARKET',
              quoteQuantity: int(100, 400_000),
              stpMode: stp(),
              ts,
            };
    } else if (t < 0.66) {
      cmd = {
        ...base,
        type: 'LIMIT_MAKER',
        price: m + (side === 'BUY' ? int(-20, 2) : int(-2, 20)),
        quantity: qty,
        stpMode: stp(),
        ts,
      };
      if (rnd() < 0.2) {
        cmd.quantity = qty + 10;
        cmd.icebergQuantity = int(2, 10);
      }
    } else if (t < 0.8) {
      const type = pick([
        'STOP_LOSS',
        'STOP_LOSS_LIMIT',
        'TAKE_PROFIT',
        'TAKE_PROFIT_LIMIT',
      ] as const) as OrderType;
      const stopPrice = m + int(-25, 25);
      cmd = {
        ...base,
        type,
        stopPrice,
        quantity: qty,
        stpMode: stp(),
        ts,
      };
      if (type.endsWith('_LIMIT')) {
        cmd.price = stopPrice + (side === 'BUY' ? int(0, 10) : int(-10, 0));
        cmd.timeInForce = pick(['GTC', 'GTC', 'IOC', 'FOK'] as const);
        // An iceberg stop-limit: allowed with GTC (its slices show once triggered), refused otherwise.
        if (rnd() < 0.2) {
          cmd.quantity = qty + 20;
          cmd.icebergQuantity = int(3, 10);
        }
      }
    } else {
      // Plain resting liquidity keeps the book deep.
      cmd = {
        ...base,
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: m + (side === 'BUY' ? -int(1, 40) : int(1, 40)),
        quantity: qty,
        ts,
      };
    }
    placed.push({ orderId, userId, market: cmd.market });
    if (placed.length > 4000) placed.splice(0, 1000);
    yield cmd;
  }
}
