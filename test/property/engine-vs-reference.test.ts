// The optimised engine against the naive reference on seeded random flows: identical events for every
// command and identical state hashes, with invariants 3–5 of docs/architecture.md#invariants checked along the way.
// 200k commands per run; SOAK=1 (npm run test:soak) runs 1M. A second run gives both engines a small
// closed-id memory, so ids are forgotten all the time and reused ones hit the stale-id watermark.
// Some places are overtaken by a cancel (or an amend) of their id (./early-commands.ts): the cancel
// tombstones the never-seen id, so the late place must be refused as a duplicate by both engines.
// Around that, ./edge-commands.ts moves one market's prices out of the book's direct index and back, and
// adds the refusals and expiries the flow cannot reach (MIN_NOTIONAL, OVERFLOW, INVALID_TIME_IN_FORCE,
// NO_LIQUIDITY). Besides the fixed seeds, each run draws one random seed and prints it (ENGINE_SEED=n
// replays it), and one run remembers the engine's real 100,000 closed ids and goes past them.
// CIRRUS_PROPERTY_PROFILE=fast (mutation testing, ./profile.ts): shorter flows, fixed seeds only.
import { MatchingEngine, CLOSED_ID_MEMORY, type EngineOptions } from '@engine/core';
import { isStopType, type Command, type EngineEvent, type TradeEvent } from '@engine/core/types';
import { commandFlow, TEST_MARKETS } from '../support/engine-flow';
import { ReferenceEngine } from '../support/reference-engine';
import { earlyKey, newEarlyCommands, withEarlyCommands } from './early-commands';
import { EDGE_MARKETS, SHIFTED, newEdgeStats, withEdgeCommands } from './edge-commands';
import { FAST, profile } from './profile';
import { newListStats, withListCommands } from './list-commands';
import { newTrailingStats, withTrailingCommands } from './trailing-commands';

const TOTAL = process.env.SOAK ? 1_000_000 : profile(200_000, 3_000);
// 25k commands per seed keeps the naive reference's books small enough to stay fast; the soak runs more seeds.
const PER_SEED = profile(25_000, 3_000);
const SEEDS = TOTAL / PER_SEED;
/** The small-memory run: a quarter of the seeds (at least one), each market remembering 300 closed ids. */
const SMALL_MEMORY: EngineOptions = { closedIdMemory: 300 };
const SMALL_MEMORY_SEEDS = Math.max(1, Math.floor(SEEDS / 4));
/** One more seed per run, drawn at random and printed; ENGINE_SEED=n replays it. */
const RANDOM_SEED = process.env.ENGINE_SEED
  ? Number(process.env.ENGINE_SEED)
  : 1 + Math.floor(Math.random() * 2_000_000_000);

