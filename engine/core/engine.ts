// The matching engine: a pure, deterministic state machine over all markets of a shard (docs/architecture.md).
// Same commands in → same events out; no clock, no randomness, no I/O.
import { createHash } from 'node:crypto';
import { MarketBook, type OrderRegistry } from './market-book';
import { ClosedIdSet } from './closed-id-set';
import { Order } from './order';
import { OrderList } from './order-list';
import type { EngineSnapshot, MarketSnapshot, OrderTuple } from './snapshot';
import { setTrailExtreme } from './stop-book';
import type { Command, EngineEvent, MarketRules, RejectedEvent } from './types';

/** How many closed order ids each market remembers to refuse a reused id. */
export const CLOSED_ID_MEMORY = 100_000;

export interface EngineOptions {
  /** Closed ids remembered per market (default CLOSED_ID_MEMORY); tests lower it to exercise forgetting. */
  closedIdMemory?: number;
}

export interface OrderView {
  orderId: number;
  userId: number;
  market: string;
  side: Order['side'];
  orderType: Order['orderType'];
  price: number;
  quantity: number;
  executed: number;
  visible: number;
  resting: boolean;
}

export class Registry implements OrderRegistry {
  /** Live orders by id: small (the resting book and pending stops), so lookups stay in cache. */
  private readonly live = new Map<number, Order>();
  /**
   * Recently closed ids, refused if reused; mirrors the ring below. Also holds tombstones: ids a cancel
   * named before this market saw them (MarketBook.cancel), so their late place is refused.
   */
  private readonly closed: ClosedIdSet;
  /** Closed ids in closing order, as a ring: the oldest is forgotten when the ring is full. */
  private readonly ring: Float64Array;
  private ringStart = 0;
  private ringSize = 0;
  /**
   * The largest id ever forgotten (evicted from the ring), 0 if none. Ids come from one increasing
   * sequence, so an id at or below it that is not live may have been answered long ago: it is refused
   * as stale rather than run as a new order. State: it is in the snapshot.
   */
  private forgottenMax = 0;
  /**
   * No known id is larger: a bigger id is new without a lookup (ids usually grow). Not state: derived
   * from the live ids, the ring and forgottenMax (so it never drops below forgottenMax).
   */
  private maxKnownId = 0;

  constructor(readonly memory: number = CLOSED_ID_MEMORY) {
    if (!Number.isSafeInteger(memory) || memory < 1)
      throw new RangeError(`closed-id memory must be a positive integer: ${memory}`);
    this.closed = new ClosedIdSet(memory);
    this.ring = new Float64Array(memory);
  }

  get(orderId: number): Order | undefined {
    return this.live.get(orderId);
  }

  refusal(orderId: number): 'DUPLICATE_ORDER_ID' | 'STALE_ORDER_ID' | undefined {
    // The common case: above every id this market has seen or forgotten, so new without a lookup.
    if (orderId > this.maxKnownId) return undefined;
    if (this.live.has(orderId) || this.closed.has(orderId)) return 'DUPLICATE_ORDER_ID';
    return orderId <= this.forgottenMax ? 'STALE_ORDER_ID' : undefined;
  }

  add(order: Order): void {
    this.live.set(order.orderId, order);
    if (order.orderId > this.maxKnownId) this.maxKnownId = order.orderId;
  }

  close(order: Order): void {
    this.live.delete(order.orderId);
    this.rememberClosed(order.orderId);
  }

  rememberClosed(orderId: number): void {
    const memory = this.memory;
    if (this.ringSize === memory) {
      const forgotten = this.ring[this.ringStart];
      this.closed.delete(forgotten);
      if (forgotten > this.forgottenMax) this.forgottenMax = forgotten;
      this.ring[this.ringStart] = orderId;
      this.ringStart = (this.ringStart + 1) % memory;
    } else {
      this.ring[(this.ringStart + this.ringSize) % memory] = orderId;
      this.ringSize++;
    }
    this.closed.add(orderId);
    if (orderId > this.maxKnownId) this.maxKnownId = orderId;
  }

  closedIds(): number[] {
    const out: number[] = new Array(this.ringSize);
    for (let i = 0; i < this.ringSize; i++) out[i] = this.ring[(this.ringStart + i) % this.memory];
    return out;
  }

  get forgottenMaxOrderId(): number {
    return this.forgottenMax;
  }

  /** Restore: raises the watermark (never lowers it), and with it the bound of known ids. */
  restoreForgottenMax(orderId: number): void {
    if (orderId > this.forgottenMax) this.forgottenMax = orderId;
    if (orderId > this.maxKnownId) this.maxKnownId = orderId;
  }
}

export class MatchingEngine {
  private readonly books = new Map<string, MarketBook>();
  /** The market of the previous command: a shard's commands mostly name one or two markets. */
  private recentBook: MarketBook | undefined;
  private recentSymbol: string | undefined;

