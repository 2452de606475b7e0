// npm run bench:engine — the Cirrus engine against nodejs-order-book (the TypeScript peer) on one seeded
// workload shaped like exchange-core's published one: ~1,000 resting orders over ~750 price levels, then a
// mix of GTC limits, IOCs, cancels and amends, a few percent of which trade. Both engines get the same
// commands, fresh per round, after a warm-up, in alternating rounds. The last line is one JSON object.
// Before timing, both engines run the whole workload once more and must end with the same book (every level,
// every order's id and size left, in queue order) and the same number of trades; the bench fails (exit 1)
// otherwise. So the two do the same work: an amend moves the order to the back of its level in both (the
// peer's modify always re-queues, and takes the size left to fill; Cirrus re-queues on a new price or a
// larger quantity, so size amends here raise the quantity and price amends always pick a new price).
// A second workload, Cirrus only (the peer has no stop orders), is the same mix with a share of trailing stops
// (TRAILING_SHARE of the commands place one, trailing from entry, 1–20 BIPS, all four stop types; a fifth of
// the cancels name one): timed in the same alternating rounds, so the two Cirrus figures compare directly.
// A third workload, Cirrus only, keeps the trailing stops and adds order lists (docs/engine.md#order-lists):
// LIST_SHARE of the commands place an OCO, OTO or OTOCO around the last price (about LISTS_PENDING live at a
// time; a cancelList takes the oldest out), so their legs trade, trigger and expire each other.
// BENCH_BREAKDOWN=1 prints, instead of the throughput rounds, where each workload's time goes by kind of
// command (./engine-breakdown.ts).
import * as hdr from 'hdr-histogram-js';
import { OrderBook, Side as PeerSide, type ICancelOrder, type IProcessOrder } from 'nodejs-order-book';
import { MatchingEngine } from '@engine/core';
import type { Command, EngineEvent, ListLeg, MarketRules } from '@engine/core/types';
import { prng } from '../support/engine-flow';
import { printBreakdown } from './engine-breakdown';
import { version as peerVersion } from 'nodejs-order-book/package.json';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_ONLY=cirrus skips the peer (quick A/B of engine changes; the JSON line then has no ratio). */
const CIRRUS_ONLY = process.env.BENCH_ONLY === 'cirrus';
const MID = 100_000;
/** Share of the trailing workload's commands that place a trailing stop. */
const TRAILING_SHARE = Number(process.env.BENCH_TRAILING_SHARE ?? 0.05);
/** Pending trailing stops kept at about this many (cancels take the older ones out). */
const TRAILING_PENDING = 100;
/** Share of the list workload's commands that place an order list, and the live lists kept. */
const LIST_SHARE = Number(process.env.BENCH_LIST_SHARE ?? 0.03);
const LISTS_PENDING = 100;

const rules: MarketRules = {
  symbol: 'BENCH',
  minPriceTicks: 1,
  maxPriceTicks: 10_000_000,
  minQtyLots: 1,
  maxQtyLots: 10_000_000,
  minNotional: 1,
  maxIcebergParts: 100,
};

interface Workload {
  prefill: Command[];
  commands: Command[];
  counts: Record<string, number>;
  tradingShare: number;
}

/** A fresh Cirrus engine with the workload's resting orders in, and the event array it appends to. */
export function primedEngine(w: Pick<Workload, 'prefill'>): { engine: MatchingEngine; out: EngineEvent[] } {
  const engine = new MatchingEngine([rules]);
  const out: EngineEvent[] = [];
  for (const c of w.prefill) engine.apply(c, out);
  return { engine, out };
}

/**
 * Generates the workload by running it through the Cirrus engine, so every cancel/amend names a live order.
 * With `trailingShare` > 0 that share of the commands place trailing stops instead (see the header).
 */
