// Balance events → balanceUpdate / outboundAccountPosition with in-memory doubles (lambdas/ws-fanout/
// balance-fanout.ts): Binance's payload, one update per change of the available balance in the events' order,
// none for a change of the locked part alone, the balances after them, only the user's own connections, an
// event published twice sent once, a closed listen key told once and unbound.
import type { BalanceEvent } from '@contracts/wallet-events';
import { decodeBalanceEvent, encodeBalanceEvent } from '@contracts/wallet-events';
import { balanceFanOut, SeenBalanceEvents } from '@lambdas/ws-fanout/balance-fanout';
import type { UserBinding } from '@lambdas/ws/user-stream-store';

const T0 = 1_700_000_000_000;
const CAROL = 7;
const DAVE = 8;

const event = (
  id: number,
  userId: number,
  delta: string,
  kind = 'deposit',
  asset = 'USDT',
): BalanceEvent => ({
  id,
  userId,
  asset,
  delta,
  kind,
  reference: `ref:${id}`,
  time: T0 + id,
});

function harness(bindings: UserBinding[], opts: { liveKeys?: Set<string>; balancesFail?: boolean } = {}) {
  const posted: Array<{ connectionId: string; frame: Record<string, unknown> }> = [];
  const unbound: string[] = [];
  const balances = new Map<number, Array<{ asset: string; available: bigint; locked: bigint }>>([
    [
      CAROL,
      [
        { asset: 'USDT', available: 8_900_000_000n, locked: 1_100_000_000n },
        { asset: 'BTC', available: 5n, locked: 0n },
      ],
    ],
    [DAVE, [{ asset: 'USDT', available: 1n, locked: 0n }]],
  ]);
  const deps = {
    now: () => T0 + 1_000,
    post: async (connectionId: string, data: string) => {
      posted.push({ connectionId, frame: JSON.parse(data) as Record<string, unknown> });
    },
    removeConnection: async () => undefined,
    log: { warn: () => undefined },
  };
  const users = {
    connectionsOf: async (ids: number[]) => {
      const m = new Map<number, UserBinding[]>();
      for (const b of bindings) if (ids.includes(b.userId)) m.set(b.userId, [...(m.get(b.userId) ?? []), b]);
      return m;
    },
    listenKeyLive: async (key: string) => opts.liveKeys?.has(key) ?? true,
    apiKeyLive: async () => true,
    unbind: async (connectionId: string) => {
      unbound.push(connectionId);
    },
    balances: async (userId: number) => {
      if (opts.balancesFail) throw new Error('ledger down');
      return balances.get(userId) ?? [];
    },
  };
  return {
    posted,
    unbound,
    run: (events: BalanceEvent[], seen = new SeenBalanceEvents()) => balanceFanOut(events, deps, users, seen),
  };
}

const carolRaw: UserBinding = { connectionId: 'c-raw', userId: CAROL, format: 'raw' };
const daveRaw: UserBinding = { connectionId: 'd-raw', userId: DAVE, format: 'raw' };

describe('balance fan-out', () => {
  it("posts the user's updates in event order, then the balances of the assets they touched", async () => {
    const h = harness([carolRaw, daveRaw]);
    // Given out of order: sent by id.
    const stats = await h.run([
      event(3, CAROL, '1100000000'),
      event(1, CAROL, '10000000000'),
      event(2, CAROL, '-2200000000', 'withdraw-lock'),
    ]);
    const frames = h.posted.filter((p) => p.connectionId === 'c-raw').map((p) => p.frame);
    expect(frames).toEqual([
      { e: 'balanceUpdate', E: T0 + 1_000, a: 'USDT', d: '100.00000000', T: T0 + 1 },
      { e: 'balanceUpdate', E: T0 + 1_000, a: 'USDT', d: '-22.00000000', T: T0 + 2 },
      { e: 'balanceUpdate', E: T0 + 1_000, a: 'USDT', d: '11.00000000', T: T0 + 3 },
      {
        e: 'outboundAccountPosition',
        E: T0 + 1_000,
        u: T0 + 3,
        B: [{ a: 'USDT', f: '89.00000000', l: '11.00000000' }],
      },
    ]);
    // Dave has a connection but no event: nothing for him.
    expect(h.posted.some((p) => p.connectionId === 'd-raw')).toBe(false);
    expect(stats).toMatchObject({ frames: 4, posted: 4, failed: 0 });
  });

  it('sends no balanceUpdate for a change of the locked part alone (a withdrawal sent), only the position', async () => {
    const h = harness([carolRaw]);
    await h.run([event(5, CAROL, '0', 'withdraw')]);
    expect(h.posted.map((p) => p.frame.e)).toEqual(['outboundAccountPosition']);
  });

  it('sends an event published twice once, across batches', async () => {
    const h = harness([carolRaw]);
    const seen = new SeenBalanceEvents();
    await h.run([event(9, CAROL, '100')], seen);
    await h.run([event(9, CAROL, '100'), event(10, CAROL, '200')], seen);
    expect(h.posted.filter((p) => p.frame.e === 'balanceUpdate').map((p) => p.frame.d)).toEqual([
      '0.00000100',
      '0.00000200',
    ]);
  });

  it('forgets the oldest ids beyond its capacity', () => {
    const seen = new SeenBalanceEvents(2);
    expect([1, 2, 3].map((id) => seen.admit(id))).toEqual([true, true, true]);
    expect(seen.admit(3)).toBe(false);
    expect(seen.admit(1)).toBe(true);
  });

  it('wraps frames as each connection asked: combined and WebSocket API', async () => {
    const h = harness([
      { connectionId: 'c-comb', userId: CAROL, format: 'combined', listenKey: 'K1' },
      { connectionId: 'c-api', userId: CAROL, format: 'wsapi' },
    ]);
    await h.run([event(1, CAROL, '100')]);
    const comb = h.posted.find((p) => p.connectionId === 'c-comb')!.frame;
    expect(comb).toMatchObject({ stream: 'K1', data: { e: 'balanceUpdate' } });
    const api = h.posted.find((p) => p.connectionId === 'c-api')!.frame;
    expect(api).toMatchObject({ event: { e: 'balanceUpdate' } });
  });

  it('tells a connection whose listen key is gone once, unbinds it and sends it no balance', async () => {
    const h = harness([{ connectionId: 'c-old', userId: CAROL, format: 'raw', listenKey: 'GONE' }], {
      liveKeys: new Set(),
    });
    await h.run([event(1, CAROL, '100')]);
    expect(h.posted.map((p) => p.frame.e)).toEqual(['listenKeyExpired']);
    expect(h.unbound).toEqual(['c-old']);
  });

  it('still sends the updates when the balances cannot be read', async () => {
    const h = harness([carolRaw], { balancesFail: true });
    await h.run([event(1, CAROL, '100')]);
    expect(h.posted.map((p) => p.frame.e)).toEqual(['balanceUpdate']);
  });

  it('round-trips the stream record and refuses anything else', () => {
    const e = event(4, CAROL, '-5', 'withdraw-release', 'BTC');
    expect(decodeBalanceEvent(encodeBalanceEvent(e))).toEqual(e);
    expect(() => decodeBalanceEvent(new TextEncoder().encode('{"balance":{"id":1}}'))).toThrow();
    expect(() =>
      decodeBalanceEvent(new TextEncoder().encode(JSON.stringify({ balance: { ...e, delta: '1.5' } }))),
    ).toThrow();
  });
});
