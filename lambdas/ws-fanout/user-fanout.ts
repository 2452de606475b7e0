// Engine events → Binance user data events (executionReport) → the connections bound to the order's owner.
// Part of the fan-out consumer rather than a fourth one: it needs the same batches, the same posting and the
// same connections table, and a user's reports must not wait on anything market streams do not (both halves
// run side by side, lambdas/ws-fanout/fanout.ts).
//
// No cross-user delivery by construction: a report is built for the user the engine event names as the
// order's owner (or the trade leg's), and posted only to the connections found under that user's own gsi1
// partition (user#<id>). What a report repeats about the order (client order id, the type the user asked
// for, quantities) is read once from the order history read model, waiting a little for the read models to
// reach the batch as the market fan-out does; an order still missing after that is skipped and logged.
// A connection bound through a listen key gets `listenKeyExpired` once the key is closed or expired, and
// is then unbound (no more events).
import type { MarketSpec } from '../../engine/core/types';
import type { EventRecord } from '../../engine/service/messages';
import { SUBSCRIPTION_ID, type UserBinding } from '../ws/user-stream-store';
import { postEach, type FanOutStats, type PostDeps } from './post';
import { executionReport, executions, listenKeyExpired, usersOf, type OrderFacts } from './user-payloads';

export interface UserFanOutDeps {
  /** The connections bound to this user (only this user's partition of the index). */
  userConnections(userId: number): Promise<UserBinding[]>;
  /** The orders' facts from the order history read model (those it already holds). */
  orders(orderIds: number[]): Promise<OrderFacts[]>;
  listenKeyLive(listenKey: string): Promise<boolean>;
  unbind(connectionId: string): Promise<void>;
}

interface Deps extends PostDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  now(): number;
  seedAttempts?: number;
}

/** Order facts by id, bounded (oldest dropped first): facts never change, so a hit is always right. */
export class OrderFactsCache {
  private readonly facts = new Map<number, OrderFacts>();
  constructor(private readonly capacity = 100_000) {}
  get(orderId: number): OrderFacts | undefined {
    return this.facts.get(orderId);
  }
  set(o: OrderFacts): void {
    this.facts.set(o.orderId, o);
    if (this.facts.size > this.capacity) this.facts.delete(this.facts.keys().next().value as number);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps an event as the connection asked: WebSocket API, combined (`/stream`) or raw (`/ws/<listenKey>`). */
export function userFrame(b: UserBinding, event: unknown): string {
  if (b.format === 'wsapi') return JSON.stringify({ subscriptionId: SUBSCRIPTION_ID, event });
  if (b.format === 'combined') return JSON.stringify({ stream: b.listenKey, data: event });
  return JSON.stringify(event);
}

export async function userFanOut(
  records: EventRecord[],
  deps: Deps,
  users: UserFanOutDeps,
  cache: OrderFactsCache,
): Promise<FanOutStats> {
  const stats: FanOutStats = { frames: 0, posted: 0, gone: 0, failed: 0 };
  const touched = new Set<number>();
  for (const r of records) if (deps.markets.has(r.market)) for (const u of usersOf(r.events)) touched.add(u);
  if (touched.size === 0) return stats;

  // Whose connections are listening: one query of the user's own partition each.
  const bindings = new Map<number, UserBinding[]>();
  await Promise.all(
    [...touched].map(async (userId) => {
      try {
        const found = await users.userConnections(userId);
        if (found.length > 0) bindings.set(userId, found);
      } catch (err) {
        deps.log.warn('user connections not read; user skipped for this batch', { userId, err: String(err) });
      }
    }),
  );
  if (bindings.size === 0) return stats;
  const listening = new Set(bindings.keys());
  const eventTime = deps.now();
  const perConnection = new Map<string, string[]>();
  const push = (connectionId: string, frame: string) => {
    const list = perConnection.get(connectionId);
    if (list) list.push(frame);
    else perConnection.set(connectionId, [frame]);
  };

  // Listen keys closed or expired since: tell the connection once, then stop its events.
  const live = new Map<number, UserBinding[]>();
  for (const [userId, list] of bindings) {
    const kept: UserBinding[] = [];
    for (const b of list) {
      if (b.listenKey && !(await users.listenKeyLive(b.listenKey).catch(() => true))) {
        push(b.connectionId, userFrame(b, listenKeyExpired(b.listenKey, eventTime)));
        await users
          .unbind(b.connectionId)
          .catch((err: unknown) =>
            deps.log.warn('expired binding not removed (TTL will)', { err: String(err) }),
          );
      } else kept.push(b);
    }
    if (kept.length > 0) live.set(userId, kept);
  }

  const reports = records.flatMap((r) => {
    const spec = deps.markets.get(r.market);
    return spec ? executions(spec, r.events, listening).map((x) => ({ ...x, spec })) : [];
  });
  const facts = await orderFacts(
    [...new Set(reports.filter((x) => live.has(x.userId)).map((x) => x.orderId))],
    deps,
    users,
    cache,
  );
  for (const { userId, orderId, execution, spec } of reports) {
    const order = facts.get(orderId);
    const targets = live.get(userId);
    // The read model's owner must be the event's: a report never goes to anyone else.
    if (!order || !targets || order.userId !== userId) continue;
    const payload = executionReport(spec, order, execution, eventTime);
    for (const b of targets) push(b.connectionId, userFrame(b, payload));
  }
  await postEach(perConnection, deps, stats);
  return stats;
}

/** The facts of these orders: from the cache, else the read model once it has them (retried briefly). */
async function orderFacts(
  ids: number[],
  deps: Deps,
  users: UserFanOutDeps,
  cache: OrderFactsCache,
): Promise<Map<number, OrderFacts>> {
  const found = new Map<number, OrderFacts>();
  let missing = ids.filter((id) => {
    const hit = cache.get(id);
    if (hit) found.set(id, hit);
    return !hit;
  });
  for (let attempt = 0; missing.length > 0 && attempt < (deps.seedAttempts ?? 30); attempt++) {
    if (attempt > 0) await sleep(100);
    try {
      for (const o of await users.orders(missing)) {
        if (!missing.includes(o.orderId)) continue;
        cache.set(o);
        found.set(o.orderId, o);
      }
      missing = missing.filter((id) => !found.has(id));
    } catch {
      // read model unavailable: try again
    }
  }
  if (missing.length > 0)
    deps.log.warn('orders not in the read model yet; their execution reports skipped', { orders: missing });
  return found;
}