export function buildWorkload(seed: number, trailingShare = 0, listShare = 0): Workload {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const engine = new MatchingEngine([rules]);
  const live: number[] = [];
  const liveIndex = new Map<number, number>();
  const owner = new Map<number, number>();
  const price = new Map<number, number>();
  const qty = new Map<number, number>();
  let nextId = 1;
  let ts = 0;
  const out: EngineEvent[] = [];
  const forget = (id: number) => {
    const i = liveIndex.get(id);
    if (i === undefined) return;
    const last = live.pop() as number;
    if (last !== id) {
      live[i] = last;
      liveIndex.set(last, i);
    }
    liveIndex.delete(id);
  };
  const run = (cmd: Command): number => {
    out.length = 0;
    engine.apply(cmd, out);
    let trades = 0;
    for (const e of out) {
      if (e.type === 'trade') {
        trades++;
        lastPrice = e.price;
      }
      if (e.type === 'listStatus' && e.listStatusType === 'ALL_DONE') closedLists.add(e.listId);
      if (e.type === 'closed') {
        forget(e.orderId);
        if (trailingShare > 0) closedIds.add(e.orderId);
      }
    }
    // Trailing stops are kept apart (`trailing`): the plain cancels and amends name resting orders only.
    const stop = cmd.kind !== 'place' || cmd.trailingDelta !== undefined;
    if (!stop && engine.hasOrder(cmd.orderId) && !liveIndex.has(cmd.orderId)) {
      liveIndex.set(cmd.orderId, live.length);
      live.push(cmd.orderId);
    }
    return trades;
  };
  const restingLimit = (): Command => {
    const side = rnd() < 0.5 ? 'BUY' : 'SELL';
    // ~750 levels: 375 a side, never crossing the spread.
    const p = side === 'BUY' ? MID - int(1, 375) : MID + int(1, 375);
    const id = nextId++;
    const userId = int(1, 2000);
    const q = int(1, 100);
    owner.set(id, userId);
    price.set(id, p);
    qty.set(id, q);
    return {
      kind: 'place',
      market: 'BENCH',
      orderId: id,
      userId,
      clientOrderId: '',
      side,
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: p,
      quantity: q,
      ts: ts++,
    };
  };

  // Trailing stops waiting for their trigger (ids), and whether one closed (triggered and ran, or cancelled).
  const trailing: number[] = [];
  const closedIds = new Set<number>();
  const trailingStop = (): Command => {
    const id = nextId++;
    const side = rnd() < 0.5 ? 'BUY' : 'SELL';
    const type = (['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'] as const)[int(0, 3)];
    const userId = int(1, 2000);
    owner.set(id, userId);
    trailing.push(id);
    const limited = type.endsWith('_LIMIT');
    return {
      kind: 'place',
      market: 'BENCH',
      orderId: id,
      userId,
      clientOrderId: '',
      side,
      type,
      ...(limited ? { timeInForce: 'IOC' as const, price: side === 'BUY' ? MID + 30 : MID - 30 } : {}),
      quantity: int(1, 100),
      trailingDelta: int(1, 20),
      ts: ts++,
    };
  };

  // Order lists (listShare > 0): live list ids, oldest first, and those that ended.
  let lastPrice = MID;
  const lists: number[] = [];
  const listOwner = new Map<number, number>();
  const closedLists = new Set<number>();
  let nextListId = 1;
  const orderList = (): Command => {
    const listId = nextListId++;
    lists.push(listId);
    const userId = int(1, 2000);
    listOwner.set(listId, userId);
    const leg = (over: Partial<ListLeg>): ListLeg => {
      const orderId = nextId++;
      return {
        orderId,
        clientOrderId: '',
        side: 'SELL',
        type: 'LIMIT_MAKER',
        quantity: int(1, 100),
        ...over,
      };
    };
    // OCO legs around the last price, inside the IOCs' reach (MID ± 20) so they trade and trigger.
    const ocoPair = (side: 'BUY' | 'SELL', quantity: number): ListLeg[] => {
      const up = Math.max(lastPrice, MID) + 1 + int(0, 15);
      const down = Math.min(lastPrice, MID) - 1 - int(0, 15);
      return side === 'SELL'
        ? [leg({ price: up, quantity }), leg({ type: 'STOP_LOSS', stopPrice: down, quantity })]
        : [
            leg({
              side,
              type: 'STOP_LOSS_LIMIT',
              stopPrice: up,
              price: up + 5,
              timeInForce: 'IOC',
              quantity,
            }),
            leg({ side, price: down, quantity }),
          ];
    };
    const r = rnd();
    const contingencyType = r < 0.4 ? 'OCO' : r < 0.7 ? 'OTO' : 'OTOCO';
    let legs: ListLeg[];
    if (contingencyType === 'OCO') legs = ocoPair(rnd() < 0.5 ? 'BUY' : 'SELL', int(1, 100));
    else {
      const working = leg({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: MID - int(1, 15) });
      legs =
        contingencyType === 'OTO'
          ? [working, leg({ price: MID + int(1, 20) })]
          : [working, ...ocoPair('SELL', int(1, 100))];
    }
    return {
      kind: 'placeList',
      market: 'BENCH',
      listId,
      userId,
      listClientOrderId: '',
      contingencyType,
      legs,
      ts: ts++,
    };
  };

  const prefill: Command[] = [];
  for (let i = 0; i < 1_000; i++) {
    const c = restingLimit();
    prefill.push(c);
    run(c);
  }
  const commands: Command[] = [];
  const counts: Record<string, number> = {
    gtc: 0,
    ioc: 0,
    cancel: 0,
    amend: 0,
    trailing: 0,
    list: 0,
    cancelList: 0,
  };
  let trading = 0;
  for (let i = 0; i < COMMANDS; i++) {
    if (listShare > 0) {
      while (lists.length > 0 && closedLists.has(lists[0])) lists.shift();
      const r = rnd();
      let cmd: Command | undefined;
      if (r < listShare && lists.length < LISTS_PENDING * 1.5) {
        cmd = orderList();
        counts.list++;
      } else if (r < listShare * 2 && lists.length > LISTS_PENDING) {
        const listId = lists.shift() as number;
        if (!closedLists.has(listId)) {
          cmd = {
            kind: 'cancelList',
            market: 'BENCH',
            listId,
            userId: listOwner.get(listId) as number,
            ts: ts++,
          };
          counts.cancelList++;
        }
      }
      if (cmd) {
        if (run(cmd) > 0) trading++;
        commands.push(cmd);
        continue;
      }
    }
    if (trailingShare > 0) {
      // Drop the trailing stops that closed (triggered and ran, or cancelled) from the pending list.
      while (trailing.length > 0 && closedIds.has(trailing[0])) trailing.shift();
      const r = rnd();
      let cmd: Command | undefined;
      if (r < trailingShare && trailing.length < TRAILING_PENDING * 1.5) {
        cmd = trailingStop();
        counts.trailing++;
      } else if (r < trailingShare * 2 && trailing.length > TRAILING_PENDING) {
        const id = trailing.shift() as number;
        if (!closedIds.has(id)) {
          cmd = { kind: 'cancel', market: 'BENCH', orderId: id, userId: owner.get(id) as number, ts: ts++ };
          counts.cancel++;
        }
      }
      if (cmd) {
        if (run(cmd) > 0) trading++;
        commands.push(cmd);
        continue;
      }
    }
    const r = rnd();
    // Target mix: 45 % GTC, 5 % IOC, 25 % cancel, 25 % amend; keep ~1,000 orders resting.
    let kind = r < 0.45 ? 'gtc' : r < 0.5 ? 'ioc' : r < 0.75 ? 'cancel' : 'amend';
    if (kind === 'gtc' && live.length > 1_100) kind = 'cancel';
    if ((kind === 'cancel' || kind === 'amend') && live.length < 900) kind = 'gtc';
    let cmd: Command;
    if (kind === 'gtc') {
      cmd = restingLimit();
    } else if (kind === 'ioc') {
      // IOC through the spread: these are the commands that trade.
      const side = rnd() < 0.5 ? 'BUY' : 'SELL';
      const id = nextId++;
      cmd = {
        kind: 'place',
        market: 'BENCH',
        orderId: id,
        userId: int(1, 2000),
        clientOrderId: '',
        side,
        type: 'LIMIT',
        timeInForce: 'IOC',
        price: side === 'BUY' ? MID + 20 : MID - 20,
        quantity: int(1, 100),
        ts: ts++,
      };
    } else if (kind === 'cancel') {
      const id = live[int(0, live.length - 1)];
      cmd = { kind: 'cancel', market: 'BENCH', orderId: id, userId: owner.get(id) as number, ts: ts++ };
    } else {
      const id = live[int(0, live.length - 1)];
      const o = engine.getOrder(id);
      if (!o) continue;
      if (rnd() < 0.5) {
        // A larger quantity: re-queued in Cirrus as in the peer (a smaller one would keep its priority here).
        const q = o.quantity + int(1, 50);
        cmd = { kind: 'amend', market: 'BENCH', orderId: id, userId: o.userId, newQuantity: q, ts: ts++ };
        qty.set(id, q);
      } else {
        // Always a new price: an amend to the same price keeps its priority in Cirrus.
        let p = o.price;
        while (p === o.price) p = o.side === 'BUY' ? MID - int(1, 375) : MID + int(1, 375);
        cmd = { kind: 'amend', market: 'BENCH', orderId: id, userId: o.userId, newPrice: p, ts: ts++ };
        price.set(id, p);
      }
    }
    counts[kind]++;
    if (run(cmd) > 0) trading++;
    commands.push(cmd);
  }
  return { prefill, commands, counts, tradingShare: trading / commands.length };
}

