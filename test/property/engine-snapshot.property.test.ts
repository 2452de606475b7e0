// fast-check properties of the engine: snapshot/restore at any point continues identically, the command
// stream can be re-derived from the events (what the engine service's recovery relies on), and a rejected
// command changes nothing but the sequence number.
import fc from 'fast-check';
import { MatchingEngine, type EngineOptions, type EngineSnapshot } from '../../engine/core';
import type { Command, EngineEvent } from '../../engine/core/types';
import { commandFlow, TEST_MARKETS } from '../support/engine-flow';

const FLOW = 1_500;

function run(engine: MatchingEngine, cmds: Command[]): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (const c of cmds) engine.apply(c, out);
  return out;
}

/** Commands as the events tell them: accepted → place, amended → amend, closed CANCELED → cancel. */
function commandsFromEvents(events: EngineEvent[]): Command[] {
  const cmds: Command[] = [];
  for (const e of events) {
    if (e.type === 'accepted') {
      const isMarket =
        e.orderType === 'MARKET' || e.orderType === 'STOP_LOSS' || e.orderType === 'TAKE_PROFIT';
      cmds.push({
        kind: 'place',
        market: e.market,
        orderId: e.orderId,
        userId: e.userId,
        clientOrderId: e.clientOrderId,
        side: e.side,
        type: e.orderType,
        timeInForce: isMarket ? undefined : e.orderType === 'LIMIT_MAKER' ? undefined : e.timeInForce,
        price: e.price || undefined,
        quantity: e.quantity || undefined,
        quoteQuantity: e.quoteQuantity || undefined,
        stopPrice: e.stopPrice || undefined,
        icebergQuantity: e.icebergQuantity || undefined,
        stpMode: e.stpMode,
        ts: e.ts,
      });
    } else if (e.type === 'amended') {
      cmds.push({
        kind: 'amend',
        market: e.market,
        orderId: e.orderId,
        userId: e.userId,
        newPrice: e.price,
        newQuantity: e.quantity,
        ts: e.ts,
      });
    } else if (e.type === 'closed' && e.reason === 'CANCELED') {
      cmds.push({ kind: 'cancel', market: e.market, orderId: e.orderId, userId: e.userId, ts: e.ts });
    }
  }
  return cmds;
}

const withoutRejections = (events: EngineEvent[]) => events.filter((e) => e.type !== 'rejected');

/** Runs a flow whole, and split at `split` with a snapshot → JSON → restore in between: same events and hash. */
function splitRun(seed: number, split: number, options: EngineOptions = {}): EngineEvent[] {
  const cmds = [...commandFlow(seed, FLOW)];
  const whole = new MatchingEngine(TEST_MARKETS, options);
  const all = run(whole, cmds);

  const first = new MatchingEngine(TEST_MARKETS, options);
  const head = run(first, cmds.slice(0, split));
  const restored = MatchingEngine.restore(
    JSON.parse(JSON.stringify(first.snapshot())) as EngineSnapshot,
    options,
  );
  expect(restored.stateHash()).toBe(first.stateHash());
  const tail = run(restored, cmds.slice(split));
  expect([...head, ...tail]).toEqual(all);
  expect(restored.stateHash()).toBe(whole.stateHash());
  return tail;
}

describe('engine properties', () => {
  it('snapshot → JSON → restore at any point continues with the same events and hash', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: FLOW }),
        (seed, split) => {
          splitRun(seed, split);
        },
      ),
      { numRuns: 25, seed: 20261124 },
    );
  });

  it('…also when ids are forgotten: the restored engine refuses the same stale ids', () => {
    let stale = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: FLOW / 2 }),
        (seed, split) => {
          const tail = splitRun(seed, split, { closedIdMemory: 20 });
          stale += tail.filter((e) => e.type === 'rejected' && e.reason === 'STALE_ORDER_ID').length;
        },
      ),
      { numRuns: 25, seed: 20261125 },
    );
    expect(stale).toBeGreaterThan(0);
  });

  it('re-deriving commands from the events reproduces every event but the rejections', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const original = new MatchingEngine(TEST_MARKETS);
        const events = run(original, [...commandFlow(seed, FLOW)]);
        const replayed = run(new MatchingEngine(TEST_MARKETS), commandsFromEvents(events));
        // Rejections consume a seq but change no state, so compare everything except seq numbers.
        const strip = (es: EngineEvent[]) => withoutRejections(es).map(({ seq: _seq, ...rest }) => rest);
        expect(strip(replayed)).toEqual(strip(events));
      }),
      { numRuns: 15, seed: 7 },
    );
  });

  it('a rejected command changes nothing but the sequence number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const engine = new MatchingEngine(TEST_MARKETS);
        let rejections = 0;
        for (const cmd of commandFlow(seed, 600)) {
          const before = engine.snapshot();
          const out: EngineEvent[] = [];
          engine.apply(cmd, out);
          if (out.length === 1 && out[0].type === 'rejected') {
            rejections++;
            const after = engine.snapshot();
            after.markets.forEach((m, i) => {
              const expectedSeq =
                out[0].seq === 0
                  ? before.markets[i].seq
                  : m.rules.symbol === out[0].market
                    ? before.markets[i].seq + 1
                    : before.markets[i].seq;
              expect({ ...m, seq: 0 }).toEqual({ ...before.markets[i], seq: 0 });
              expect(m.seq).toBe(expectedSeq);
            });
          }
        }
        expect(rejections).toBeGreaterThan(0);
      }),
      { numRuns: 3, seed: 99 },
    );
  });
});
