// A simple, independent model of what every user must own after a run of orders, for the ledger property
// tests (test/unit/ledger-model.test.ts over the pure posting builders, test/integration/ledger-model-pg.test.ts
// over PostgreSQL). Orders go through the real matching engine so that trades have either taker side and
// partial fills leave locks to release; the model then moves funds by role with plain arithmetic:
// a BUY locks price × quantity of quote, a SELL its quantity of base; per trade the buyer's lock pays the
// quote, the seller's lock delivers the base, each side receives its asset less its own rate (maker or taker)
// rounded down, the fee account gets the rest; a closed order gets back whatever its lock still holds.
// The market's maker and taker rates differ, so a swapped rate or payee cannot go unnoticed.
import fc from 'fast-check';
import { MatchingEngine } from '@engine/core';
import { rulesFromSpec } from '@engine/core/market';
import type { EngineEvent, MarketSpec, Side, TradeEvent } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT') as MarketSpec;

/** BTCUSDT's grid with maker 0.1 % and taker 0.2 %. */
export const MODEL_MARKET: MarketSpec = { ...btc, makerFee: '0.001', takerFee: '0.002' };
/** Ledger units of one lot (0.00001 BTC) and one tick·lot (0.01 × 0.00001 USDT), both at scale 8. */
const BASE_PER_LOT = 1_000n;
const QUOTE_PER_TICK_LOT = 10n;
const MAKER = { num: 1n, den: 1_000n };
const TAKER = { num: 2n, den: 1_000n };

export const USERS = 4;
/** What each user deposits before trading: 1,000,000 USDT and 10 BTC (ledger units). */
export const DEPOSIT = { USDT: 100_000_000_000_000n, BTC: 1_000_000_000n } as const;

export type ModelOp =
  | { kind: 'order'; user: number; side: Side; price: number; lots: number; tif: 'GTC' | 'IOC' }
  | { kind: 'cancel'; pick: number };

export const modelOps = (maxLength: number): fc.Arbitrary<ModelOp[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('order' as const),
          user: fc.integer({ min: 0, max: USERS - 1 }),
          side: fc.constantFrom<Side>('BUY', 'SELL'),
          // A few ticks apart around 30,000 USDT: orders cross often, at prices better than the taker's limit.
          price: fc.integer({ min: 2_999_990, max: 3_000_010 }),
          lots: fc.integer({ min: 20, max: 30_000 }), // 20 lots at 30,000: over the 5 USDT NOTIONAL
          tif: fc.constantFrom<'GTC' | 'IOC'>('GTC', 'GTC', 'IOC'),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
    ),
    { minLength: 1, maxLength },
  );

/** One order as the ledger sees it: who, which asset it locked and how much. */
export interface LockedOrder {
  orderId: number;
  user: number;
  side: Side;
  asset: 'USDT' | 'BTC';
  amount: bigint;
}

/** A step for the ledger under test, in engine order. */
export type LedgerStep =
  | { kind: 'lock'; order: LockedOrder }
  | { kind: 'trade'; trade: TradeEvent }
  | { kind: 'close'; orderId: number };

/**
 * Runs the ops through the engine (user i is engine user `userIds[i]`, order ids from `firstOrderId`) and
 * returns the ledger steps in order: each order's lock before its place, then its trades and closes.
 */