  // Each market has its own order registry, so a market's state depends only on its own commands:
  // replaying one market's log (one Kinesis partition) reproduces it whatever the other markets did.
  constructor(markets: MarketRules[], options: EngineOptions = {}) {
    const memory = options.closedIdMemory ?? CLOSED_ID_MEMORY;
    for (const rules of markets) this.books.set(rules.symbol, new MarketBook(rules, new Registry(memory)));
  }

  private findLive(orderId: number): Order | undefined {
    for (const book of this.books.values()) {
      const order = book.registry.get(orderId);
      if (order) return order;
    }
    return undefined;
  }

  /** Applies one command; its events are pushed onto `out` in order. Never throws on bad input. */
  apply(cmd: Command, out: EngineEvent[]): void {
    let book: MarketBook | undefined;
    if (cmd.market === this.recentSymbol) book = this.recentBook;
    else {
      book = this.books.get(cmd.market);
      if (book !== undefined) {
        this.recentBook = book;
        this.recentSymbol = cmd.market;
      }
    }
    if (!book) return unknownMarket(cmd, out);
    switch (cmd.kind) {
      case 'place':
        return book.place(cmd, out);
      case 'cancel':
        return book.cancel(cmd, out);
      case 'amend':
        return book.amend(cmd, out);
      case 'placeList':
        return book.placeList(cmd, out);
      case 'cancelList':
        return book.cancelList(cmd, out);
    }
  }

  lastSeq(market: string): number {
    return this.books.get(market)?.seq ?? 0;
  }

  hasOrder(orderId: number): boolean {
    return this.findLive(orderId) !== undefined;
  }

  getOrder(orderId: number): OrderView | undefined {
    const o = this.findLive(orderId);
    if (!o) return undefined;
    return {
      orderId: o.orderId,
      userId: o.userId,
      market: o.market,
      side: o.side,
      orderType: o.orderType,
      price: o.price,
      quantity: o.quantity,
      executed: o.executed,
      visible: o.visible,
      resting: o.level !== null,
    };
  }

  /** Aggregated visible quantity per level, best first, and the last depth update id. */
  depth(
    market: string,
    limit: number,
  ): { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] } {
    const book = this.books.get(market);
    if (!book) return { lastUpdateId: 0, bids: [], asks: [] };
    const take = (side: MarketBook['bids']) => {
      const levels: [number, number][] = [];
      for (const level of side.bestFirst()) {
        if (levels.length >= limit) break;
        levels.push([level.price, level.visibleTotal]);
      }
      return levels;
    };
    return { lastUpdateId: book.updateId, bids: take(book.bids), asks: take(book.asks) };
  }

  snapshot(): EngineSnapshot {
    const markets: MarketSnapshot[] = [];
    for (const book of this.books.values()) {
      const side = (s: MarketBook['bids']) => {
        const orders: OrderTuple[] = [];
        for (const level of s.bestFirst()) for (let o = level.head; o; o = o.next) orders.push(toTuple(o));
        return orders;
      };
      const registry = book.registry as Registry;
      const market: MarketSnapshot = {
        rules: { ...book.rules },
        seq: book.seq,
        tradeId: book.tradeId,
        updateId: book.updateId,
        lastPrice: book.lastPrice,
        bids: side(book.bids),
        asks: side(book.asks),
        stops: book.stops.all().map(toTuple),
        closedOrderIds: registry.closedIds(),
      };
      // Present only once an id has been forgotten, so the snapshot (and hash) of a market that never
      // forgot one is what it was before the watermark existed.
      const forgottenMax = registry.forgottenMaxOrderId;
      if (forgottenMax > 0) market.forgottenMaxOrderId = forgottenMax;
      // Present only when there is something (lists, a prevented match), so the snapshot (and hash) of a
      // market that never had either is what it was before they existed.
      if (book.preventedMatchId > 0) market.preventedMatchId = book.preventedMatchId;
      if (book.lists.size > 0)
        market.lists = [...book.lists.values()]
          .sort((a, b) => a.listId - b.listId)
          .map((l) => ({
            listId: l.listId,
            userId: l.userId,
            listClientOrderId: l.listClientOrderId,
            contingencyType: l.contingencyType,
            orderIds: [...l.orderIds],
            pending: l.pending
              ? l.legs.flatMap((o) => (o === null || o.listIndex === 0 ? [] : [toTuple(o)]))
              : [],
          }));
      markets.push(market);
    }
    return { v: 1, markets };
  }

  static restore(snapshot: EngineSnapshot, options: EngineOptions = {}): MatchingEngine {
    if (snapshot.v !== 1) throw new Error(`unsupported engine snapshot version ${String(snapshot.v)}`);
    const engine = new MatchingEngine(
      snapshot.markets.map((m) => m.rules),
      options,
    );
    for (const m of snapshot.markets) {
      const book = engine.books.get(m.rules.symbol) as MarketBook;
      const registry = book.registry as Registry;
      for (const id of m.closedOrderIds) registry.rememberClosed(id);
      // Older snapshots have no watermark: 0, nothing forgotten as far as they can tell.
      registry.restoreForgottenMax(m.forgottenMaxOrderId ?? 0);
      book.seq = m.seq;
      book.tradeId = m.tradeId;
      book.updateId = m.updateId;
      book.lastPrice = m.lastPrice;
      for (const [tuples, side] of [
        [m.bids, book.bids],
        [m.asks, book.asks],
      ] as const) {
        for (const t of tuples) {
          const order = fromTuple(m.rules.symbol, t);
          registry.add(order);
          side.getOrCreate(order.price).pushBack(order);
        }
      }
      for (const t of m.stops) {
        const order = fromTuple(m.rules.symbol, t);
        registry.add(order);
        book.stops.add(order);
      }
      book.preventedMatchId = m.preventedMatchId ?? 0;
      for (const l of m.lists ?? []) {
        for (const t of l.pending) {
          const order = fromTuple(m.rules.symbol, t);
          order.pending = true;
          registry.add(order);
        }
        // A leg not live any more is closed.
        const legs = l.orderIds.map((id) => registry.get(id) ?? null);
        const list = new OrderList(
          l.listId,
          l.userId,
          l.listClientOrderId,
          l.contingencyType,
          [...l.orderIds],
          legs,
          l.pending.length > 0,
        );
        legs.forEach((o, i) => {
          if (o === null) return;
          o.list = list;
          o.listIndex = i;
        });
        book.lists.set(list.listId, list);
      }
    }
    return engine;
  }

  /**
   * SHA-256 over the canonical snapshot: equal hashes ⇔ equal books, stops, counters and id memory
   * (remembered closed ids and the forgotten-id watermark).
   */
  stateHash(): string {
    return hashSnapshot(this.snapshot());
  }
}

