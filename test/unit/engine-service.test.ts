import { MatchingEngine, type EngineSnapshot, type OrderTuple } from '@engine/core';
import { rulesFromSpec } from '@engine/core/market';
import type { Command, EngineEvent, PlaceCommand } from '@engine/core/types';
import { EngineService, ReplayMismatchError } from '@engine/service/engine-service';
import { commandId, type CommandMessage } from '@contracts/messages';
import type { EventSink } from '@engine/service/ports';
import { MARKETS } from '@contracts/markets';
import {
  MemoryEventLog,
  MemoryQueue,
  MemorySnapshotStore,
  silentLogger,
} from '../support/engine-service-doubles';

const rules = MARKETS.map(rulesFromSpec);

/** Deterministic LCG so every run sends the same flow. */
function commandFlow(n: number, seed = 7): Command[] {
  let s = seed;
  const rand = (k: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    // The high bits: the low bits of a power-of-two LCG cycle (the lowest alternates), which made every
    // order a BUY and the flow never trade.
    return Math.floor((s / 2147483648) * k);
  };
  const cmds: Command[] = [];
  for (let i = 1; i <= n; i++) {
    const market = i % 3 === 0 ? 'ETHUSDT' : 'BTCUSDT';
    if (i > 10 && rand(5) === 0) {
      const target = 1 + rand(i - 1);
      cmds.push({
        kind: 'cancel',
        market: cmds[target - 1].market,
        orderId: target,
        userId: 1 + (target % 4),
        ts: 0,
      });
      continue;
    }
    const place: PlaceCommand = {
      kind: 'place',
      market,
      orderId: i,
      userId: 1 + (i % 4),
      clientOrderId: `c${i}`,
      side: rand(2) === 0 ? 'BUY' : 'SELL',
      type: 'LIMIT',
      timeInForce: rand(4) === 0 ? 'IOC' : 'GTC',
      price: 300_000 + rand(40) * 100,
      quantity: 100 + rand(50) * 10,
      ts: 0,
    };
    cmds.push(place);
  }
  return cmds;
}

function message(cmd: Command, i: number): string {
  const cmdId =
    cmd.kind === 'placeList'
      ? commandId.placeList(cmd.listId)
      : cmd.kind === 'cancelList'
        ? `${commandId.cancelList(cmd.listId)}-${i}`
        : cmd.kind === 'place'
          ? commandId.place(cmd.orderId)
          : `c-${cmd.orderId}-${i}`;
  const msg: CommandMessage = { v: 1, cmdId, command: cmd };
  return JSON.stringify(msg);
}

