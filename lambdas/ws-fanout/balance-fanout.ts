// Wallet events → Binance `balanceUpdate` and `outboundAccountPosition` → the connections bound to the
// user (docs/wallets.md#balance-events). The second source of the fan-out: deposits credited and
// withdrawals requested, sent or released move funds without any engine event.
//
// Per user, in the events' order: one `balanceUpdate` per change of the available balance (a withdrawal sent
// moves only its lock and has none), then one `outboundAccountPosition` with the balances of the assets the
// events touched, read from the ledger (the events are published after their transactions commit, so the
// figures include them). Only the user's own bindings get either. The relay publishes at least once: an
// event id seen recently is skipped, so a re-published event is not applied twice by a client that sums
// the deltas.
import type { BalanceEvent } from '@contracts/wallet-events';
import { framesPerConnection, postEach, type FanOutStats, type PostDeps } from './post';
import { liveBindings, userFrame, type UserFanOutDeps } from './user-fanout';
import { balanceUpdate, outboundAccountPosition } from './user-payloads';

interface Deps extends PostDeps {
  now(): number;
}

/** Event ids seen lately, bounded (oldest forgotten first). */
export class SeenBalanceEvents {
  private readonly ids = new Set<number>();
  constructor(private readonly capacity = 100_000) {}
  /** True the first time an id is offered. */
  admit(id: number): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as number);
    return true;
  }
}

export async function balanceFanOut(
  events: BalanceEvent[],
  deps: Deps,
  users: Pick<UserFanOutDeps, 'connectionsOf' | 'listenKeyLive' | 'apiKeyLive' | 'unbind' | 'balances'>,
  seen: SeenBalanceEvents,
): Promise<FanOutStats> {
  const stats: FanOutStats = { frames: 0, posted: 0, gone: 0, failed: 0 };
  const fresh = events.filter((e) => seen.admit(e.id)).sort((a, b) => a.id - b.id);
  const byUser = new Map<number, BalanceEvent[]>();
  for (const e of fresh) {
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  if (byUser.size === 0) return stats;

  let bindings;
  try {
    bindings = await users.connectionsOf([...byUser.keys()]);
  } catch (err) {
    deps.log.warn('user connections not read; balance events skipped for this batch', { err: String(err) });
    return stats;
  }
  if (bindings.size === 0) return stats;
  const eventTime = deps.now();
  const { frames: perConnection, push } = framesPerConnection();
  const live = await liveBindings(bindings, deps, users, push, eventTime);

  await Promise.all(
    [...live].map(async ([userId, targets]) => {
      const list = byUser.get(userId) ?? [];
      const frames: unknown[] = list
        .filter((e) => BigInt(e.delta) !== 0n)
        .map((e) => balanceUpdate(e.asset, BigInt(e.delta), e.time, eventTime));
      const assets = new Set(list.map((e) => e.asset));
      try {
        const balances = (await users.balances(userId)).filter((b) => assets.has(b.asset));
        frames.push(outboundAccountPosition(balances, Math.max(...list.map((e) => e.time)), deps.now()));
      } catch (err) {
        deps.log.warn('balances not read; outboundAccountPosition skipped', { userId, err: String(err) });
      }
      for (const b of targets) for (const f of frames) push(b.connectionId, userFrame(b, f));
    }),
  );
  await postEach(perConnection, deps, stats);
  return stats;
}