export function hashSnapshot(snapshot: EngineSnapshot): string {
  return createHash('sha256').update(JSON.stringify(snapshot)).digest('hex');
}

function toTuple(o: Order): OrderTuple {
  const t: OrderTuple = [
    o.orderId,
    o.userId,
    o.clientOrderId,
    o.side,
    o.orderType,
    o.timeInForce,
    o.price,
    o.quantity,
    o.quoteQuantity,
    o.stopPrice,
    o.icebergQuantity,
    o.stpMode,
    o.ts,
    o.acceptSeq,
    o.executed,
    o.cumQuote,
    o.visible,
  ];
  if (o.trailingDelta > 0) t.push(o.trailingDelta, o.trailExtreme, o.trailTime);
  return t;
}

function fromTuple(market: string, t: OrderTuple): Order {
  const order = new Order(
    t[0],
    t[1],
    market,
    t[2],
    t[3],
    t[4],
    t[5],
    t[6],
    t[7],
    t[8],
    t[9],
    t[10],
    t[11],
    t[12],
    t[13],
  );
  order.executed = t[14];
  order.cumQuote = t[15];
  order.visible = t[16];
  order.trailingDelta = t[17] ?? 0;
  setTrailExtreme(order, t[18] ?? 0);
  order.trailTime = t[19] ?? 0;
  return order;
}

/** No stream exists for an unknown market: the rejection carries seq 0 and changes nothing. */
function unknownMarket(cmd: Command, out: EngineEvent[]): void {
  const market = String(cmd.market);
  const rejected = (orderId: number): RejectedEvent => ({
    type: 'rejected',
    market,
    seq: 0,
    ts: cmd.ts,
    command: cmd.kind,
    orderId,
    userId: cmd.userId,
    reason: 'UNKNOWN_MARKET',
  });
  if (cmd.kind === 'placeList') {
    const legs = Array.isArray(cmd.legs) ? cmd.legs : [];
    for (const leg of legs) out.push(rejected(leg.orderId));
    out.push({
      type: 'listStatus',
      market,
      seq: 0,
      ts: cmd.ts,
      listId: cmd.listId,
      userId: cmd.userId,
      listClientOrderId: cmd.listClientOrderId,
      contingencyType: cmd.contingencyType,
      listStatusType: 'ALL_DONE',
      listOrderStatus: 'REJECT',
      orderIds: legs.map((leg) => leg.orderId),
      rejectReason: 'UNKNOWN_MARKET',
    });
  } else if (cmd.kind === 'cancelList') {
    out.push({ ...rejected(0), orderListId: cmd.listId });
  } else {
    out.push(rejected(cmd.orderId));
  }
}
