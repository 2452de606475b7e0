// fast-check properties of the engine: snapshot/restore at any point continues identically (also between
// a cancel that overtook its place and the late place), the command stream can be re-derived from the
// events, and a rejected command changes nothing but the sequence number, except that a cancel of a
// never-seen id remembers that id as closed (a tombstone). The flows include trailing stops
// (./trailing-commands.ts), so snapshots are also taken mid-trail (a trailing stop tracking its best price),
// and order lists (./list-commands.ts), so snapshots also hold live lists with pending legs; a refused list
// changes nothing but the sequence number either.
import fc from 'fast-check';
import { MatchingEngine, type EngineOptions, type EngineSnapshot, type MarketSnapshot } from '@engine/core';
import {
  needsTimeInForce,
  type AcceptedEvent,
  type Command,
  type EngineEvent,
  type ListLeg,
  type StpMode,
} from '@engine/core/types';
import { commandFlow, TEST_MARKETS } from '../support/engine-flow';
import { earlyKey, newEarlyCommands, withEarlyCommands } from './early-commands';
import { profile } from './profile';
import { withListCommands } from './list-commands';
import { withTrailingCommands } from './trailing-commands';

/** The seeded flow with a share of its stop orders made trailing stops, and order lists around it. */
const flowOf = (seed: number, count: number): Generator<Command> =>
  withTrailingCommands(withListCommands(commandFlow(seed, count), seed), seed);

const FLOW = 1_500;

/** A place's fields as its `accepted` event shows them (absent where the event has 0 or the type takes none). */
function placeFields(e: AcceptedEvent): Omit<ListLeg, 'orderId'> {
  return {
    clientOrderId: e.clientOrderId,
    side: e.side,
    type: e.orderType,
    timeInForce: needsTimeInForce(e.orderType) ? e.timeInForce : undefined,
    price: e.price || undefined,
    quantity: e.quantity || undefined,
    stopPrice: e.stopPrice || undefined,
    icebergQuantity: e.icebergQuantity || undefined,
    trailingDelta: e.trailingDelta,
  };
}

function run(engine: MatchingEngine, cmds: Command[]): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (const c of cmds) engine.apply(c, out);
  return out;
}

let stpOfList: StpMode = 'NONE';

/**
 * Commands as the events tell them: accepted → place (a list's legs and its EXEC_STARTED → placeList),
 * amended → amend (an OCO pair's two: one amend, of the first), closed CANCELED → cancel (of a leg: the whole
 * list, as the events show).
 */
