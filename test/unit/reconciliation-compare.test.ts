// The reconciliation's ledger-vs-engine comparison (lambdas/reconciliation/compare.ts): what a snapshot says
// is live, and each finding with the exclusions that keep a stale snapshot from raising false alarms.
import { MatchingEngine } from '@engine/core';
import type { Command, EngineEvent, MarketRules } from '@engine/core/types';
import type { ServiceSnapshot } from '@engine/service/ports';
import {
  compareLocks,
  LOCK_GRACE_MS,
  liveOrdersWithoutOpenLock,
  snapshotView,
  type OpenLock,
  type SnapshotView,
} from '@lambdas/reconciliation/compare';

const rules = (symbol: string): MarketRules => ({
  symbol,
  minPriceTicks: 1,
  maxPriceTicks: 100_000,
  minQtyLots: 1,
  maxQtyLots: 100_000,
  minNotional: 1,
  maxIcebergParts: 10,
});

describe('snapshotView', () => {
  it('lists resting bids, asks and pending stops per market with its seq, not closed orders', () => {
    const engine = new MatchingEngine([rules('AAA'), rules('BBB')]);
    const apply = (cmd: Command) => engine.apply(cmd, [] as EngineEvent[]);
    const base = { userId: 1, ts: 1 } as const;
    apply({
      ...base,
      kind: 'place',
      market: 'AAA',
      orderId: 1,
      clientOrderId: 'b',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 90,
      quantity: 5,
    });
    apply({
      ...base,
      kind: 'place',
      market: 'AAA',
      orderId: 2,
      clientOrderId: 'a',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 110,
      quantity: 5,
    });
    apply({
      ...base,
      kind: 'place',
      market: 'AAA',
      orderId: 3,
      clientOrderId: 's',
      side: 'BUY',
      type: 'STOP_LOSS',
      stopPrice: 120,
      quantity: 1,
    });
    apply({
      ...base,
      kind: 'place',
      market: 'AAA',
      orderId: 4,
      clientOrderId: 'c',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 80,
      quantity: 5,
    });
    apply({ kind: 'cancel', market: 'AAA', orderId: 4, userId: 1, ts: 2 } as Command);
    apply({
      ...base,
      kind: 'place',
      market: 'BBB',
      orderId: 5,
      clientOrderId: 'x',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 100,
      quantity: 1,
    });
    const snapshot: ServiceSnapshot = {
      v: 1,
      shard: 'shardA',
      takenAt: 1_700_000_000_000,
      engine: engine.snapshot(),
      appliedCommandIds: [],
      streamPositions: {},
    };

    const view = snapshotView(snapshot);

    expect(view.shard).toBe('shardA');
    expect(view.takenAtMs).toBe(1_700_000_000_000);
    const aaa = view.markets.find((m) => m.symbol === 'AAA')!;
    expect([...aaa.liveOrderIds].sort()).toEqual([1, 2, 3]);
    expect(aaa.seq).toBe(engine.lastSeq('AAA'));
    expect(aaa.seq).toBeGreaterThan(0);
    expect(view.markets.find((m) => m.symbol === 'BBB')!.liveOrderIds).toEqual([5]);
  });
});