/** The same commands as calls on the peer's API (string ids, decimal numbers, size updates as totals left). */
type PeerCall = () => IProcessOrder | ICancelOrder | undefined;

function peerCalls(
  book: OrderBook,
  w: Workload,
  executed: number[],
): { prefill: PeerCall[]; calls: PeerCall[] } {
  const toCall = (c: Command, i: number): PeerCall => {
    if (c.kind === 'placeList' || c.kind === 'cancelList') throw new Error('the peer has no order lists');
    const id = String(c.orderId);
    if (c.kind === 'place') {
      const side = c.side === 'BUY' ? PeerSide.BUY : PeerSide.SELL;
      const timeInForce = c.timeInForce as 'GTC' | 'IOC';
      return () =>
        book.limit({
          id,
          side,
          size: c.quantity as number,
          price: c.price as number,
          timeInForce: timeInForce as never,
        });
    }
    if (c.kind === 'cancel') return () => book.cancel(id);
    if (c.newQuantity !== undefined) {
      // The peer's size update is the size left to fill: the new total less what the order executed so far.
      const left = c.newQuantity - executed[i];
      return () => book.modify(id, { size: left } as never);
    }
    return () => book.modify(id, { price: c.newPrice } as never);
  };
  return { prefill: w.prefill.map((c) => toCall(c, -1)), calls: w.commands.map(toCall) };
}