/** Every path the default run must exercise: stops, STP, FOK/IOC expiries, both kinds of amend, rejections. */
const PATHS = [
  'triggered',
  'closed:FILLED',
  'closed:CANCELED',
  'closed:IOC',
  'closed:FOK',
  'closed:STP_MAKER',
  'closed:STP_TAKER',
  'amended:true',
  'amended:false',
  'rejected:DUPLICATE_ORDER_ID',
  'rejected:WOULD_TAKE',
  'rejected:INVALID_STOP_PRICE',
  'rejected:NOT_ORDER_OWNER',
  'rejected:UNKNOWN_MARKET',
  'rejected:UNKNOWN_ORDER',
  'rejected:MIN_NOTIONAL',
  'rejected:OVERFLOW',
  'rejected:INVALID_TIME_IN_FORCE',
  'rejected:INVALID_STP_MODE',
  'rejected:INVALID_SIDE',
  'rejected:INVALID_ORDER_TYPE',
  'rejected:INVALID_ICEBERG',
  // A GTC STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT iceberg triggered (engine-flow.ts).
  'triggered:iceberg',
  'closed:NO_LIQUIDITY',
  'depth',
  // TESTB trades below and above its sides' direct index (edge-commands.ts: centred near 110,000 ticks).
  'trade:below-window',
  'trade:above-window',
  // Trailing stops (./trailing-commands.ts): tracking from entry and from a stop price, triggered, refused.
  'trailing:on-entry',
  'trailing:by-stop-price',
  'trailing:triggered-on-entry',
  'trailing:triggered-by-stop-price',
  'rejected:INVALID_TRAILING_DELTA',
  // Order lists (./list-commands.ts) and self-trade prevention's prevented matches.
  'listStatus:EXEC_STARTED',
  'listStatus:ALL_DONE',
  'listStatus:REJECT',
  'activated',
  'closed:LIST',
  'prevented',
  'rejected:placeList',
  'rejected:cancelList',
  'list:OCO',
  'list:OTO',
  'list:OTOCO',
  'list:partial-fill-expires-sibling', // an OCO leg partly filled, its sibling expired at once
  'list:trigger-expires-sibling', // an OCO stop leg triggered, the other leg expired
  'list:working-and-pending-in-one-command', // the working leg filled and the pending leg traded in one command
  'list:cancelled', // a cancelList or a cancel of a leg closed the list's legs CANCELED
  'list:pending-closed-with-working', // the working leg ended unfilled: the pending legs closed with it
  'list:working-leg-amended', // an OTO / OTOCO working leg amended on its own
  'list:pair-amended', // an amend of one leg of an OCO pair (placed or pending) lowered both legs
  'list:pending-leg-amended', // a leg waiting for its working leg amended
  'list:leg-amend-refused', // a re-price of a list leg other than a working leg refused
  'amended:waiting-stop', // a stop waiting for its trigger amended (quantity only)
  'prevented:list-leg', // self-trade prevention with a list leg as taker or maker
];

interface Tracked {
  side: 'BUY' | 'SELL';
  price: number; // 0 = no limit
  quantity: number; // 0 = by quote amount
}

/** Invariants that must hold after every command, from the events and the public depth. */
class InvariantChecker {
  private readonly orders = new Map<string, Tracked>(); // market:orderId (ids are unique per market)
  private readonly seq = new Map<string, number>();
  private readonly updateId = new Map<string, number>();

  check(engine: MatchingEngine, events: EngineEvent[]): void {
    for (const e of events) {
      if (e.seq !== 0) {
        const expected = (this.seq.get(e.market) ?? 0) + 1;
        if (e.seq !== expected) throw new Error(`seq gap in ${e.market}: ${e.seq} after ${expected - 1}`);
        this.seq.set(e.market, e.seq);
      }
      switch (e.type) {
        case 'accepted':
          this.orders.set(`${e.market}:${e.orderId}`, { side: e.side, price: e.price, quantity: e.quantity });
          break;
        case 'amended': {
          const o = this.orders.get(`${e.market}:${e.orderId}`) as Tracked;
          o.price = e.price;
          o.quantity = e.quantity;
          break;
        }
        case 'trade':
          this.checkTrade(e);
          break;
        case 'depth': {
          const prev = this.updateId.get(e.market) ?? 0;
          if (e.U !== prev + 1 || e.u - e.U + 1 !== e.bids.length + e.asks.length)
            throw new Error(`depth ids ${e.U}..${e.u} after ${prev}`);
          this.updateId.set(e.market, e.u);
          break;
        }
      }
    }
    for (const market of EDGE_MARKETS) {
      const d = engine.depth(market.symbol, 1);
      if (d.bids.length && d.asks.length && d.bids[0][0] >= d.asks[0][0])
        throw new Error(`crossed book in ${market.symbol}`);
    }
  }

  private checkTrade(t: TradeEvent): void {
    const maker = this.orders.get(`${t.market}:${t.makerOrderId}`) as Tracked;
    const taker = this.orders.get(`${t.market}:${t.takerOrderId}`) as Tracked;
    if (maker.side === taker.side || taker.side !== t.takerSide) throw new Error(`trade ${t.tradeId}: sides`);
    if (t.price !== maker.price) throw new Error(`trade ${t.tradeId}: not at the maker's price`);
    if (taker.price !== 0 && (taker.side === 'BUY' ? t.price > taker.price : t.price < taker.price))
      throw new Error(`trade ${t.tradeId}: beyond taker limit`);
    if (t.quantity <= 0 || t.makerExecutedQty > maker.quantity)
      throw new Error(`trade ${t.tradeId}: maker overfilled`);
    if (taker.quantity !== 0 && t.takerExecutedQty > taker.quantity)
      throw new Error(`trade ${t.tradeId}: taker overfilled`);
  }
}

