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