export function runCirrus(w: Workload): number {
  const { engine, out } = primedEngine(w);
  const cmds = w.commands;
  const start = process.hrtime.bigint();
  // Events are appended and dropped per batch, as the engine service's outbox collects them per flush.
  for (let i = 0; i < cmds.length; i++) {
    if ((i & 1023) === 0) out.length = 0;
    engine.apply(cmds[i], out);
  }
  const ns = Number(process.hrtime.bigint() - start);
  return (cmds.length * 1e9) / ns;
}

function runPeer(w: Workload, executed: number[]): number {
  const book = new OrderBook();
  const { prefill, calls } = peerCalls(book, w, executed);
  for (const call of prefill) call();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls.length; i++) calls[i]();
  const ns = Number(process.hrtime.bigint() - start);
  return (calls.length * 1e9) / ns;
}

function cirrusLatency(w: Workload): hdr.Histogram {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const { engine, out } = primedEngine(w);
  for (const c of w.commands) {
    out.length = 0;
    const t0 = process.hrtime.bigint();
    engine.apply(c, out);
    histogram.recordValue(Number(process.hrtime.bigint() - t0));
  }
  return histogram;
}

/**
 * Executed quantity of the named order at each command (by index; 0 for all but size amends), so the peer's
 * size update matches. By command, not by order: an order amended twice has executed more by the second time.
 */
function executedAtAmends(w: Workload): number[] {
  const { engine, out } = primedEngine(w);
  const executed = new Array<number>(w.commands.length).fill(0);
  w.commands.forEach((c, i) => {
    if (c.kind === 'amend' && c.newQuantity !== undefined)
      executed[i] = engine.getOrder(c.orderId)?.executed ?? 0;
    engine.apply(c, out);
    out.length = 0;
  });
  return executed;
}

/** A book as both engines can show it: levels best first, each with its orders' [id, size left] in queue order. */
type Book = { bids: Array<[price: number, orders: Array<[id: string, left: number]>]>; asks: Book['bids'] };