function makeService(
  queue: MemoryQueue,
  log: MemoryEventLog,
  snapshots: MemorySnapshotStore,
  every = 1_000_000,
  sink: EventSink = log,
  receivers = 3,
  clockStart = 1_700_000_000_000,
) {
  let t = clockStart;
  return new EngineService({
    shard: 'shard0',
    markets: rules,
    source: queue,
    sink,
    log,
    snapshots,
    logger: silentLogger,
    receivers,
    receiveWaitSeconds: 0,
    snapshotEveryCommands: every,
    clock: () => t++,
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Apply the logged commands to a fresh engine: what an uninterrupted single engine would have done. */
function referenceReplay(log: MemoryEventLog): { hash: string; events: EngineEvent[] } {
  const engine = new MatchingEngine(rules);
  const events: EngineEvent[] = [];
  for (const { record } of log.records) for (const c of record.commands) engine.apply(c.command, events);
  return { hash: engine.stateHash(), events };
}

function withoutTs<T extends { ts: number }>(x: T): Omit<T, 'ts'> {
  const { ts: _ts, ...rest } = x;
  return rest;
}

/** A snapshot with each order's engine time (tuple field 12) blanked: the service's clock sets it. */
function timeless(snapshot: EngineSnapshot): EngineSnapshot {
  const blank = (orders: OrderTuple[]) => orders.map((o) => o.map((v, i) => (i === 12 ? 0 : v)));
  return {
    ...snapshot,
    markets: snapshot.markets.map((m) => ({
      ...m,
      bids: blank(m.bids),
      asks: blank(m.asks),
      stops: blank(m.stops),
    })) as EngineSnapshot['markets'],
  };
}

const cmdIdOf = (body: string): string => (JSON.parse(body) as CommandMessage).cmdId;

function assertGapFree(events: EngineEvent[]): void {
  const last = new Map<string, number>();
  for (const e of events) {
    expect(e.seq).toBe((last.get(e.market) ?? 0) + 1);
    last.set(e.market, e.seq);
  }
}

/**
 * The oracle is the flow itself, applied in sending order to a fresh engine (the queue double has no groups
 * and hands messages out in order), never anything read back from the service's log. The service stamps each
 * command with its own clock, so times are compared apart; one Kinesis record per market per flush, so order
 * is compared within each market (the stream's unit). Every command, places and cancels alike, must be logged
 * exactly once under its own id. Returns the logged events.
 */
function expectAsDirect(flow: Command[], log: MemoryEventLog, service: EngineService): EngineEvent[] {
  const direct = new MatchingEngine(rules);
  const expected: EngineEvent[] = [];
  for (const c of flow) direct.apply(c, expected);
  const events = log.events();
  assertGapFree(events);
  const logged = log.records.flatMap((r) => r.record.commands);
  const sent = flow.map((c, i) => ({ cmdId: cmdIdOf(message(c, i)), command: withoutTs(c) }));
  for (const market of ['BTCUSDT', 'ETHUSDT']) {
    const mine = (list: EngineEvent[]) => list.filter((e) => e.market === market).map(withoutTs);
    expect(mine(events)).toEqual(mine(expected));
    const commands = logged.filter((c) => c.command.market === market);
    expect(commands.map((c) => ({ cmdId: c.cmdId, command: withoutTs(c.command) }))).toEqual(
      sent.filter((c) => c.command.market === market),
    );
    const stamps = commands.map((c) => c.command.ts);
    expect(stamps[0]).toBeGreaterThanOrEqual(1_700_000_000_000);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThanOrEqual(stamps[i - 1]);
  }
  expect(events).toHaveLength(expected.length);
  expect(logged).toHaveLength(flow.length);
  expect(timeless(service.matchingEngine.snapshot())).toEqual(timeless(direct.snapshot()));
  return events;
}

describe('EngineService', () => {
  it('applies every command once, publishes gap-free events, then deletes the messages', async () => {
    const flow = commandFlow(300);
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const service = makeService(queue, log, new MemorySnapshotStore());
    flow.forEach((c, i) => queue.send(message(c, i)));
    await service.start();
    await waitFor(() => queue.depth === 0);
    await service.stop();

    const events = expectAsDirect(flow, log, service);
    // The flow is not trivial: this seed sends 243 places and 57 cancels, and they trade.
    expect(flow.filter((c) => c.kind === 'place')).toHaveLength(243);
    expect(flow.filter((c) => c.kind === 'cancel')).toHaveLength(57);
    expect(events.filter((e) => e.type === 'trade').length).toBeGreaterThan(20);
    expect(queue.deletes).toBe(300);
  });

  it('one receiver polls a quiet queue; the others join only while receives come back full', async () => {
    // Every receive takes 5 ms, as a network round trip would; track how many are in flight at once.
    class TimedQueue extends MemoryQueue {
      inFlight = 0;
      maxInFlight = 0;
      async receive(max: number) {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise((r) => setTimeout(r, 5));
        try {
          return await super.receive(max);
        } finally {
          this.inFlight--;
        }
      }
    }
    const flow = commandFlow(300);
    const queue = new TimedQueue();
    const log = new MemoryEventLog();
    const service = makeService(queue, log, new MemorySnapshotStore());
    await service.start();
    // A trickle: one message at a time, never a full batch.
    for (let i = 0; i < 20; i++) {
      queue.send(message(flow[i], i));
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => queue.depth === 0);
    expect(queue.maxInFlight).toBe(1);
    // A backlog: receives come back full, and the other two receivers join.
    flow.slice(20).forEach((c, i) => queue.send(message(c, 20 + i)));
    await waitFor(() => queue.depth === 0);
    await service.stop();
    expect(queue.maxInFlight).toBe(3);
    expectAsDirect(flow, log, service);
  });

  it('keeps messages until Kinesis accepts their events, and keeps order across a failed put', async () => {
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    log.failNextPuts = 3;
    const service = makeService(queue, log, new MemorySnapshotStore());
    const flow = commandFlow(50);
    flow.forEach((c, i) => queue.send(message(c, i)));
    await service.start();
    await waitFor(() => queue.depth === 0);
    await service.stop();
    expect(log.failNextPuts).toBe(0);
    expectAsDirect(flow, log, service);
    expect(referenceReplay(log).hash).toBe(service.stateHash);
  });

  it('after a crash, recovers from snapshot + log and skips redelivered commands (nothing lost, nothing twice)', async () => {
    const flow = commandFlow(400);
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const snapshots = new MemorySnapshotStore();
    flow.forEach((c, i) => queue.send(message(c, i)));

    // First life: events reach the log, but deleting the messages fails, then the task dies.
    const first = makeService(queue, log, snapshots, 100);
    queue.failDeletes = true;
    await first.start();
    await waitFor(() => log.records.flatMap((r) => r.record.commands).length >= 250);
    await first.stop({ finalSnapshot: false });
    expect(snapshots.saves).toBeGreaterThan(0);
    queue.crash();
    queue.failDeletes = false;

    // Second life: recovery replays the log after the snapshot, then every redelivery is recognised.
    const second = makeService(queue, log, snapshots, 100);
    await second.start();
    await waitFor(() => queue.depth === 0);
    await second.stop();

    // Nothing lost, nothing twice: every sent command (cancels too) logged once, in order, with the events
    // and the state an uninterrupted engine has after the same flow.
    expect(flow.filter((c) => c.kind === 'cancel').length).toBeGreaterThan(50);
    expectAsDirect(flow, log, second);
    expect(second.stateHash).toBe(referenceReplay(log).hash);
  });

  it('a record Kinesis refuses goes again at the head of its market; other markets go on; order kept', async () => {
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    let refusals = 6;
    log.failRecord = (record) => record.market === 'ETHUSDT' && refusals-- > 0;
    const service = makeService(queue, log, new MemorySnapshotStore());
    const flow = commandFlow(120);
    flow.forEach((c, i) => queue.send(message(c, i)));
    await service.start();
    await waitFor(() => queue.depth === 0);
    await service.stop();
    expect(log.failedRecords).toBe(6);
    // BTCUSDT records were stored while ETHUSDT ones were being refused.
    const firstEth = log.records.findIndex((r) => r.record.market === 'ETHUSDT');
    expect(log.records.slice(0, firstEth).some((r) => r.record.market === 'BTCUSDT')).toBe(true);
    expectAsDirect(flow, log, service);
    expect(referenceReplay(log).hash).toBe(service.stateHash);
  });

  it('a crash between applying commands and their Kinesis put: the next life applies them once', async () => {
    const flow = commandFlow(300);
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const snapshots = new MemorySnapshotStore();
    flow.forEach((c, i) => queue.send(message(c, i)));

    // First life: its first puts land; then a put never comes back and the task dies with commands applied
    // in memory whose events never reached the stream (and whose messages were never deleted).
    let landed = 0;
    let release!: () => void;
    const gone = new Promise<void>((r) => (release = r));
    const dying: EventSink = {
      put: async (records) => {
        if (landed++ < 5) return log.put(records);
        await gone;
        return records.map(() => ({ ok: true })); // into a stream nobody reads: the task is gone
      },
    };
    const first = makeService(queue, log, snapshots, 50, dying, 1);
    await first.start();
    await waitFor(() => landed > 5);
    const appliedBeforeCrash =
      first.matchingEngine.lastSeq('BTCUSDT') + first.matchingEngine.lastSeq('ETHUSDT');
    const publishedBeforeCrash = log.events().length;
    expect(appliedBeforeCrash).toBeGreaterThan(publishedBeforeCrash); // commands were in flight
    queue.crash();

    // Second life: recovers from the snapshot and the stream, then every redelivered message is applied once.
    // (Its clock runs on from the dead task's, as the wall clock does.)
    const second = makeService(queue, log, snapshots, 50, log, 3, 1_700_000_100_000);
    await second.start();
    await waitFor(() => queue.depth === 0);
    await second.stop();
    expectAsDirect(flow, log, second);
    expect(second.stateHash).toBe(referenceReplay(log).hash);

    // The dead task's last put lands nowhere; its stale receipts delete nothing.
    release();
    await first.stop({ finalSnapshot: false });
    expect(queue.depth).toBe(0);
  });

  it('applies order lists (placeList, cancelList) from the queue; snapshots and recovery carry them', async () => {
    const ts = 0;
    const leg = (orderId: number, over: Partial<PlaceCommand>) =>
      ({
        orderId,
        clientOrderId: `l${orderId}`,
        side: 'SELL',
        type: 'LIMIT_MAKER',
        quantity: 1000,
        ...over,
      }) as const;
    const seller: PlaceCommand = {
      kind: 'place',
      market: 'BTCUSDT',
      orderId: 1,
      userId: 2,
      clientOrderId: 's',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 3_000_000,
      quantity: 500,
      ts,
    };
    const lists: Command[] = [
      seller,
      // OTO: the working BUY fills half against the seller; its pending SELL waits (in the snapshot).
      {
        kind: 'placeList',
        market: 'BTCUSDT',
        listId: 1,
        userId: 1,
        listClientOrderId: 'oto',
        contingencyType: 'OTO',
        legs: [
          leg(2, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 3_000_000 }),
          leg(3, { price: 3_100_000 }),
        ],
        ts,
      },
      // OCO: a take profit above, a stop loss below.
      {
        kind: 'placeList',
        market: 'BTCUSDT',
        listId: 2,
        userId: 3,
        listClientOrderId: 'oco',
        contingencyType: 'OCO',
        legs: [leg(4, { price: 3_200_000 }), leg(5, { type: 'STOP_LOSS', stopPrice: 2_900_000 })],
        ts,
      },
      { kind: 'cancelList', market: 'BTCUSDT', listId: 2, userId: 3, ts },
    ];
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const snapshots = new MemorySnapshotStore();
    lists.forEach((c, i) => queue.send(message(c, i)));
    const first = makeService(queue, log, snapshots, 2);
    await first.start();
    await waitFor(() => queue.depth === 0);
    await first.stop();
    const saved = snapshots.latest as { engine: EngineSnapshot };
    const btc = saved.engine.markets.find((m) => m.rules.symbol === 'BTCUSDT');
    expect(btc?.lists?.map((l) => [l.listId, l.pending.map((t) => t[0])])).toEqual([[1, [3]]]);

    const second = makeService(queue, log, snapshots, 2);
    await second.start();
    await second.stop();
    const { events, hash } = referenceReplay(log);
    expect(second.stateHash).toBe(hash);
    expect(events.filter((e) => e.type === 'listStatus').map((e) => [e.listId, e.listStatusType])).toEqual([
      [1, 'EXEC_STARTED'],
      [2, 'EXEC_STARTED'],
      [2, 'ALL_DONE'],
    ]);
  });

  it('leaves a malformed message for the DLQ and keeps going', async () => {
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const service = makeService(queue, log, new MemorySnapshotStore());
    queue.send('{not json');
    queue.send(JSON.stringify({ v: 1, cmdId: 'x', command: { kind: 'place', market: 'BTCUSDT' } }));
    commandFlow(5).forEach((c, i) => queue.send(message(c, i)));
    await service.start();
    await waitFor(() => queue.depth === 2);
    await service.stop();
    expect(log.events().length).toBeGreaterThan(0);
    expect(silentLogger.errors.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses to resume when the log does not replay to the same events', async () => {
    const queue = new MemoryQueue();
    const log = new MemoryEventLog();
    const service = makeService(queue, log, new MemorySnapshotStore());
    commandFlow(20).forEach((c, i) => queue.send(message(c, i)));
    await service.start();
    await waitFor(() => queue.depth === 0);
    await service.stop();
    // Tamper: the first logged command now claims more events than it produces.
    log.records[0].record.commands[0].lastSeq += 1;
    const again = makeService(new MemoryQueue(), log, new MemorySnapshotStore());
    await expect(again.recover()).rejects.toBeInstanceOf(ReplayMismatchError);
  });
});
