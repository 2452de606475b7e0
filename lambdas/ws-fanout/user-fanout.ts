// Engine events → Binance user data events (executionReport) → the connections bound to the order's owner.
// Part of the fan-out consumer rather than a fourth one: it needs the same batches, the same posting and the
// same connections table, and a user's reports must not wait on anything market streams do not (both halves
// run side by side, lambdas/ws-fanout/fanout.ts).
//
// No cross-user delivery by construction: a report is built for the user the engine event names as the
// order's owner (or the trade leg's), and posted only to the connections found under that user's own gsi1
// the bindings found for that user id. What a report repeats about the order (client order id, the type the
// user asked for, quantities) is read once from the ledger's order rows (written when the order was accepted,
// so before any of its events exist); an order missing even there is skipped and logged.
// After a user's reports, `outboundAccountPosition` with the balances of the assets of the markets involved,
// read from the ledger once settlement has applied the batch to that user's orders (their rows' last engine
// seq, advanced in the same transaction as the money), so the figures are the settled ones; a user whose
// settlement does not get there in time gets no balance frame for the batch (never a stale one).
// A connection bound through a listen key gets `listenKeyExpired` once the key is closed or expired, and
// is then unbound (no more events).
import type { MarketSpec } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { SUBSCRIPTION_ID, type UserBinding } from '../ws/user-stream-store';
import { framesPerConnection, postEach, type FanOutStats, type PostDeps } from './post';
import {
  executionReport,
  executions,
  eventStreamTerminated,
  listenKeyExpired,
  listStatusPayload,
  listStatuses,
  outboundAccountPosition,
  usersOf,
  type OrderFacts,
} from './user-payloads';

export interface UserFanOutDeps {
  /** The connections bound to each of these users (one read for the whole batch). */
  connectionsOf(userIds: number[]): Promise<Map<number, UserBinding[]>>;
  /** The orders' facts from the order history read model (those it already holds). */
  orders(orderIds: number[]): Promise<OrderFacts[]>;
  listenKeyLive(listenKey: string): Promise<boolean>;
  /** Whether an API key that signed a subscription still exists unrevoked. */
  apiKeyLive(apiKey: string): Promise<boolean>;
  unbind(connectionId: string): Promise<void>;
  /** The engine seq the ledger has applied to each order (its live row's last_seq). */
  settledSeqs(orderIds: number[]): Promise<Map<number, number>>;
  /** The user's balances in the ledger (minor units). */
  balances(userId: number): Promise<Array<{ asset: string; available: bigint; locked: bigint }>>;
}

interface Deps extends PostDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  now(): number;
  seedAttempts?: number;
}

