// The engine service's parts alone (engine/service): the group commit to the event log (one record per market,
// a failed put kept at the head and retried in order, waiters woken only once their seqs are in), messages in
// work kept invisible, snapshots never ahead of the log and one at a time, and recovery's refusal of a gap.
import { rulesFromSpec } from '@engine/core/market';
import type { EngineEvent, PlaceCommand } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import { EventPublisher } from '@engine/service/event-publisher';
import { InFlightMessages } from '@engine/service/in-flight-messages';
import type { CommandSource, PutOutcome, ServiceSnapshot } from '@engine/service/ports';
import { recoverEngine, ReplayMismatchError } from '@engine/service/recovery';
import { SnapshotScheduler } from '@engine/service/snapshot-scheduler';
import { MemoryEventLog, MemorySnapshotStore, silentLogger } from '../support/engine-service-doubles';

const rules = MARKETS.map(rulesFromSpec);

const place = (orderId: number, market = 'BTCUSDT'): PlaceCommand => ({
  kind: 'place',
  market,
  orderId,
  userId: 1,
  clientOrderId: `c${orderId}`,
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: 300_000,
  quantity: 100,
  ts: 0,
});
const accepted = (seq: number, market = 'BTCUSDT') =>
  ({ type: 'accepted', market, seq }) as unknown as EngineEvent;
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('EventPublisher', () => {
  function harness(outcomes: Array<(records: EventRecord[]) => PutOutcome[] | Error>) {
    const puts: EventRecord[][] = [];
    let flushed = 0;
    const positions: Record<string, string> = {};
    const publisher = new EventPublisher({
      sink: {
        put: async (records) => {
          puts.push(records);
          const next = outcomes.shift() ?? ((rs: EventRecord[]) => rs.map(() => ({ ok: true })));
          const out = next(records);
          if (out instanceof Error) throw out;
          return out;
        },
      },
      logger: silentLogger,
      positions,
      onFlushed: () => flushed++,
    });
    const apply = (market: string, orderId: number, seqs: number[]) => {
      const events = publisher.eventsOf(market);
      const start = events.length;
      for (const seq of seqs) events.push(accepted(seq, market));
      publisher.commandApplied(market, { cmdId: `p-${orderId}`, command: place(orderId, market) }, start);
    };
    return { publisher, puts, positions, apply, flushed: () => flushed };
  }

  it('puts one record per market with whole commands, then wakes the waiters and advances the position', async () => {
    const h = harness([
      (rs) => rs.map((_, i) => ({ ok: true, shardId: `s${i}`, sequenceNumber: `${10 + i}` })),
    ]);
    h.apply('BTCUSDT', 1, [1, 2]);
    h.apply('BTCUSDT', 2, [3]);
    h.apply('ETHUSDT', 3, [1]);
    let woken = false;
    const wait = h.publisher.publishedUpTo((m) => (m === 'BTCUSDT' ? 3 : 1)).then(() => (woken = true));
    h.publisher.start();
    await wait;
    expect(woken).toBe(true);
    expect(
      h.puts[0].map((r) => [
        r.market,
        r.commands.map((c) => [c.cmdId, c.firstSeq, c.lastSeq]),
        r.events.length,
      ]),
    ).toEqual([
      [
        'BTCUSDT',
        [
          ['p-1', 1, 2],
          ['p-2', 3, 3],
        ],
        3,
      ],
      ['ETHUSDT', [['p-3', 1, 1]], 1],
    ]);
    expect(h.positions).toEqual({ s0: '10', s1: '11' });
    expect(h.publisher.pendingEventCount()).toBe(0);
    expect(h.flushed()).toBe(1);
    await h.publisher.stop();
  });

  it('keeps a failed put at the head of its market and sends it again, in order, before anything later', async () => {
    const h = harness([
      (rs) => rs.map((r) => ({ ok: r.market !== 'BTCUSDT' })),
      () => new Error('ProvisionedThroughputExceeded'),
    ]);
    h.apply('BTCUSDT', 1, [1]);
    h.apply('ETHUSDT', 2, [1]);
    h.publisher.start();
    await until(() => h.puts.length >= 1);
    h.apply('BTCUSDT', 3, [2]);
    await h.publisher.publishedUpTo((m) => (m === 'BTCUSDT' ? 2 : 1));
    const btc = h.puts.flat().filter((r) => r.market === 'BTCUSDT');
    // The first try failed, the second threw, the third carried both commands, oldest first.
    expect(btc.at(-1)!.commands.map((c) => c.cmdId)).toEqual(['p-1', 'p-3']);
    expect(h.puts.flat().filter((r) => r.market === 'ETHUSDT')).toHaveLength(1);
    await h.publisher.stop();
  });

  it('does not wake a waiter for seqs already in the log, and a command without events records nothing', async () => {
    const h = harness([]);
    h.publisher.markRecovered('BTCUSDT', 5);
    h.apply('BTCUSDT', 1, []);
    await expect(h.publisher.publishedUpTo(() => 5)).resolves.toBeUndefined();
    h.publisher.start();
    await h.publisher.stop();
    expect(h.puts).toEqual([]);
  });
});