/** Level volume = sum of its orders' visible quantity, read from the snapshot against depth(). */
function checkLevels(engine: MatchingEngine): void {
  const snap = engine.snapshot();
  for (const m of snap.markets) {
    for (const [orders, levels] of [
      [m.bids, engine.depth(m.rules.symbol, 1e9).bids],
      [m.asks, engine.depth(m.rules.symbol, 1e9).asks],
    ] as const) {
      const sums = new Map<number, number>();
      for (const o of orders) {
        if (o[14] > o[7]) throw new Error(`order ${o[0]} filled beyond its quantity`);
        sums.set(o[6], (sums.get(o[6]) ?? 0) + o[16]);
      }
      expect(levels).toEqual([...sums.entries()].filter(([, v]) => v > 0));
    }
  }
}

/** Both engines on one seeded flow: identical events and state hashes; `mustSee` paths all taken. */
function compare(seed: number, options: EngineOptions, mustSee: string[]): void {
  const engine = new MatchingEngine(EDGE_MARKETS, options);
  const reference = new ReferenceEngine(EDGE_MARKETS, options);
  const checker = new InvariantChecker();
  const fast: EngineEvent[] = [];
  const slow: EngineEvent[] = [];
  let i = 0;
  let trades = 0;
  const seen = new Set<string>();
  const early = newEarlyCommands();
  const edge = newEdgeStats();
  // Late places of ids cancelled first (must all be refused), and of ids amended first (may run).
  let lateAfterCancel = 0;
  let lateAfterCancelRefused = 0;
  let lateAfterAmendAccepted = 0;
  const trailing = newTrailingStats();
  const lists = newListStats();
  const flow = withEdgeCommands(
    withEarlyCommands(
      withTrailingCommands(withListCommands(commandFlow(seed, PER_SEED), seed, lists), seed, trailing),
      seed,
      early,
    ),
    seed,
    edge,
  );
  /** List legs by market:orderId: the list's type, and whether the leg was pending. */
  const legs = new Map<string, { type: string; pending: boolean; index: number }>();
  /** Accepted trailing stops: whether each had an activation price (market:orderId). */
  const trailingByStop = new Map<string, boolean>();
  /** Accepted iceberg stop-limits (market:orderId). */
  const icebergStops = new Set<string>();
  /** Single (non-list) stops waiting for their trigger (market:orderId). */
  const waitingStops = new Set<string>();
  for (const cmd of flow) {
    fast.length = 0;
    slow.length = 0;
    engine.apply(cmd, fast);
    reference.apply(cmd, slow);
    if (fast.length !== slow.length || JSON.stringify(fast) !== JSON.stringify(slow)) {
      expect({ command: i, cmd, events: fast }).toEqual({ command: i, cmd, events: slow });
    }
    checker.check(engine, fast);
    const known = fast[0].seq !== 0; // not an unknown market
    if (cmd.kind === 'place' && known && early.cancelled.has(earlyKey(cmd.market, cmd.orderId))) {
      // Never runs: refused as a duplicate, or as stale once a small memory forgot the tombstone.
      lateAfterCancel++;
      const e = fast[0];
      const refused = fast.length === 1 && e.type === 'rejected';
      if (refused && e.reason === 'DUPLICATE_ORDER_ID') lateAfterCancelRefused++;
      else if (!refused || e.reason !== 'STALE_ORDER_ID' || options.closedIdMemory === undefined)
        throw new Error(`place ${cmd.orderId} cancelled before it arrived got ${JSON.stringify(fast)}`);
    }
    if (
      cmd.kind === 'place' &&
      early.amended.has(earlyKey(cmd.market, cmd.orderId)) &&
      fast[0].type === 'accepted'
    )
      lateAfterAmendAccepted++;
    seeLists(fast, legs, seen);
    for (const e of fast) {
      const k = earlyKey(e.market, 'orderId' in e ? e.orderId : 0);
      if (e.type === 'accepted' && e.orderListId === undefined && isStopType(e.orderType))
        waitingStops.add(k);
      if (e.type === 'triggered' || e.type === 'closed') waitingStops.delete(k);
      if (e.type === 'amended' && waitingStops.has(k)) seen.add('amended:waiting-stop');
      if (e.type === 'accepted' && e.icebergQuantity > 0 && e.stopPrice > 0)
        icebergStops.add(earlyKey(e.market, e.orderId));
      if (e.type === 'triggered' && icebergStops.has(earlyKey(e.market, e.orderId)))
        seen.add('triggered:iceberg');
      if (e.type === 'accepted' && e.trailingDelta !== undefined) {
        const byStop = e.stopPrice > 0;
        trailingByStop.set(earlyKey(e.market, e.orderId), byStop);
        seen.add(byStop ? 'trailing:by-stop-price' : 'trailing:on-entry');
      }
      if (e.type === 'triggered' && e.trailingTime !== undefined) {
        const byStop = trailingByStop.get(earlyKey(e.market, e.orderId));
        seen.add(byStop ? 'trailing:triggered-by-stop-price' : 'trailing:triggered-on-entry');
      }
      if (e.type === 'trade') {
        trades++;
        if (e.market === SHIFTED && e.price < 60_000) seen.add('trade:below-window');
        if (e.market === SHIFTED && e.price > 160_000) seen.add('trade:above-window');
      }
      seen.add(
        e.type === 'closed'
          ? `closed:${e.reason}`
          : e.type === 'rejected'
            ? `rejected:${e.command === 'placeList' || e.command === 'cancelList' ? e.command : e.reason}`
            : e.type === 'amended'
              ? `amended:${e.keptPriority}`
              : e.type === 'listStatus'
                ? `listStatus:${e.listOrderStatus === 'REJECT' ? 'REJECT' : e.listStatusType}`
                : e.type,
      );
      if (e.type === 'rejected') seen.add(`rejected:${e.reason}`);
    }
    if (++i % 5_000 === 0) {
      checkLevels(engine);
      expect(engine.stateHash()).toBe(reference.stateHash());
    }
  }
  expect(engine.stateHash()).toBe(reference.stateHash());
  // The flow must actually exercise matching, not only resting orders…
  expect(trades).toBeGreaterThan(PER_SEED / 20);
  // …and every path asked for…
  for (const kind of mustSee) expect([kind, seen.has(kind)]).toEqual([kind, true]);
  // …including places overtaken by their cancel (refused; with a small memory the tombstone may have
  // been forgotten by then, and the place refused as stale instead) and by an amend (still run).
  expect(early.added).toBeGreaterThan(PER_SEED / 100);
  expect(lateAfterCancel).toBeGreaterThan(PER_SEED / 200);
  expect(lateAfterCancelRefused).toBeGreaterThan(lateAfterCancel / 2);
  expect(lateAfterAmendAccepted).toBeGreaterThan(0);
  expect(edge.regimeChanges).toBeGreaterThanOrEqual(2);
  shares.cancels += early.cancelled.size;
  shares.amends += early.amended.size;
  shares.total += early.total;
  shares.lateAfterCancel += lateAfterCancel;
}