/**
 * Order facts by id, bounded (oldest dropped first): facts never change but for an amend's quantity, which the
 * amend's own report updates here, so a hit is always right.
 */
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

  // Whose connections are listening: one read for every user the batch names.
  let bindings: Map<number, UserBinding[]>;
  try {
    bindings = await users.connectionsOf([...touched]);
  } catch (err) {
    deps.log.warn('user connections not read; user streams skipped for this batch', { err: String(err) });
    return stats;
  }
  if (bindings.size === 0) return stats;
  const listening = new Set(bindings.keys());
  const eventTime = deps.now();
  const { frames: perConnection, push } = framesPerConnection();

  const live = await liveBindings(bindings, deps, users, push, eventTime);

  const reports = records.flatMap((r) => {
    const spec = deps.markets.get(r.market);
    return spec ? executions(spec, r.events, listening).map((x) => ({ ...x, spec })) : [];
  });
  // Order lists' status events (docs/api.md#order-lists), after the batch's execution reports.
  const lists = records.flatMap((r) => (deps.markets.has(r.market) ? listStatuses(r.events, listening) : []));
  const facts = await orderFacts(
    [
      ...new Set([
        ...reports.filter((x) => live.has(x.userId)).map((x) => x.orderId),
        ...lists.filter((l) => live.has(l.userId)).flatMap((l) => l.orderIds),
      ]),
    ],
    deps,
    users,
    cache,
  );
  // The last event of each order in the batch: a FILLED close has no report of its own, but settlement
  // releases what is left of the order's lock with it, so the balance waits for it too.
  const lastEvent = new Map<number, { seq: number; ts: number }>();
  for (const r of records)
    for (const e of r.events) {
      const ids = e.type === 'trade' ? [e.makerOrderId, e.takerOrderId] : 'orderId' in e ? [e.orderId] : [];
      for (const id of ids) lastEvent.set(id, { seq: e.seq, ts: e.ts });
    }
  // Per listening user: the seq settlement must reach on each order, the assets touched, the last event time.
  const changed = new Map<number, { seqs: Map<number, number>; assets: Set<string>; time: number }>();
  for (const { userId, orderId, execution, spec } of reports) {
    const order = facts.get(orderId);
    const targets = live.get(userId);
    // The read model's owner must be the event's: a report never goes to anyone else.
    if (!order || !targets || order.userId !== userId) continue;
    if (execution.qtyLots !== undefined) {
      // An amend changes the one fact that can change: later reports show the new quantity.
      const amended = { ...order, qtyLots: execution.qtyLots };
      facts.set(orderId, amended);
      cache.set(amended);
    }
    const payload = executionReport(spec, order, execution, eventTime);
    for (const b of targets) push(b.connectionId, userFrame(b, payload));
    let c = changed.get(userId);
    if (!c) changed.set(userId, (c = { seqs: new Map(), assets: new Set(), time: 0 }));
    const last = lastEvent.get(orderId) ?? { seq: execution.seq, ts: execution.time };
    c.seqs.set(orderId, last.seq);
    c.assets.add(spec.baseAsset).add(spec.quoteAsset);
    c.time = Math.max(c.time, last.ts);
  }
  for (const l of lists) {
    const targets = live.get(l.userId);
    if (!targets) continue;
    // Only the list owner's own orders name their client ids.
    const clientIds = new Map(
      l.orderIds.flatMap((id) => {
        const o = facts.get(id);
        return o && o.userId === l.userId ? [[id, o.clientOrderId] as const] : [];
      }),
    );
    const payload = listStatusPayload(l, clientIds, eventTime);
    for (const b of targets) push(b.connectionId, userFrame(b, payload));
  }
  // Reports first: they need no settlement.
  await postEach(perConnection, deps, stats);

  const positions = new Map<string, string[]>();
  await Promise.all(
    [...changed].map(async ([userId, c]) => {
      const balances = await settledBalances(userId, c.seqs, deps, users);
      if (!balances) return;
      const payload = outboundAccountPosition(
        balances.filter((b) => c.assets.has(b.asset)),
        c.time,
        deps.now(),
      );
      for (const b of live.get(userId) ?? []) positions.set(b.connectionId, [userFrame(b, payload)]);
    }),
  );
  await postEach(positions, deps, stats);
  return stats;
}

/**
 * The bindings still live: a connection bound through a listen key closed or expired since is told once
 * (`listenKeyExpired`, through `push`) and unbound, so it gets no more events.
 */
export async function liveBindings(
  bindings: Map<number, UserBinding[]>,
  deps: Pick<Deps, 'log'>,
  users: Pick<UserFanOutDeps, 'listenKeyLive' | 'apiKeyLive' | 'unbind'>,
  push: (connectionId: string, frame: string) => void,
  eventTime: number,
): Promise<Map<number, UserBinding[]>> {
  const live = new Map<number, UserBinding[]>();
  const end = async (b: UserBinding, last: object) => {
    push(b.connectionId, userFrame(b, last));
    await users
      .unbind(b.connectionId)
      .catch((err: unknown) => deps.log.warn('expired binding not removed (TTL will)', { err: String(err) }));
  };
  for (const [userId, list] of bindings) {
    const kept: UserBinding[] = [];
    for (const b of list) {
      // A store that cannot answer keeps the binding: a transient error must not end anyone's stream.
      const keyRevoked = b.apiKey !== undefined && !(await users.apiKeyLive(b.apiKey).catch(() => true));
      // A listen-key stream ends with listenKeyExpired (its key gone, or the API key that made it revoked),
      // a signature subscription with eventStreamTerminated.
      if (b.listenKey && (keyRevoked || !(await users.listenKeyLive(b.listenKey).catch(() => true))))
        await end(b, listenKeyExpired(b.listenKey, eventTime));
      else if (keyRevoked) await end(b, eventStreamTerminated(eventTime));
      else kept.push(b);
    }
    if (kept.length > 0) live.set(userId, kept);
  }
  return live;
}

/** The user's balances once the ledger has applied these orders' events (undefined if not in time). */
async function settledBalances(userId: number, seqs: Map<number, number>, deps: Deps, users: UserFanOutDeps) {
  for (let attempt = 0; attempt < (deps.seedAttempts ?? 30); attempt++) {
    if (attempt > 0) await sleep(100);
    try {
      const applied = await users.settledSeqs([...seqs.keys()]);
      if ([...seqs].every(([orderId, seq]) => (applied.get(orderId) ?? 0) >= seq))
        return await users.balances(userId);
    } catch {
      // ledger unavailable: try again
    }
  }
  deps.log.warn('settlement behind the stream; outboundAccountPosition skipped for this batch', { userId });
  return undefined;
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
      // the database unavailable: try again
    }
  }
  if (missing.length > 0)
    deps.log.warn('orders not found; their execution reports skipped', { orders: missing });
  return found;
}