/** Trades of one peer call: makers filled completely (the taker is in `done` too when it filled), plus a partly filled maker. */
function peerTrades(r: IProcessOrder | ICancelOrder | undefined, takerId: string): number {
  if (!r || !('done' in r)) return 0;
  if (r.err) throw new Error(`peer refused order ${takerId}: ${r.err.message}`);
  const makersDone = r.done.filter((o) => o.id !== takerId).length;
  const makerPartial =
    r.partial !== null && r.partial.id !== takerId && r.partialQuantityProcessed > 0 ? 1 : 0;
  return makersDone + makerPartial;
}

/**
 * Runs the workload once in each engine and throws unless both end with the same book and trade count:
 * the throughput figures compare equal work only if this holds.
 */
export function crossCheck(w: Workload, executed: number[]): { trades: number; resting: number } {
  const engine = new MatchingEngine([rules]);
  const out: EngineEvent[] = [];
  let cirrusTrades = 0;
  for (const c of [...w.prefill, ...w.commands]) {
    out.length = 0;
    engine.apply(c, out);
    for (const e of out) {
      if (e.type === 'trade') cirrusTrades++;
      if (e.type === 'rejected') throw new Error(`Cirrus rejected a workload command: ${JSON.stringify(e)}`);
    }
  }
  const m = engine.snapshot().markets[0];
  const level = (orders: typeof m.bids): Book['bids'] => {
    const levels: Book['bids'] = [];
    for (const o of orders) {
      const entry: [string, number] = [String(o[0]), o[7] - o[14]];
      const last = levels[levels.length - 1];
      if (last && last[0] === o[6]) last[1].push(entry);
      else levels.push([o[6], [entry]]);
    }
    return levels;
  };
  const cirrus: Book = { bids: level(m.bids), asks: level(m.asks) };

  const book = new OrderBook();
  const { prefill, calls } = peerCalls(book, w, executed);
  let peerTradeCount = 0;
  const all = [...w.prefill, ...w.commands];
  [...prefill, ...calls].forEach((call, i) => {
    peerTradeCount += peerTrades(call(), String((all[i] as { orderId: number }).orderId));
  });
  const snap = book.snapshot();
  const peerLevels = (levels: typeof snap.bids, bestFirst: (a: number, b: number) => number): Book['bids'] =>
    levels
      .filter((l) => l.orders.length > 0)
      .map((l): Book['bids'][number] => [l.price, l.orders.map((o) => [o.id, o.size])])
      .sort((a, b) => bestFirst(a[0], b[0]));
  const peer: Book = {
    bids: peerLevels(snap.bids, (a, b) => b - a),
    asks: peerLevels(snap.asks, (a, b) => a - b),
  };

  const problems: string[] = [];
  if (cirrusTrades !== peerTradeCount)
    problems.push(`trades: cirrus ${cirrusTrades}, peer ${peerTradeCount}`);
  for (const side of ['bids', 'asks'] as const) {
    const a = cirrus[side];
    const b = peer[side];
    if (a.length !== b.length) problems.push(`${side}: cirrus ${a.length} levels, peer ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
        problems.push(`${side} level ${i}: cirrus ${JSON.stringify(a[i])}, peer ${JSON.stringify(b[i])}`);
        break;
      }
    }
  }
  if (problems.length > 0)
    throw new Error(`Cirrus and nodejs-order-book disagree after the workload:\n  ${problems.join('\n  ')}`);
  return { trades: cirrusTrades, resting: m.bids.length + m.asks.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const w = buildWorkload(42);
  const wt = buildWorkload(42, TRAILING_SHARE);
  const wl = buildWorkload(42, TRAILING_SHARE, LIST_SHARE);
  const executed = executedAtAmends(w);
  if (!CIRRUS_ONLY) {
    const same = crossCheck(w, executed);
    console.log(
      `cross-check: both engines end with the same ${same.resting} resting orders (every level, id, size left and queue position) after ${same.trades.toLocaleString('en')} trades`,
    );
  }
  const share = (n: number) => `${((100 * n) / w.commands.length).toFixed(1)} %`;
  console.log(
    `workload: ${w.commands.length.toLocaleString('en')} commands after ${w.prefill.length} resting orders (seed 42)`,
  );
  console.log(
    `  GTC ${share(w.counts.gtc)}, IOC ${share(w.counts.ioc)}, cancel ${share(w.counts.cancel)}, amend ${share(w.counts.amend)}; commands that trade: ${(100 * w.tradingShare).toFixed(1)} %`,
  );
  const wshare = (n: number) => `${((100 * n) / wt.commands.length).toFixed(1)} %`;
  console.log(
    `trailing workload (Cirrus only): the same seed with ${wshare(wt.counts.trailing)} trailing stop places; GTC ${wshare(wt.counts.gtc)}, IOC ${wshare(wt.counts.ioc)}, cancel ${wshare(wt.counts.cancel)}, amend ${wshare(wt.counts.amend)}; commands that trade: ${(100 * wt.tradingShare).toFixed(1)} %`,
  );
  const lshare = (n: number) => `${((100 * n) / wl.commands.length).toFixed(1)} %`;
  console.log(
    `list workload (Cirrus only): the trailing workload's mix with ${lshare(wl.counts.list)} order-list places (OCO / OTO / OTOCO) and ${lshare(wl.counts.cancelList)} cancelLists; trailing ${lshare(wl.counts.trailing)}; commands that trade: ${(100 * wl.tradingShare).toFixed(1)} %`,
  );
  console.log(`  node ${process.version}, ${ROUNDS} rounds each after one warm-up round, alternating`);
  if (process.env.BENCH_BREAKDOWN === '1') {
    printBreakdown(primedEngine, [
      ['plain', w],
      ['trailing', wt],
      ['list', wl],
    ]);
    return;
  }

  runCirrus(w);
  runCirrus(wt);
  runCirrus(wl);
  if (!CIRRUS_ONLY) runPeer(w, executed);
  const cirrus: number[] = [];
  const cirrusTrailing: number[] = [];
  const cirrusLists: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    cirrus.push(runCirrus(w));
    cirrusTrailing.push(runCirrus(wt));
    cirrusLists.push(runCirrus(wl));
    peer.push(CIRRUS_ONLY ? NaN : runPeer(w, executed));
    console.log(
      `  round ${r + 1}: cirrus ${Math.round(cirrus[r]).toLocaleString('en')} cmd/s, cirrus with trailing stops ${Math.round(cirrusTrailing[r]).toLocaleString('en')} cmd/s, cirrus with lists ${Math.round(cirrusLists[r]).toLocaleString('en')} cmd/s, nodejs-order-book ${Math.round(peer[r]).toLocaleString('en')} cmd/s`,
    );
  }
  const ct = median(cirrusTrailing);
  const cl = median(cirrusLists);
  const latency = cirrusLatency(w);
  const c = median(cirrus);
  const p = median(peer);
  const us = (ns: number) => ns / 1000;
  console.log('');
  console.log('| engine | commands/s (median) |');
  console.log('|---|---|');
  console.log(`| cirrus | ${Math.round(c).toLocaleString('en')} |`);
  console.log(`| cirrus, trailing workload | ${Math.round(ct).toLocaleString('en')} |`);
  console.log(
    `| cirrus, list workload (trailing stops and order lists) | ${Math.round(cl).toLocaleString('en')} |`,
  );
  console.log(`| nodejs-order-book ${peerVersion} | ${Math.round(p).toLocaleString('en')} |`);
  console.log(`ratio cirrus / peer: ${(c / p).toFixed(2)}`);
  console.log(`trailing workload / plain workload (cirrus): ${(ct / c).toFixed(3)}`);
  console.log(`list workload / plain workload (cirrus): ${(cl / c).toFixed(3)}`);
  console.log(
    `cirrus latency per command: p50 ${us(latency.getValueAtPercentile(50)).toFixed(2)} µs, p99 ${us(latency.getValueAtPercentile(99)).toFixed(2)} µs, p99.9 ${us(latency.getValueAtPercentile(99.9)).toFixed(2)} µs`,
  );
  console.log(
    JSON.stringify({
      cirrus_cmd_per_s: Math.round(c),
      cirrus_trailing_cmd_per_s: Math.round(ct),
      cirrus_lists_cmd_per_s: Math.round(cl),
      peer_cmd_per_s: Math.round(p),
      ratio: Number((c / p).toFixed(2)),
      p99_us: Number(us(latency.getValueAtPercentile(99)).toFixed(2)),
    }),
  );
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`bench:engine FAILED: ${(err as Error).message}`);
    process.exit(1);
  }
}