/** The list paths one command's events take (see PATHS). */
function seeLists(
  events: EngineEvent[],
  legs: Map<string, { type: string; pending: boolean; index: number }>,
  seen: Set<string>,
): void {
  const key = (orderId: number) => earlyKey(events[0].market, orderId);
  const activatedNow = new Set<number>();
  const tradedNow = new Set<number>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.type === 'accepted' && e.orderListId !== undefined) {
      legs.set(key(e.orderId), { type: '', pending: e.pending === true, index: 0 });
    } else if (e.type === 'listStatus' && e.listStatusType === 'EXEC_STARTED') {
      seen.add(`list:${e.contingencyType}`);
      e.orderIds.forEach((id, index) => {
        const leg = legs.get(key(id));
        if (leg) Object.assign(leg, { type: e.contingencyType, index });
      });
    } else if (e.type === 'activated') {
      activatedNow.add(e.orderId);
      const leg = legs.get(key(e.orderId));
      if (leg) leg.pending = false;
    } else if (e.type === 'trade') {
      tradedNow.add(e.makerOrderId).add(e.takerOrderId);
      if (activatedNow.has(e.takerOrderId)) seen.add('list:working-and-pending-in-one-command');
      const next = events[i + 1];
      const maker = legs.get(key(e.makerOrderId));
      if (maker && next?.type === 'closed' && next.reason === 'LIST' && e.makerExecutedQty > 0) {
        const partial = events.slice(i + 1).every((x) => x.type !== 'closed' || x.orderId !== e.makerOrderId);
        if (partial) seen.add('list:partial-fill-expires-sibling');
      }
    } else if (e.type === 'triggered' && legs.has(key(e.orderId))) {
      const next = events[i + 1];
      if (next?.type === 'closed' && next.reason === 'LIST') seen.add('list:trigger-expires-sibling');
    } else if (e.type === 'closed' && legs.has(key(e.orderId))) {
      const leg = legs.get(key(e.orderId)) as { type: string; pending: boolean; index: number };
      if (e.reason === 'CANCELED') seen.add('list:cancelled');
      if (leg.pending && !activatedNow.has(e.orderId) && e.reason === 'LIST')
        seen.add('list:pending-closed-with-working');
      legs.delete(key(e.orderId));
    } else if (e.type === 'prevented') {
      if (legs.has(key(e.takerOrderId)) || legs.has(key(e.makerOrderId))) seen.add('prevented:list-leg');
    } else if (e.type === 'amended' && legs.has(key(e.orderId))) {
      const leg = legs.get(key(e.orderId)) as { type: string; pending: boolean; index: number };
      const next = events[i + 1];
      const prev = events[i - 1];
      if (next?.type === 'amended' && legs.has(key(next.orderId))) seen.add('list:pair-amended');
      else if (prev?.type !== 'amended' && leg.type !== 'OCO') {
        if (leg.pending) seen.add('list:pending-leg-amended');
        else if (leg.index === 0) seen.add('list:working-leg-amended');
      }
    } else if (
      e.type === 'rejected' &&
      e.command === 'amend' &&
      e.reason === 'INVALID_AMEND' &&
      legs.has(key(e.orderId))
    ) {
      seen.add('list:leg-amend-refused');
    }
  }
}