function commandsFromEvents(events: EngineEvent[]): Command[] {
  const cmds: Command[] = [];
  // Legs of the list being placed: its `listStatus` EXEC_STARTED follows their `accepted` events.
  let legs: ListLeg[] = [];
  // An amend of one leg of a pair amends both (two `amended` events): one command, of the first.
  const listOf = new Map<number, number[]>();
  let partnerAmended: { listIds: number[]; orderId: number } | undefined;
  for (const e of events) {
    const partner = partnerAmended;
    partnerAmended = undefined;
    if (e.type === 'listStatus' && e.listStatusType === 'EXEC_STARTED') {
      for (const id of e.orderIds) listOf.set(id, e.orderIds);
      cmds.push({
        kind: 'placeList',
        market: e.market,
        listId: e.listId,
        userId: e.userId,
        listClientOrderId: e.listClientOrderId,
        contingencyType: e.contingencyType,
        legs,
        stpMode: stpOfList,
        ts: e.ts,
      });
      legs = [];
    } else if (e.type === 'accepted' && e.orderListId !== undefined) {
      stpOfList = e.stpMode;
      legs.push({ orderId: e.orderId, ...placeFields(e) });
    } else if (e.type === 'accepted') {
      cmds.push({
        kind: 'place',
        market: e.market,
        orderId: e.orderId,
        userId: e.userId,
        ...placeFields(e),
        quoteQuantity: e.quoteQuantity || undefined,
        stpMode: e.stpMode,
        ts: e.ts,
      });
    } else if (e.type === 'amended') {
      if (partner && partner.orderId !== e.orderId && partner.listIds.includes(e.orderId)) continue;
      const listIds = listOf.get(e.orderId);
      if (listIds) partnerAmended = { listIds, orderId: e.orderId };
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

/** The id is not live in the market, not remembered as closed, and above its forgotten-id watermark. */
function neverSeen(m: MarketSnapshot, orderId: number): boolean {
  const pending = (m.lists ?? []).flatMap((l) => l.pending);
  const live = [...m.bids, ...m.asks, ...m.stops, ...pending].some((o) => o[0] === orderId);
  return !live && !m.closedOrderIds.includes(orderId) && orderId > (m.forgottenMaxOrderId ?? 0);
}

/** Rejected commands, and refused lists (their legs' rejections and the REJECT status), left out. */
const withoutRejections = (events: EngineEvent[]) =>
  events.filter((e) => e.type !== 'rejected' && !(e.type === 'listStatus' && e.listOrderStatus === 'REJECT'));

/**
 * Runs a flow (with some places overtaken by their cancel or an amend) whole, and split at `split` with a
 * snapshot → JSON → restore in between: same events and hash. Returns the tail's events and how many late
 * places of ids cancelled before the split the restored engine refused.
 */
function splitRun(
  seed: number,
  split: number,
  options: EngineOptions = {},
): { tail: EngineEvent[]; refusedAfterRestore: number; tracking: number; pendingLegs: number } {
  const early = newEarlyCommands();
  const cmds = [...withEarlyCommands(flowOf(seed, FLOW), seed, early)];
  const whole = new MatchingEngine(TEST_MARKETS, options);
  const all = run(whole, cmds);

  const first = new MatchingEngine(TEST_MARKETS, options);
  const head = run(first, cmds.slice(0, split));
  const snapshot = first.snapshot();
  // Trailing stops tracking at the split: their tuples carry [trailingDelta, extreme > 0, since].
  const tracking = snapshot.markets.reduce(
    (n, m) => n + m.stops.filter((t) => (t[17] ?? 0) > 0 && (t[18] ?? 0) > 0).length,
    0,
  );
  // OTO / OTOCO legs still pending at the split.
  const pendingLegs = snapshot.markets.reduce(
    (n, m) => n + (m.lists ?? []).reduce((k, l) => k + l.pending.length, 0),
    0,
  );
  const restored = MatchingEngine.restore(JSON.parse(JSON.stringify(snapshot)) as EngineSnapshot, options);
  expect(restored.stateHash()).toBe(first.stateHash());
  const tail = run(restored, cmds.slice(split));
  expect([...head, ...tail]).toEqual(all);
  expect(restored.stateHash()).toBe(whole.stateHash());
  // A place whose id was cancelled before the snapshot never runs after the restore.
  const cancelledBefore = new Set(
    cmds.slice(0, split).flatMap((c) => (c.kind === 'cancel' ? [earlyKey(c.market, c.orderId)] : [])),
  );
  let refusedAfterRestore = 0;
  for (const e of tail) {
    if (!('orderId' in e)) continue;
    const key = earlyKey(e.market, e.orderId);
    if (!early.cancelled.has(key) || !cancelledBefore.has(key)) continue;
    expect(e.type === 'accepted' ? e : 'not accepted').toBe('not accepted');
    if (e.type === 'rejected' && e.command === 'place') refusedAfterRestore++;
  }
  return { tail, refusedAfterRestore, tracking, pendingLegs };
}

describe('engine properties', () => {
  it('snapshot → JSON → restore at any point continues with the same events and hash', () => {
    let refusedAfterRestore = 0;
    let tracking = 0;
    let pendingLegs = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: FLOW }),
        (seed, split) => {
          const run = splitRun(seed, split);
          refusedAfterRestore += run.refusedAfterRestore;
          tracking += run.tracking;
          pendingLegs += run.pendingLegs;
        },
      ),
      { numRuns: profile(25, 4), seed: 20261124 },
    );
    // Some late places of ids cancelled before the snapshot were refused by the restored engine.
    expect(refusedAfterRestore).toBeGreaterThan(0);
    // Some snapshots were taken mid-trail, and with pending list legs.
    expect(tracking).toBeGreaterThan(0);
    expect(pendingLegs).toBeGreaterThan(0);
  });

  it('…also when ids are forgotten: the restored engine refuses the same stale ids', () => {
    let stale = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: FLOW / 2 }),
        (seed, split) => {
          const { tail } = splitRun(seed, split, { closedIdMemory: 20 });
          stale += tail.filter((e) => e.type === 'rejected' && e.reason === 'STALE_ORDER_ID').length;
        },
      ),
      { numRuns: profile(25, 3), seed: 20261125 },
    );
    expect(stale).toBeGreaterThan(0);
  });

  it('re-deriving commands from the events reproduces every event but the rejections', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const original = new MatchingEngine(TEST_MARKETS);
        const events = run(original, [...flowOf(seed, FLOW)]);
        const replayed = run(new MatchingEngine(TEST_MARKETS), commandsFromEvents(events));
        // Rejections consume a seq but change no state, so compare everything except seq numbers.
        const strip = (es: EngineEvent[]) => withoutRejections(es).map(({ seq: _seq, ...rest }) => rest);
        expect(strip(replayed)).toEqual(strip(events));
      }),
      { numRuns: profile(15, 2), seed: 7 },
    );
  });

  it('a rejected command changes nothing but the sequence number (and a cancel of a never-seen id its tombstone)', () => {
    let tombstones = 0;
    let refusedLists = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const engine = new MatchingEngine(TEST_MARKETS);
        let rejections = 0;
        for (const cmd of withEarlyCommands(flowOf(seed, 600), seed)) {
          const before = engine.snapshot();
          const out: EngineEvent[] = [];
          engine.apply(cmd, out);
          const refusedList =
            cmd.kind === 'placeList' &&
            out.length > 0 &&
            out.every(
              (e) => e.type === 'rejected' || (e.type === 'listStatus' && e.listOrderStatus === 'REJECT'),
            );
          if (refusedList) {
            refusedLists++;
            const after = engine.snapshot();
            after.markets.forEach((m, i) => {
              const own = out[0].seq !== 0 && m.rules.symbol === cmd.market;
              expect({ ...m, seq: 0 }).toEqual({ ...before.markets[i], seq: 0 });
              expect(m.seq).toBe(before.markets[i].seq + (own ? out.length : 0));
            });
          }
          if (out.length === 1 && out[0].type === 'rejected') {
            const rejected = out[0];
            rejections++;
            const after = engine.snapshot();
            after.markets.forEach((m, i) => {
              const own = rejected.seq !== 0 && m.rules.symbol === rejected.market;
              const expected = { ...before.markets[i], seq: 0 };
              // The one change a rejection may make: a cancel of an id this market never saw (not live,
              // not remembered, above the watermark) remembers it as closed. No id is forgotten this early.
              if (own && rejected.command === 'cancel' && neverSeen(before.markets[i], rejected.orderId)) {
                tombstones++;
                expected.closedOrderIds = [...expected.closedOrderIds, rejected.orderId];
              }
              expect({ ...m, seq: 0 }).toEqual(expected);
              expect(m.seq).toBe(before.markets[i].seq + (own ? 1 : 0));
            });
          }
        }
        expect(rejections).toBeGreaterThan(0);
      }),
      { numRuns: profile(3, 1), seed: 99 },
    );
    expect(tombstones).toBeGreaterThan(0);
    expect(refusedLists).toBeGreaterThan(0);
  });
});