describe('InFlightMessages', () => {
  it('extends the visibility of the messages held longer than a third of the timeout, only those', async () => {
    let now = 0;
    const extended: Array<[string[], number]> = [];
    const source = {
      extendVisibility: async (handles: string[], seconds: number) => {
        extended.push([handles, seconds]);
      },
    } as unknown as CommandSource;
    const inFlight = new InFlightMessages(source, 30, () => now, silentLogger);
    expect(inFlight.checkEveryMs).toBe(10_000);
    inFlight.add(['a', 'b']);
    now = 5_000;
    inFlight.add(['c']);
    now = 10_001;
    await inFlight.extendDue();
    expect(extended).toEqual([[['a', 'b'], 30]]);
    inFlight.remove(['a']);
    now = 15_001;
    await inFlight.extendDue();
    expect(extended[1]).toEqual([['c'], 30]);
  });

  it('logs a failed extension and tries again next time', async () => {
    let fail = true;
    const tried: string[][] = [];
    const source = {
      extendVisibility: async (handles: string[]) => {
        tried.push(handles);
        if (fail) throw new Error('throttled');
      },
    } as unknown as CommandSource;
    const warnings: string[] = [];
    const inFlight = new InFlightMessages(source, 3, () => 2_000, {
      ...silentLogger,
      warn: (m) => warnings.push(m),
    });
    inFlight.add(['a']);
    (inFlight as unknown as { clock: () => number }).clock = () => 4_000;
    await inFlight.extendDue();
    fail = false;
    await inFlight.extendDue();
    expect(tried).toEqual([['a'], ['a']]);
    expect(warnings).toEqual(['visibility extension failed']);
  });
});

describe('SnapshotScheduler', () => {
  const snapshot = (n: number): ServiceSnapshot =>
    ({
      v: 1,
      shard: 's',
      takenAt: n,
      engine: {},
      appliedCommandIds: [],
      streamPositions: {},
    }) as unknown as ServiceSnapshot;

  it('takes one every N commands, never while events are pending, one at a time', async () => {
    const saved: number[] = [];
    let release: () => void = () => undefined;
    let pending = 0;
    let n = 0;
    const scheduler = new SnapshotScheduler({
      store: {
        save: (s) => {
          saved.push(s.takenAt);
          return new Promise<void>((r) => (release = r));
        },
        loadLatest: async () => undefined,
      },
      every: 2,
      logger: silentLogger,
      capture: () => snapshot(++n),
      pendingEvents: () => pending,
    });
    scheduler.commandApplied();
    scheduler.maybeTake();
    expect(saved).toEqual([]); // 1 of 2
    scheduler.commandApplied();
    pending = 3;
    scheduler.maybeTake();
    expect(saved).toEqual([]); // events not yet in the log
    pending = 0;
    scheduler.maybeTake();
    scheduler.commandApplied();
    scheduler.commandApplied();
    scheduler.maybeTake(); // due again, but one is in progress
    expect(saved).toEqual([1]);
    release();
    await scheduler.settled();
    scheduler.maybeTake();
    expect(saved).toEqual([1, 2]);
    release();
    await scheduler.settled();
  });
});

describe('recoverEngine', () => {
  it('refuses a gap in the event log rather than run on a state the log does not explain', async () => {
    const log = new MemoryEventLog();
    await log.put([
      {
        v: 1,
        market: 'BTCUSDT',
        commands: [{ cmdId: 'p-9', command: place(9), firstSeq: 5, lastSeq: 5 }],
        events: [accepted(5)],
      },
    ]);
    await expect(
      recoverEngine({
        shard: 's',
        markets: rules,
        snapshots: new MemorySnapshotStore(),
        log,
        rememberCommandIds: 10,
      }),
    ).rejects.toThrow(ReplayMismatchError);
  });

  it('starts empty without a snapshot or a log', async () => {
    const state = await recoverEngine({
      shard: 's',
      markets: rules,
      snapshots: new MemorySnapshotStore(),
      log: new MemoryEventLog(),
      rememberCommandIds: 10,
    });
    expect(state).toMatchObject({ fromSnapshot: false, replayedCommands: 0, positions: {} });
    expect(state.engine.lastSeq('BTCUSDT')).toBe(0);
  });
});