/** Over all seeds: what share of the commands the early cancels/amends and their late places are. */
const shares = { cancels: 0, amends: 0, total: 0, lateAfterCancel: 0 };
afterAll(() => {
  const pct = (n: number) => `${((100 * n) / shares.total).toFixed(2)} %`;
  console.log(
    `of ${shares.total} commands: early cancels ${pct(shares.cancels)}, early amends ${pct(shares.amends)}, ` +
      `late places of cancelled ids: ${shares.lateAfterCancel} (${pct(shares.lateAfterCancel)})`,
  );
});

describe(`engine vs reference (${TOTAL.toLocaleString('en')} commands)`, () => {
  for (let s = 0; s < SEEDS; s++) {
    const seed = 1000 + s;
    it(`seed ${seed}: identical events and state hash, invariants hold`, () => {
      compare(seed, {}, PATHS);
    });
  }
  if (!FAST) {
    it(`random seed ${RANDOM_SEED} (rerun with ENGINE_SEED=${RANDOM_SEED}): identical events and state hash`, () => {
      console.log(`engine vs reference: random seed ${RANDOM_SEED} (ENGINE_SEED=${RANDOM_SEED} replays it)`);
      compare(RANDOM_SEED, {}, PATHS);
    });
  }
});

describe(`engine vs reference, ${String(SMALL_MEMORY.closedIdMemory)} closed ids remembered`, () => {
  for (let s = 0; s < SMALL_MEMORY_SEEDS; s++) {
    const seed = 5000 + s;
    it(`seed ${seed}: identical events and state hash, stale ids refused alike`, () => {
      compare(seed, SMALL_MEMORY, [...PATHS, 'rejected:STALE_ORDER_ID']);
    });
  }
});