describe('compareLocks', () => {
  const T = 1_700_000_000_000; // snapshot time
  const SEQ = 500; // the market's seq in the snapshot
  const snapshots: SnapshotView[] = [
    { shard: 'shard0', takenAtMs: T, markets: [{ symbol: 'BTCUSDT', seq: SEQ, liveOrderIds: [10, 11, 12] }] },
  ];
  const old = T - LOCK_GRACE_MS - 1;
  const lock = (orderId: number, over: Partial<OpenLock> = {}): OpenLock => ({
    orderId,
    market: 'BTCUSDT',
    createdAtMs: old,
    lastSeq: 100,
    ...over,
  });
  const none = new Map<number, number>();

  it('a live order with its open lock is no finding', () => {
    const r = compareLocks([lock(10), lock(11), lock(12)], snapshots, none);
    expect(r.orphanLocks).toEqual([]);
    expect(r.unlockedLiveOrders).toEqual([]);
  });

  it('orphan lock: open, not live, older than the snapshot minus the grace, ledger not past the snapshot seq', () => {
    const r = compareLocks([lock(10), lock(11), lock(12), lock(7, { lastSeq: SEQ })], snapshots, none);
    expect(r.orphanLocks).toEqual([{ orderId: 7, market: 'BTCUSDT', shard: 'shard0' }]);
    // An order the engine never answered (last_seq 0) whose lock is old is an orphan too.
    expect(
      compareLocks([lock(10), lock(11), lock(12), lock(8, { lastSeq: 0 })], snapshots, none).orphanLocks,
    ).toEqual([{ orderId: 8, market: 'BTCUSDT', shard: 'shard0' }]);
  });

  it('grace: a lock created within the grace before the snapshot, or after it, is not judged', () => {
    const locks = [
      lock(10),
      lock(11),
      lock(12),
      lock(20, { createdAtMs: T - LOCK_GRACE_MS }), // exactly at the edge: still within the grace
      lock(21, { createdAtMs: T - 1_000 }),
      lock(22, { createdAtMs: T + 5_000 }),
    ];
    const r = compareLocks(locks, snapshots, none);
    expect(r.orphanLocks).toEqual([]);
    expect(r.newerThanSnapshot).toBe(3);
    // A shorter grace makes the same locks orphans.
    expect(compareLocks(locks, snapshots, none, 0).orphanLocks.map((f) => f.orderId)).toEqual([20, 21]);
  });

  it('seq: an old lock whose order the ledger settled past the snapshot seq is not judged (placed after it)', () => {
    const r = compareLocks([lock(10), lock(11), lock(12), lock(30, { lastSeq: SEQ + 1 })], snapshots, none);
    expect(r.orphanLocks).toEqual([]);
    expect(r.newerThanSnapshot).toBe(1);
  });

  it('unlocked live order: live in the snapshot with no open lock', () => {
    // 11: no order row at all; 12: its lock closed while the ledger's last seq is not past the snapshot.
    const r = compareLocks([lock(10)], snapshots, new Map([[12, SEQ]]));
    expect(r.unlockedLiveOrders).toEqual([
      { orderId: 11, market: 'BTCUSDT', shard: 'shard0' },
      { orderId: 12, market: 'BTCUSDT', shard: 'shard0' },
    ]);
    expect(r.orphanLocks).toEqual([]);
  });

  it('seq: a live order the ledger has settled past the snapshot (closed since) is no finding', () => {
    const r = compareLocks([lock(10), lock(11)], snapshots, new Map([[12, SEQ + 3]]));
    expect(r.unlockedLiveOrders).toEqual([]);
    expect(r.closedSinceSnapshot).toBe(1);
  });

  it('locks of a market no snapshot covers are counted as unchecked, never as orphans', () => {
    const r = compareLocks(
      [lock(10), lock(11), lock(12), lock(40, { market: 'ETHUSDT', lastSeq: 0 })],
      snapshots,
      none,
    );
    expect(r.orphanLocks).toEqual([]);
    expect(r.uncheckedLocks).toBe(1);
    expect(compareLocks([lock(40, { market: 'ETHUSDT' })], [], none)).toMatchObject({
      orphanLocks: [],
      unlockedLiveOrders: [],
      uncheckedLocks: 1,
    });
  });

  it('liveOrdersWithoutOpenLock names the orders whose ledger seq the caller must look up', () => {
    expect(liveOrdersWithoutOpenLock([lock(11), lock(99)], snapshots)).toEqual([10, 12]);
  });

  it('several shards: each lock is judged against its own market snapshot', () => {
    const two: SnapshotView[] = [
      ...snapshots,
      {
        shard: 'shard1',
        takenAtMs: T + 600_000,
        markets: [{ symbol: 'ETHUSDT', seq: 50, liveOrderIds: [60] }],
      },
    ];
    // 61 is older than shard1's snapshot minus the grace and not live there: orphan of shard1. Against
    // shard0's older snapshot time it would be too young to judge.
    const r = compareLocks(
      [
        lock(10),
        lock(11),
        lock(12),
        lock(60, { market: 'ETHUSDT' }),
        lock(61, { market: 'ETHUSDT', createdAtMs: T, lastSeq: 50 }),
      ],
      two,
      none,
    );
    expect(r.orphanLocks).toEqual([{ orderId: 61, market: 'ETHUSDT', shard: 'shard1' }]);
    expect(r.unlockedLiveOrders).toEqual([]);
  });
});
