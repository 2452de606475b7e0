// engine/core/market-book.ts: behaviour that mutants surviving the other engine unit suites showed unpinned
// (docs/testing.md, "Mutation testing"). Each test names the rule it holds.
import { MatchingEngine } from '../../../engine/core';
import type {
  Command,
  EngineEvent,
  MarketRules,
  PlaceCommand,
  StpMode,
  TimeInForce,
} from '../../../engine/core/types';

const rules: MarketRules = {
  symbol: 'T',
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
};

let engine: MatchingEngine;
let nextId: number;
beforeEach(() => {
  engine = new MatchingEngine([rules]);
  nextId = 1;
});

function apply(cmd: Command): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, out);
  return out;
}
function place(p: Partial<PlaceCommand>): EngineEvent[] {
  const orderId = p.orderId ?? nextId++;
  return apply({
    kind: 'place',
    market: 'T',
    orderId,
    userId: 1,
    clientOrderId: `c${orderId}`,
    side: 'BUY',
    type: 'LIMIT',
    price: 100,
    quantity: 5,
    ts: 5,
    ...p,
  });
}

describe('every valid STP mode and time in force is accepted when named explicitly', () => {
  it.each<StpMode>(['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'])('stpMode %s', (stpMode) => {
    expect(place({ stpMode })[0]).toMatchObject({ type: 'accepted', stpMode });
  });

  it.each<TimeInForce>(['GTC', 'IOC', 'FOK'])('timeInForce %s', (timeInForce) => {
    expect(place({ timeInForce })[0]).toMatchObject({ type: 'accepted', timeInForce });
  });

  it('stpMode NONE trades with the same user’s orders', () => {
    place({ side: 'SELL', timeInForce: 'GTC', stpMode: 'NONE' });
    const events = place({ timeInForce: 'GTC', stpMode: 'NONE' });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'trade', 'closed', 'closed', 'depth']);
  });
});

describe('pending stops', () => {
  const stop = (stopPrice: number, userId = 1) =>
    place({ side: 'BUY', type: 'STOP_LOSS', price: undefined, stopPrice, userId });
  const stopIds = () => engine.snapshot().markets[0].stops.map((t) => t[0]);

  it('a cancel of a pending stop closes it (no depth event) and keeps the others in trigger order', () => {
    stop(200);
    stop(300);
    stop(400);
    expect(apply({ kind: 'cancel', market: 'T', orderId: 2, userId: 1, ts: 6 })).toEqual([
      {
        type: 'closed',
        market: 'T',
        seq: 4,
        ts: 6,
        orderId: 2,
        userId: 1,
        reason: 'CANCELED',
        executedQty: 0,
        cumQuote: 0,
      },
    ]);
    expect(stopIds()).toEqual([1, 3]);
    expect(engine.hasOrder(2)).toBe(false);
    apply({ kind: 'cancel', market: 'T', orderId: 1, userId: 1, ts: 6 });
    expect(stopIds()).toEqual([3]);
  });

  it('each order keeps the seq of its accepted event (a stop’s trigger priority) through a snapshot', () => {
    place({ side: 'SELL', price: 500 }); // seq 1 accepted, 2 depth
    const accepted = stop(600)[0]; // seq 3
    expect(accepted.seq).toBe(3);
    const m = engine.snapshot().markets[0];
    expect(m.asks[0][13]).toBe(1);
    expect(m.stops[0][13]).toBe(3);
  });
});