/**
 * The real memory: a flow, then more than CLOSED_ID_MEMORY closes (cheap ones: IOC orders that find nothing
 * and cancels that tombstone never-seen ids), then the flow again with fresh ids, some of its places reusing
 * ids from the start (long forgotten: STALE_ORDER_ID) and from the last closes (still remembered: duplicates).
 */
function* pastTheMemory(seed: number): Generator<Command> {
  const head = [...commandFlow(seed, 2_000, TEST_MARKETS)];
  yield* head;
  let id =
    1 + Math.max(...head.map((c) => (c.kind === 'place' ? c.orderId : 0)).filter(Number.isSafeInteger));
  const firstFiller = id;
  const ts = head[head.length - 1].ts;
  for (let i = 0; i < CLOSED_ID_MEMORY + 1_000; i++) {
    const orderId = id++;
    yield i % 2 === 0
      ? { kind: 'cancel', market: 'TESTA', orderId, userId: 1, ts }
      : {
          kind: 'place',
          market: 'TESTA',
          orderId,
          userId: 1,
          clientOrderId: `ioc${orderId}`,
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'IOC',
          price: 100, // far under every ask: closes unfilled
          quantity: 5,
          ts,
        };
  }
  const offset = id;
  let i = 0;
  for (const c of commandFlow(seed + 1, 2_000, TEST_MARKETS)) {
    if (c.kind === 'placeList' || c.kind === 'cancelList') throw new Error('the plain flow has no lists');
    const moved = {
      ...c,
      orderId: Number.isSafeInteger(c.orderId) ? c.orderId + offset : c.orderId,
      ts: c.ts + ts,
    };
    // Every 50th command instead re-places an old id: from the first flow (forgotten) or the last closes.
    if (moved.kind === 'place' && moved.market === 'TESTA' && ++i % 50 === 0) {
      yield { ...moved, orderId: i % 100 === 0 ? 1 + (i % 1_500) : offset - 1 - (i % 500) };
    }
    yield moved;
  }
  expect(firstFiller).toBeGreaterThan(1_500);
}

if (!FAST) {
  describe(`engine vs reference, past the real memory of ${CLOSED_ID_MEMORY.toLocaleString('en')} closed ids`, () => {
    it('forgets the oldest closed ids and refuses them as stale, alike in both engines', () => {
      const engine = new MatchingEngine(TEST_MARKETS);
      const reference = new ReferenceEngine(TEST_MARKETS);
      const fast: EngineEvent[] = [];
      const slow: EngineEvent[] = [];
      const counts = new Map<string, number>();
      let i = 0;
      for (const cmd of pastTheMemory(4242)) {
        fast.length = 0;
        slow.length = 0;
        engine.apply(cmd, fast);
        reference.apply(cmd, slow);
        if (JSON.stringify(fast) !== JSON.stringify(slow))
          expect({ command: i, cmd, events: fast }).toEqual({ command: i, cmd, events: slow });
        for (const e of fast)
          if (e.type === 'rejected') counts.set(e.reason, (counts.get(e.reason) ?? 0) + 1);
        i++;
      }
      expect(engine.stateHash()).toBe(reference.stateHash());
      const testa = engine.snapshot().markets.find((m) => m.rules.symbol === 'TESTA');
      expect(testa?.closedOrderIds).toHaveLength(CLOSED_ID_MEMORY);
      expect(testa?.forgottenMaxOrderId).toBeGreaterThan(1_500);
      expect(counts.get('STALE_ORDER_ID') ?? 0).toBeGreaterThan(5);
      expect(counts.get('DUPLICATE_ORDER_ID') ?? 0).toBeGreaterThan(5);
    });
  });
}