export function ledgerSteps(ops: ModelOp[], userIds: number[], firstOrderId: number): LedgerStep[] {
  const engine = new MatchingEngine([rulesFromSpec(MODEL_MARKET)]);
  const steps: LedgerStep[] = [];
  const resting: Array<{ orderId: number; userId: number }> = [];
  let nextId = firstOrderId;
  for (const op of ops) {
    const out: EngineEvent[] = [];
    if (op.kind === 'order') {
      const orderId = nextId++;
      const userId = userIds[op.user];
      const amount =
        op.side === 'BUY'
          ? BigInt(op.price) * BigInt(op.lots) * QUOTE_PER_TICK_LOT
          : BigInt(op.lots) * BASE_PER_LOT;
      steps.push({
        kind: 'lock',
        order: { orderId, user: op.user, side: op.side, asset: op.side === 'BUY' ? 'USDT' : 'BTC', amount },
      });
      engine.apply(
        {
          kind: 'place',
          market: MODEL_MARKET.symbol,
          orderId,
          userId,
          clientOrderId: `m${orderId}`,
          side: op.side,
          type: 'LIMIT',
          timeInForce: op.tif,
          price: op.price,
          quantity: op.lots,
          ts: orderId,
        },
        out,
      );
      resting.push({ orderId, userId });
    } else {
      if (resting.length === 0) continue;
      const target = resting[op.pick % resting.length];
      engine.apply({ kind: 'cancel', market: MODEL_MARKET.symbol, ...target, ts: 0 }, out);
    }
    for (const e of out) {
      if (e.type === 'rejected') throw new Error(`the model's orders are all valid: ${JSON.stringify(e)}`);
      if (e.type === 'trade') steps.push({ kind: 'trade', trade: e });
      if (e.type === 'closed') {
        steps.push({ kind: 'close', orderId: e.orderId });
        const i = resting.findIndex((r) => r.orderId === e.orderId);
        if (i >= 0) resting.splice(i, 1);
      }
    }
  }
  return steps;
}

export interface Holding {
  available: bigint;
  locked: bigint;
}
export type ModelBalances = Array<{ USDT: Holding; BTC: Holding }>;

export interface ModelResult {
  users: ModelBalances;
  fees: { USDT: bigint; BTC: bigint };
  /** What the run exercised, for the tests to insist on. */
  seen: { buyTakers: number; sellTakers: number; partialReleases: number; fullReleases: number };
}

const cut = (amount: bigint, rate: { num: bigint; den: bigint }) => (amount * rate.num) / rate.den;

/** Every user's exact balances after the steps, by the rules in the header (independent of lambdas/). */
export function model(steps: LedgerStep[], userIds: number[]): ModelResult {
  const users: ModelBalances = userIds.map(() => ({
    USDT: { available: DEPOSIT.USDT, locked: 0n },
    BTC: { available: DEPOSIT.BTC, locked: 0n },
  }));
  const fees = { USDT: 0n, BTC: 0n };
  const seen = { buyTakers: 0, sellTakers: 0, partialReleases: 0, fullReleases: 0 };
  const orders = new Map<number, LockedOrder & { left: bigint }>();
  const indexOf = (userId: number) => userIds.indexOf(userId);
  for (const step of steps) {
    if (step.kind === 'lock') {
      const { order } = step;
      users[order.user][order.asset].available -= order.amount;
      users[order.user][order.asset].locked += order.amount;
      orders.set(order.orderId, { ...order, left: order.amount });
    } else if (step.kind === 'trade') {
      const t = step.trade;
      const takerBuys = t.takerSide === 'BUY';
      if (takerBuys) seen.buyTakers++;
      else seen.sellTakers++;
      const buyer = indexOf(takerBuys ? t.takerUserId : t.makerUserId);
      const seller = indexOf(takerBuys ? t.makerUserId : t.takerUserId);
      const buyOrder = orders.get(takerBuys ? t.takerOrderId : t.makerOrderId)!;
      const sellOrder = orders.get(takerBuys ? t.makerOrderId : t.takerOrderId)!;
      const quote = BigInt(t.price) * BigInt(t.quantity) * QUOTE_PER_TICK_LOT;
      const base = BigInt(t.quantity) * BASE_PER_LOT;
      const buyerFee = cut(base, takerBuys ? TAKER : MAKER);
      const sellerFee = cut(quote, takerBuys ? MAKER : TAKER);
      users[buyer].USDT.locked -= quote;
      buyOrder.left -= quote;
      users[buyer].BTC.available += base - buyerFee;
      users[seller].BTC.locked -= base;
      sellOrder.left -= base;
      users[seller].USDT.available += quote - sellerFee;
      fees.BTC += buyerFee;
      fees.USDT += sellerFee;
    } else {
      const o = orders.get(step.orderId)!;
      if (o.left > 0n && o.left < o.amount) seen.partialReleases++;
      if (o.left === o.amount) seen.fullReleases++;
      users[o.user][o.asset].locked -= o.left;
      users[o.user][o.asset].available += o.left;
      o.left = 0n;
    }
  }
  return { users, fees, seen };
}
