// A naive reference engine: the same contract as engine/core's MatchingEngine, written for obviousness,
// not speed. Resting orders live in one flat array per market; "the best maker" is found by sorting;
// depth updates are the diff of the full depth before and after a command. The optimised engine must
// produce identical events and an identical canonical snapshot (hence state hash).
import {
  hashSnapshot,
  type EngineOptions,
  type EngineSnapshot,
  type MarketSnapshot,
  type OrderTuple,
} from '@engine/core';
import type {
  CloseReason,
  Command,
  ContingencyType,
  EngineEvent,
  ListLeg,
  ListStatusEvent,
  MarketRules,
  OrderType,
  PlaceCommand,
  PlaceListCommand,
  RejectReason,
  Side,
  StpMode,
  TimeInForce,
} from '@engine/core/types';

/** Closed ids remembered per market unless the options say otherwise (the engine's CLOSED_ID_MEMORY). */
const CLOSED_MEMORY = 100_000;
const MAX = Number.MAX_SAFE_INTEGER;
const STOPS = ['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];
const PRICED = ['LIMIT', 'LIMIT_MAKER', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'];
const posInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

interface ROrder {
  orderId: number;
  userId: number;
  clientOrderId: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  price: number;
  quantity: number;
  quoteQuantity: number;
  stopPrice: number;
  iceberg: number;
  stp: StpMode;
  ts: number;
  acceptSeq: number;
  executed: number;
  cumQuote: number;
  visible: number;
  /** Queue position: lower goes first at a price. */
  prio: number;
  /** Trailing stops: delta in BIPS (0 = not trailing), best price since tracking (0 = not yet), since when. */
  trailingDelta: number;
  trailBest: number;
  trailTime: number;
  /** Order lists: the list's id (0: none), the leg's place in it, and whether it waits (OTO pending leg). */
  listId: number;
  legIndex: number;
  pending: boolean;
}

interface RList {
  listId: number;
  userId: number;
  listClientOrderId: string;
  contingencyType: ContingencyType;
  orderIds: number[];
  /** OTO / OTOCO: the working leg has not filled yet. */
  pending: boolean;
  /** The OCO pair's outcome is decided (a leg traded or triggered): no more one-cancels-the-other. */
  resolved: boolean;
  /** Legs closed so far: the list ends when all are. */
  closedLegs: number;
}

interface RMarket {
  rules: MarketRules;
  seq: number;
  tradeId: number;
  updateId: number;
  lastPrice: number;
  resting: ROrder[];
  stops: ROrder[];
  closed: number[];
  /** The largest id that fell out of `closed`: a new order may not take an id at or below it. */
  forgottenMax: number;
  nextPrio: number;
  /** Live lists, and the legs waiting for their working leg (in no book, no stops). */
  lists: RList[];
  waiting: ROrder[];
  /** Legs placed by a fill, to run once the current taker is done. */
  queue: ROrder[];
  preventedMatchId: number;
  /** Some trade happened during the current command. */
  traded: boolean;
}

export class ReferenceEngine {
  private readonly markets = new Map<string, RMarket>();
  private ts = 0;
  private readonly closedMemory: number;

  constructor(rules: MarketRules[], options: EngineOptions = {}) {
    this.closedMemory = options.closedIdMemory ?? CLOSED_MEMORY;
    for (const r of rules) {
      this.markets.set(r.symbol, {
        rules: r,
        seq: 0,
        tradeId: 0,
        updateId: 0,
        lastPrice: 0,
        resting: [],
        stops: [],
        closed: [],
        forgottenMax: 0,
        nextPrio: 0,
        lists: [],
        waiting: [],
        queue: [],
        preventedMatchId: 0,
        traded: false,
      });
    }
  }

  apply(cmd: Command, out: EngineEvent[]): void {
    const m = this.markets.get(cmd.market);
    if (!m) {
      const rejected = (orderId: number, extra = {}): EngineEvent => ({
        type: 'rejected',
        market: String(cmd.market),
        seq: 0,
        ts: cmd.ts,
        command: cmd.kind,
        orderId,
        userId: cmd.userId,
        reason: 'UNKNOWN_MARKET',
        ...extra,
      });
      if (cmd.kind === 'placeList') {
        const legs = Array.isArray(cmd.legs) ? cmd.legs : [];
        for (const leg of legs) out.push(rejected(leg.orderId));
        out.push({
          type: 'listStatus',
          market: String(cmd.market),
          seq: 0,
          ts: cmd.ts,
          listId: cmd.listId,
          userId: cmd.userId,
          listClientOrderId: cmd.listClientOrderId,
          contingencyType: cmd.contingencyType,
          listStatusType: 'ALL_DONE',
          listOrderStatus: 'REJECT',
          orderIds: legs.map((l) => l.orderId),
          rejectReason: 'UNKNOWN_MARKET',
        });
      } else if (cmd.kind === 'cancelList') out.push(rejected(0, { orderListId: cmd.listId }));
      else out.push(rejected(cmd.orderId));
      return;
    }
    this.ts = cmd.ts;
    m.traded = false;
    const before = this.depthMap(m);
    const start = out.length;
    if (cmd.kind === 'place') this.place(m, cmd, out);
    else if (cmd.kind === 'cancel') this.cancel(m, cmd.orderId, cmd.userId, out);
    else if (cmd.kind === 'amend') this.amend(m, cmd.orderId, cmd.userId, cmd.newQuantity, cmd.newPrice, out);
    else if (cmd.kind === 'placeList') this.placeList(m, cmd, out);
    else this.cancelList(m, cmd.listId, cmd.userId, out);
    // A rejection changes nothing, so it has no depth event either.
    if (out.length - start === 1 && out[start].type === 'rejected') return;
    this.emitDepth(m, before, out);
  }

  lastSeq(market: string): number {
    return this.markets.get(market)?.seq ?? 0;
  }

  // ---- commands -----------------------------------------------------------------------------

  private place(m: RMarket, c: PlaceCommand, out: EngineEvent[]): void {
    const reason = this.validate(m, c, false);
    if (reason) return this.reject(m, 'place', c.orderId, c.userId, reason, out);
    const o = this.newOrder(m, c, out, 0, false);
    if (STOPS.includes(c.type)) {
      m.stops.push(o);
      return;
    }
    this.run(m, o, out);
    if (m.traded) this.fireStops(m, out);
  }

  private newOrder(
    m: RMarket,
    c: PlaceCommand,
    out: EngineEvent[],
    listId: number,
    pending: boolean,
  ): ROrder {
    const priced = PRICED.includes(c.type);
    const tif: TimeInForce = c.type === 'LIMIT_MAKER' ? 'GTC' : priced ? (c.timeInForce ?? 'GTC') : 'IOC';
    const o: ROrder = {
      orderId: c.orderId,
      userId: c.userId,
      clientOrderId: c.clientOrderId,
      side: c.side,
      orderType: c.type,
      tif,
      price: priced ? (c.price as number) : 0,
      quantity: c.quantity ?? 0,
      quoteQuantity: c.quoteQuantity ?? 0,
      stopPrice: STOPS.includes(c.type) ? (c.stopPrice ?? 0) : 0,
      iceberg: c.icebergQuantity ?? 0,
      stp: c.stpMode ?? 'NONE',
      ts: c.ts,
      acceptSeq: m.seq + 1,
      executed: 0,
      cumQuote: 0,
      visible: 0,
      prio: 0,
      trailingDelta: c.trailingDelta ?? 0,
      trailBest: 0,
      trailTime: 0,
      listId,
      legIndex: 0,
      pending,
    };
    if (!pending && c.trailingDelta !== undefined && c.stopPrice === undefined && m.lastPrice > 0) {
      o.trailBest = m.lastPrice;
      o.trailTime = c.ts;
    }
    const accepted: EngineEvent = {
      type: 'accepted',
      market: m.rules.symbol,
      seq: ++m.seq,
      ts: this.ts,
      orderId: o.orderId,
      userId: o.userId,
      clientOrderId: o.clientOrderId,
      side: o.side,
      orderType: o.orderType,
      timeInForce: tif,
      price: o.price,
      quantity: o.quantity,
      quoteQuantity: o.quoteQuantity,
      stopPrice: o.stopPrice,
      icebergQuantity: o.iceberg,
      stpMode: o.stp,
    };
    if (o.trailingDelta > 0) accepted.trailingDelta = o.trailingDelta;
    if (o.trailTime > 0) accepted.trailingTime = o.trailTime;
    if (listId > 0) accepted.orderListId = listId;
    if (pending) accepted.pending = true;
    out.push(accepted);
    return o;
  }

  // ---- order lists --------------------------------------------------------------------------

  private legCommand(c: PlaceListCommand, leg: ListLeg): PlaceCommand {
    return { ...leg, kind: 'place', market: c.market, userId: c.userId, stpMode: c.stpMode, ts: c.ts };
  }

  private placeList(m: RMarket, c: PlaceListCommand, out: EngineEvent[]): void {
    const reason = this.validateList(m, c);
    if (reason) {
      const legs = Array.isArray(c.legs) ? c.legs : [];
      for (const leg of legs) this.reject(m, 'placeList', leg.orderId, c.userId, reason, out);
      const list = { ...c, orderIds: legs.map((l) => l.orderId) };
      return this.listStatus(m, list, 'ALL_DONE', 'REJECT', out, reason);
    }
    const oco = c.contingencyType === 'OCO';
    const legs = c.legs.map((leg, i) => {
      const o = this.newOrder(m, this.legCommand(c, leg), out, c.listId, !oco && i > 0);
      o.legIndex = i;
      return o;
    });
    const list: RList = {
      listId: c.listId,
      userId: c.userId,
      listClientOrderId: c.listClientOrderId,
      contingencyType: c.contingencyType,
      orderIds: legs.map((o) => o.orderId),
      pending: !oco,
      resolved: false,
      closedLegs: 0,
    };
    m.lists.push(list);
    for (const o of legs) if (o.pending) m.waiting.push(o);
    this.listStatus(m, list, 'EXEC_STARTED', 'EXECUTING', out);
    for (const o of oco ? legs : [legs[0]]) {
      if (STOPS.includes(o.orderType)) m.stops.push(o);
      else this.run(m, o, out);
    }
    if (m.traded) this.fireStops(m, out);
  }

  private cancelList(m: RMarket, listId: number, userId: number, out: EngineEvent[]): void {
    const list = m.lists.find((l) => l.listId === listId);
    const reject = (reason: 'UNKNOWN_ORDER' | 'NOT_ORDER_OWNER') =>
      out.push({
        type: 'rejected',
        market: m.rules.symbol,
        seq: ++m.seq,
        ts: this.ts,
        command: 'cancelList',
        orderId: 0,
        userId,
        reason,
        orderListId: listId,
      });
    if (!list) return void reject('UNKNOWN_ORDER');
    if (list.userId !== userId) return void reject('NOT_ORDER_OWNER');
    this.cancelLegs(m, list, out);
  }

  /** Every live leg closes CANCELED, in leg order. */
  private cancelLegs(m: RMarket, list: RList, out: EngineEvent[]): void {
    for (const id of list.orderIds) {
      const o = this.liveLeg(m, id);
      if (!o) continue;
      this.unlink(m, o);
      this.close(m, o, 'CANCELED', out);
    }
  }

  private liveLeg(m: RMarket, orderId: number): ROrder | undefined {
    return (
      m.resting.find((x) => x.orderId === orderId) ??
      m.stops.find((x) => x.orderId === orderId) ??
      m.waiting.find((x) => x.orderId === orderId) ??
      m.queue.find((x) => x.orderId === orderId)
    );
  }

  private isLive(m: RMarket, o: ROrder): boolean {
    return this.liveLeg(m, o.orderId) === o;
  }

  private unlink(m: RMarket, o: ROrder): void {
    m.resting = m.resting.filter((x) => x !== o);
    m.stops = m.stops.filter((x) => x !== o);
    m.waiting = m.waiting.filter((x) => x !== o);
    m.queue = m.queue.filter((x) => x !== o);
  }

  /** The live other leg of `o`'s one-cancels-the-other pair (an OCO, or an OTOCO's placed pending legs). */
  private sibling(m: RMarket, o: ROrder): ROrder | undefined {
    const list = m.lists.find((l) => l.listId === o.listId);
    if (!list || list.resolved) return undefined;
    let other: number;
    if (list.contingencyType === 'OCO') other = 1 - o.legIndex;
    else if (list.contingencyType === 'OTOCO' && !list.pending && o.legIndex > 0) other = 3 - o.legIndex;
    else return undefined;
    return this.liveLeg(m, list.orderIds[other]);
  }

  /** A leg traded or triggered: its sibling expires (LIST), and the pair is decided. */
  private legTraded(m: RMarket, o: ROrder, out: EngineEvent[]): void {
    if (o.listId === 0) return;
    const s = this.sibling(m, o);
    if (!s) return;
    (m.lists.find((l) => l.listId === o.listId) as RList).resolved = true;
    this.unlink(m, s);
    this.close(m, s, 'LIST', out);
  }

  /** After a leg's `closed`: its sibling, or the pending legs, react; the last leg ends the list. */
  private legClosed(m: RMarket, o: ROrder, reason: CloseReason, out: EngineEvent[]): void {
    const list = m.lists.find((l) => l.listId === o.listId) as RList;
    list.closedLegs++;
    const s = this.sibling(m, o);
    const follow: CloseReason = reason === 'CANCELED' ? 'CANCELED' : 'LIST';
    if (s) {
      this.unlink(m, s);
      this.close(m, s, follow, out);
    } else if (list.pending && o.legIndex === 0) {
      const waiting = list.orderIds.slice(1).map((id) => this.liveLeg(m, id) as ROrder);
      if (reason === 'FILLED') {
        list.pending = false;
        for (const p of waiting) {
          m.waiting = m.waiting.filter((x) => x !== p);
          p.pending = false;
          out.push({
            type: 'activated',
            market: m.rules.symbol,
            seq: ++m.seq,
            ts: this.ts,
            orderId: p.orderId,
            userId: p.userId,
            orderListId: list.listId,
            orderType: p.orderType,
          });
          if (p.trailingDelta > 0 && p.stopPrice === 0 && m.lastPrice > 0) {
            p.trailBest = m.lastPrice;
            p.trailTime = this.ts;
          }
          if (STOPS.includes(p.orderType)) m.stops.push(p);
          else m.queue.push(p);
        }
      } else {
        for (const p of waiting) {
          if (!this.isLive(m, p)) continue;
          this.unlink(m, p);
          this.close(m, p, follow, out);
        }
      }
    }
    if (m.lists.includes(list) && list.closedLegs === list.orderIds.length) {
      m.lists = m.lists.filter((l) => l !== list);
      this.listStatus(m, list, 'ALL_DONE', 'ALL_DONE', out);
    }
  }

  private listStatus(
    m: RMarket,
    list: Pick<RList, 'listId' | 'userId' | 'listClientOrderId' | 'contingencyType' | 'orderIds'>,
    listStatusType: ListStatusEvent['listStatusType'],
    listOrderStatus: ListStatusEvent['listOrderStatus'],
    out: EngineEvent[],
    rejectReason?: RejectReason,
  ): void {
    out.push({
      type: 'listStatus',
      market: m.rules.symbol,
      seq: ++m.seq,
      ts: this.ts,
      listId: list.listId,
      userId: list.userId,
      listClientOrderId: list.listClientOrderId,
      contingencyType: list.contingencyType,
      listStatusType,
      listOrderStatus,
      orderIds: [...list.orderIds],
      ...(rejectReason !== undefined ? { rejectReason } : {}),
    });
  }

  /** Runs `o` as a taker, then the legs its fills placed, in order. */
  private run(m: RMarket, o: ROrder, out: EngineEvent[]): void {
    this.execute(m, o, out);
    while (m.queue.length > 0) {
      const p = m.queue.shift() as ROrder;
      if (p.orderType === 'LIMIT_MAKER' && this.wouldCross(m, p.side, p.price)) this.close(m, p, 'LIST', out);
      else this.execute(m, p, out);
    }
  }

  private validateList(m: RMarket, c: PlaceListCommand): RejectReason | undefined {
    if (!posInt(c.listId) || m.lists.some((l) => l.listId === c.listId)) return 'DUPLICATE_ORDER_ID';
    if (
      c.stpMode !== undefined &&
      !['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'].includes(c.stpMode)
    )
      return 'INVALID_STP_MODE';
    if (!Array.isArray(c.legs)) return 'INVALID_ORDER_TYPE';
    const legs = c.legs;
    const n = { OCO: 2, OTO: 2, OTOCO: 3 }[c.contingencyType] ?? 0;
    if (n === 0 || legs.length !== n) return 'INVALID_ORDER_TYPE';
    if (new Set(legs.map((l) => l.orderId)).size !== n) return 'DUPLICATE_ORDER_ID';
    if (legs.some((l) => l.quoteQuantity !== undefined)) return 'INVALID_QUANTITY';
    if (c.contingencyType !== 'OCO' && !['LIMIT', 'LIMIT_MAKER'].includes(legs[0].type))
      return 'INVALID_ORDER_TYPE';
    const pair = c.contingencyType === 'OCO' ? legs : c.contingencyType === 'OTOCO' ? legs.slice(1) : [];
    if (pair.length === 2) {
      const [above, below] = pair;
      if (!['BUY', 'SELL'].includes(above.side) || below.side !== above.side) return 'INVALID_SIDE';
      const limitSide = ['LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];
      const lossSide = ['STOP_LOSS', 'STOP_LOSS_LIMIT'];
      const [limitLeg, stopLeg] = above.side === 'SELL' ? [above, below] : [below, above];
      if (!limitSide.includes(limitLeg.type) || !lossSide.includes(stopLeg.type)) return 'INVALID_ORDER_TYPE';
      if (above.quantity !== below.quantity) return 'INVALID_QUANTITY';
    }
    for (let i = 0; i < n; i++) {
      const reason = this.validate(m, this.legCommand(c, legs[i]), c.contingencyType !== 'OCO' && i > 0);
      if (reason) return reason;
    }
    if (pair.length === 2) {
      const sell = pair[0].side === 'SELL';
      const [limitLeg, stopLeg] = sell ? pair : [pair[1], pair[0]];
      const lp = limitLeg.type === 'TAKE_PROFIT' ? limitLeg.stopPrice : limitLeg.price;
      if (lp === undefined) return undefined;
      const sp = stopLeg.stopPrice;
      if (sp !== undefined && (sell ? !(lp > sp) : !(lp < sp))) return 'INVALID_PRICE';
      const last = m.lastPrice;
      if (
        c.contingencyType === 'OCO' &&
        last > 0 &&
        limitLeg.type !== 'TAKE_PROFIT' &&
        (sell ? !(lp > last) : !(lp < last))
      )
        return 'INVALID_PRICE';
    }
    return undefined;
  }

  private cancel(m: RMarket, orderId: number, userId: number, out: EngineEvent[]): void {
    const o =
      m.resting.find((x) => x.orderId === orderId) ??
      m.stops.find((x) => x.orderId === orderId) ??
      m.waiting.find((x) => x.orderId === orderId);
    if (!o) {
      // Never seen (not live, not remembered, above the watermark): remember it as closed, so its place
      // arriving later is refused as a duplicate. The rejection itself is unchanged.
      if (posInt(orderId) && !m.closed.includes(orderId) && orderId > m.forgottenMax)
        this.remember(m, orderId);
      return this.reject(m, 'cancel', orderId, userId, 'UNKNOWN_ORDER', out);
    }
    if (o.userId !== userId) return this.reject(m, 'cancel', orderId, userId, 'NOT_ORDER_OWNER', out);
    if (o.listId !== 0) return this.cancelLegs(m, m.lists.find((l) => l.listId === o.listId) as RList, out);
    m.resting = m.resting.filter((x) => x !== o);
    m.stops = m.stops.filter((x) => x !== o);
    this.close(m, o, 'CANCELED', out);
  }

  private amend(
    m: RMarket,
    orderId: number,
    userId: number,
    newQuantity: number | undefined,
    newPrice: number | undefined,
    out: EngineEvent[],
  ): void {
    const o = m.resting.find((x) => x.orderId === orderId);
    const any =
      o ?? m.stops.find((x) => x.orderId === orderId) ?? m.waiting.find((x) => x.orderId === orderId);
    // No tombstone for an amend of a never-seen id: only a cancel says the order must not run.
    if (!any) return this.reject(m, 'amend', orderId, userId, 'UNKNOWN_ORDER', out);
    if (any.userId !== userId) return this.reject(m, 'amend', orderId, userId, 'NOT_ORDER_OWNER', out);
    const q = newQuantity ?? any.quantity;
    const p = newPrice ?? any.price;
    const r = m.rules;
    const list = any.listId !== 0 ? m.lists.find((l) => l.listId === any.listId) : undefined;
    // Lower quantity at the same price: any live order, and its OCO partner (same quantity) with it.
    const keeps = p === any.price && q <= any.quantity;
    const partner = keeps && list !== undefined && !list.resolved ? this.partnerOf(m, list, any) : undefined;
    if (
      (newQuantity === undefined && newPrice === undefined) ||
      !posInt(q) ||
      q > r.maxQtyLots ||
      q <= any.executed ||
      (any.iceberg > 0 && any.iceberg >= q) ||
      (keeps
        ? partner !== undefined && (q <= partner.executed || (partner.iceberg > 0 && partner.iceberg >= q))
        : !posInt(p) ||
          p < r.minPriceTicks ||
          p > r.maxPriceTicks ||
          p * q > MAX ||
          !o ||
          (list !== undefined && (list.contingencyType === 'OCO' || any.legIndex !== 0)) ||
          (o.orderType === 'LIMIT_MAKER' && this.wouldCross(m, o.side, p)))
    ) {
      return this.reject(m, 'amend', orderId, userId, 'INVALID_AMEND', out);
    }
    if (keeps) {
      for (const x of partner ? [any, partner] : [any]) {
        x.quantity = q;
        if (m.resting.includes(x)) x.visible = Math.min(x.visible, q - x.executed);
        out.push({
          type: 'amended',
          market: r.symbol,
          seq: ++m.seq,
          ts: this.ts,
          orderId: x.orderId,
          userId,
          price: x.price,
          quantity: q,
          keptPriority: true,
          executedQty: x.executed,
          cumQuote: x.cumQuote,
          onBook: m.resting.includes(x),
          ...(m.waiting.includes(x) ? { pending: true as const } : {}),
        });
      }
      return;
    }
    const moved = o as ROrder;
    m.resting = m.resting.filter((x) => x !== moved);
    moved.price = p;
    moved.quantity = q;
    out.push({
      type: 'amended',
      market: r.symbol,
      seq: ++m.seq,
      ts: this.ts,
      orderId,
      userId,
      price: p,
      quantity: q,
      keptPriority: false,
      executedQty: moved.executed,
      cumQuote: moved.cumQuote,
      onBook: false,
    });
    this.run(m, moved, out);
    if (m.traded) this.fireStops(m, out);
  }

  /** The other live leg of an OCO, or of an OTOCO's pending pair (legs 2 and 3), wherever it waits. */
  private partnerOf(m: RMarket, list: RList, leg: ROrder): ROrder | undefined {
    const i = leg.legIndex;
    const j = list.contingencyType === 'OCO' ? 1 - i : list.contingencyType === 'OTOCO' && i > 0 ? 3 - i : -1;
    if (j < 0) return undefined;
    const id = list.orderIds[j];
    return (
      m.resting.find((x) => x.orderId === id) ??
      m.stops.find((x) => x.orderId === id) ??
      m.waiting.find((x) => x.orderId === id)
    );
  }

  // ---- matching -----------------------------------------------------------------------------

  /** Best maker for a taker on `side`: best price, then queue position. */
  private bestMaker(m: RMarket, takerSide: Side): ROrder | undefined {
    const makers = m.resting.filter((x) => x.side !== takerSide);
    makers.sort((a, b) =>
      a.price !== b.price ? (takerSide === 'BUY' ? a.price - b.price : b.price - a.price) : a.prio - b.prio,
    );
    return makers[0];
  }

  /** Returns whether any trade happened. */
  private execute(m: RMarket, o: ROrder, out: EngineEvent[]): boolean {
    const buy = o.side === 'BUY';
    const byQuote = o.quantity === 0;
    let quoteLeft = o.quoteQuantity;
    let traded = false;
    if (o.tif === 'FOK' && !this.fokFillable(m, o)) {
      this.close(m, o, 'FOK', out);
      return false;
    }
    const hadLiquidity = m.resting.some((x) => x.side !== o.side);
    let expired: CloseReason | undefined;
    let exhausted = false;
    for (;;) {
      const mk = this.bestMaker(m, o.side);
      if (!mk) break;
      if (o.price !== 0 && (buy ? mk.price > o.price : mk.price < o.price)) break;
      if (mk.userId === o.userId && o.stp !== 'NONE') {
        out.push({
          type: 'prevented',
          market: m.rules.symbol,
          seq: ++m.seq,
          ts: this.ts,
          preventedMatchId: ++m.preventedMatchId,
          takerOrderId: o.orderId,
          makerOrderId: mk.orderId,
          userId: o.userId,
          price: mk.price,
          makerPreventedQuantity: o.stp === 'EXPIRE_TAKER' ? 0 : mk.quantity - mk.executed,
          takerPreventedQuantity: o.stp === 'EXPIRE_MAKER' || byQuote ? 0 : o.quantity - o.executed,
          stpMode: o.stp,
        });
        if (o.stp === 'EXPIRE_TAKER') {
          expired = 'STP_TAKER';
          break;
        }
        m.resting = m.resting.filter((x) => x !== mk);
        this.close(m, mk, 'STP_MAKER', out);
        if (o.stp === 'EXPIRE_BOTH') {
          expired = 'STP_TAKER';
          break;
        }
        continue;
      }
      const qty = byQuote
        ? Math.min(mk.visible, Math.floor(quoteLeft / mk.price))
        : Math.min(mk.visible, o.quantity - o.executed);
      if (qty === 0) {
        exhausted = true;
        break;
      }
      const price = mk.price;
      mk.executed += qty;
      mk.visible -= qty;
      mk.cumQuote += price * qty;
      o.executed += qty;
      o.cumQuote += price * qty;
      m.lastPrice = price;
      traded = true;
      m.traded = true;
      this.trail(m, price);
      if (byQuote) quoteLeft -= price * qty;
      out.push({
        type: 'trade',
        market: m.rules.symbol,
        seq: ++m.seq,
        ts: this.ts,
        tradeId: ++m.tradeId,
        price,
        quantity: qty,
        makerOrderId: mk.orderId,
        makerUserId: mk.userId,
        takerOrderId: o.orderId,
        takerUserId: o.userId,
        takerSide: o.side,
        makerExecutedQty: mk.executed,
        takerExecutedQty: o.executed,
        makerCumQuote: mk.cumQuote,
        takerCumQuote: o.cumQuote,
      });
      this.legTraded(m, mk, out);
      this.legTraded(m, o, out);
      if (mk.visible === 0) {
        if (mk.executed === mk.quantity) {
          m.resting = m.resting.filter((x) => x !== mk);
          this.close(m, mk, 'FILLED', out);
        } else {
          mk.visible = Math.min(mk.iceberg, mk.quantity - mk.executed);
          mk.prio = m.nextPrio++;
        }
      }
      if (byQuote ? quoteLeft < price : o.executed === o.quantity) {
        if (byQuote) exhausted = true;
        break;
      }
    }
    if (expired) this.close(m, o, expired, out);
    else if (byQuote)
      this.close(m, o, exhausted && o.executed > 0 ? 'FILLED' : hadLiquidity ? 'IOC' : 'NO_LIQUIDITY', out);
    else if (o.executed === o.quantity) this.close(m, o, 'FILLED', out);
    else if (o.price === 0) this.close(m, o, hadLiquidity ? 'IOC' : 'NO_LIQUIDITY', out);
    else if (o.tif === 'IOC') this.close(m, o, 'IOC', out);
    else if (o.tif === 'FOK') this.close(m, o, 'FOK', out);
    else {
      const left = o.quantity - o.executed;
      o.visible = o.iceberg > 0 ? Math.min(o.iceberg, left) : left;
      o.prio = m.nextPrio++;
      m.resting.push(o);
    }
    return traded;
  }

  private fokFillable(m: RMarket, o: ROrder): boolean {
    const buy = o.side === 'BUY';
    const makers = m.resting
      .filter((x) => x.side !== o.side && (buy ? x.price <= o.price : x.price >= o.price))
      .sort((a, b) =>
        a.price !== b.price ? (buy ? a.price - b.price : b.price - a.price) : a.prio - b.prio,
      );
    let need = o.quantity - o.executed;
    for (const mk of makers) {
      if (mk.userId === o.userId && o.stp !== 'NONE') {
        if (o.stp === 'EXPIRE_MAKER') continue;
        return false;
      }
      need -= mk.quantity - mk.executed;
      if (need <= 0) return true;
    }
    return false;
  }

  private holds(m: RMarket, s: ROrder): boolean {
    if (s.trailingDelta === 0) return this.condition(m.lastPrice, s.side, s.orderType, s.stopPrice);
    if (s.trailBest === 0) return false;
    // Exact rational comparison in bigints: last vs best × (1 ± delta / 10000).
    const last = BigInt(m.lastPrice) * 10_000n;
    const best = BigInt(s.trailBest);
    const delta = BigInt(s.trailingDelta);
    return s.side === 'BUY' ? last >= best * (10_000n + delta) : last <= best * (10_000n - delta);
  }

  /** Every trade: trailing stops start tracking (on entry, or once their stop price is met) or follow it. */
  private trail(m: RMarket, price: number): void {
    for (const s of m.stops) {
      if (s.trailingDelta === 0) continue;
      if (s.trailBest === 0) {
        if (s.stopPrice === 0 || this.condition(price, s.side, s.orderType, s.stopPrice)) {
          s.trailBest = price;
          s.trailTime = this.ts;
        }
      } else if (s.side === 'BUY') s.trailBest = Math.min(s.trailBest, price);
      else s.trailBest = Math.max(s.trailBest, price);
    }
  }

  private condition(last: number, side: Side, type: OrderType, stop: number): boolean {
    if (last === 0) return false;
    const loss = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
    const rising = (side === 'BUY') === loss;
    return rising ? last >= stop : last <= stop;
  }

  private fireStops(m: RMarket, out: EngineEvent[]): void {
    for (;;) {
      const s = m.stops.find((x) => this.holds(m, x));
      if (!s) return;
      m.stops = m.stops.filter((x) => x !== s);
      out.push({
        type: 'triggered',
        market: m.rules.symbol,
        seq: ++m.seq,
        ts: this.ts,
        orderId: s.orderId,
        userId: s.userId,
        ...(s.trailingDelta > 0 ? { trailingTime: s.trailTime } : {}),
      });
      this.legTraded(m, s, out);
      this.run(m, s, out);
    }
  }

  // ---- validation ---------------------------------------------------------------------------

  private validate(m: RMarket, c: PlaceCommand, pending: boolean): RejectReason | undefined {
    const r = m.rules;
    const known =
      m.resting.some((x) => x.orderId === c.orderId) ||
      m.stops.some((x) => x.orderId === c.orderId) ||
      m.waiting.some((x) => x.orderId === c.orderId) ||
      m.closed.includes(c.orderId);
    if (!posInt(c.orderId) || known) return 'DUPLICATE_ORDER_ID';
    if (c.orderId <= m.forgottenMax) return 'STALE_ORDER_ID';
    if (c.side !== 'BUY' && c.side !== 'SELL') return 'INVALID_SIDE';
    if (
      c.stpMode !== undefined &&
      !['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'].includes(c.stpMode)
    )
      return 'INVALID_STP_MODE';
    if (c.timeInForce !== undefined && !['GTC', 'IOC', 'FOK'].includes(c.timeInForce))
      return 'INVALID_TIME_IN_FORCE';
    const priced = PRICED.includes(c.type);
    if (!priced && !STOPS.includes(c.type) && c.type !== 'MARKET') return 'INVALID_ORDER_TYPE';
    if (priced && (!posInt(c.price) || c.price < r.minPriceTicks || c.price > r.maxPriceTicks))
      return 'INVALID_PRICE';
    const td = c.trailingDelta;
    if (td !== undefined) {
      if (!STOPS.includes(c.type) || !posInt(td) || td > 9999) return 'INVALID_TRAILING_DELTA';
      if (r.maxPriceTicks * td > MAX) return 'OVERFLOW';
    }
    if (STOPS.includes(c.type) && (td === undefined || c.stopPrice !== undefined)) {
      if (!posInt(c.stopPrice) || c.stopPrice < r.minPriceTicks || c.stopPrice > r.maxPriceTicks)
        return 'INVALID_STOP_PRICE';
      if (!pending && this.condition(m.lastPrice, c.side, c.type, c.stopPrice)) return 'INVALID_STOP_PRICE';
    }
    if (c.quantity === undefined && c.quoteQuantity !== undefined) {
      if (priced || !posInt(c.quoteQuantity)) return 'INVALID_QUANTITY';
      if (c.quoteQuantity < r.minNotional) return 'MIN_NOTIONAL';
    } else {
      if (c.quoteQuantity !== undefined) return 'INVALID_QUANTITY';
      if (!posInt(c.quantity) || c.quantity < r.minQtyLots || c.quantity > r.maxQtyLots)
        return 'INVALID_QUANTITY';
      if (priced) {
        if ((c.price as number) * c.quantity > MAX) return 'OVERFLOW';
        if ((c.price as number) * c.quantity < r.minNotional) return 'MIN_NOTIONAL';
      } else if (c.quantity * r.maxPriceTicks > MAX) return 'OVERFLOW';
    }
    if (
      (c.type === 'MARKET' || c.type === 'STOP_LOSS' || c.type === 'TAKE_PROFIT') &&
      c.timeInForce !== undefined
    )
      return 'INVALID_TIME_IN_FORCE';
    if (c.icebergQuantity !== undefined) {
      const q = c.quantity ?? 0;
      const ok =
        c.type === 'LIMIT_MAKER' ||
        (['LIMIT', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'].includes(c.type) &&
          (c.timeInForce ?? 'GTC') === 'GTC');
      if (
        !ok ||
        !posInt(c.icebergQuantity) ||
        c.icebergQuantity >= q ||
        Math.ceil(q / c.icebergQuantity) > r.maxIcebergParts
      )
        return 'INVALID_ICEBERG';
    }
    if (!pending && c.type === 'LIMIT_MAKER' && this.wouldCross(m, c.side, c.price as number))
      return 'WOULD_TAKE';
    return undefined;
  }

  private wouldCross(m: RMarket, side: Side, price: number): boolean {
    return m.resting.some((x) => x.side !== side && (side === 'BUY' ? price >= x.price : price <= x.price));
  }

  // ---- events and state ---------------------------------------------------------------------

  private reject(
    m: RMarket,
    command: Command['kind'],
    orderId: number,
    userId: number,
    reason: RejectReason,
    out: EngineEvent[],
  ): void {
    out.push({
      type: 'rejected',
      market: m.rules.symbol,
      seq: ++m.seq,
      ts: this.ts,
      command,
      orderId,
      userId,
      reason,
    });
  }

  /** Appends a closed id; past the memory the oldest is forgotten and may raise the watermark. */
  private remember(m: RMarket, orderId: number): void {
    m.closed.push(orderId);
    if (m.closed.length > this.closedMemory)
      m.forgottenMax = Math.max(m.forgottenMax, m.closed.shift() as number);
  }

  private close(m: RMarket, o: ROrder, reason: CloseReason, out: EngineEvent[]): void {
    this.remember(m, o.orderId);
    out.push({
      type: 'closed',
      market: m.rules.symbol,
      seq: ++m.seq,
      ts: this.ts,
      orderId: o.orderId,
      userId: o.userId,
      reason,
      executedQty: o.executed,
      cumQuote: o.cumQuote,
    });
    if (o.listId !== 0) this.legClosed(m, o, reason, out);
  }

  private depthMap(m: RMarket): Map<string, number> {
    const map = new Map<string, number>();
    for (const o of m.resting) {
      const key = `${o.side}:${o.price}`;
      map.set(key, (map.get(key) ?? 0) + o.visible);
    }
    return map;
  }

  private emitDepth(m: RMarket, before: Map<string, number>, out: EngineEvent[]): void {
    const after = this.depthMap(m);
    const bids: Array<[number, number]> = [];
    const asks: Array<[number, number]> = [];
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const a = after.get(key) ?? 0;
      if (a === (before.get(key) ?? 0)) continue;
      const [side, price] = key.split(':');
      (side === 'BUY' ? bids : asks).push([Number(price), a]);
    }
    if (bids.length + asks.length === 0) return;
    bids.sort((x, y) => y[0] - x[0]);
    asks.sort((x, y) => x[0] - y[0]);
    const U = m.updateId + 1;
    m.updateId += bids.length + asks.length;
    out.push({
      type: 'depth',
      market: m.rules.symbol,
      seq: ++m.seq,
      ts: this.ts,
      U,
      u: m.updateId,
      bids,
      asks,
    });
  }

  snapshot(): EngineSnapshot {
    const tuple = (o: ROrder): OrderTuple => {
      const t: OrderTuple = [
        o.orderId,
        o.userId,
        o.clientOrderId,
        o.side,
        o.orderType,
        o.tif,
        o.price,
        o.quantity,
        o.quoteQuantity,
        o.stopPrice,
        o.iceberg,
        o.stp,
        o.ts,
        o.acceptSeq,
        o.executed,
        o.cumQuote,
        o.visible,
      ];
      if (o.trailingDelta > 0) t.push(o.trailingDelta, o.trailBest, o.trailTime);
      return t;
    };
    const markets: MarketSnapshot[] = [...this.markets.values()].map((m) => {
      const side = (s: Side) =>
        m.resting
          .filter((x) => x.side === s)
          .sort((a, b) =>
            a.price !== b.price ? (s === 'BUY' ? b.price - a.price : a.price - b.price) : a.prio - b.prio,
          )
          .map(tuple);
      const snap: MarketSnapshot = {
        rules: { ...m.rules },
        seq: m.seq,
        tradeId: m.tradeId,
        updateId: m.updateId,
        lastPrice: m.lastPrice,
        bids: side('BUY'),
        asks: side('SELL'),
        stops: m.stops.map(tuple),
        closedOrderIds: [...m.closed],
      };
      if (m.forgottenMax > 0) snap.forgottenMaxOrderId = m.forgottenMax;
      if (m.preventedMatchId > 0) snap.preventedMatchId = m.preventedMatchId;
      if (m.lists.length > 0)
        snap.lists = [...m.lists]
          .sort((a, b) => a.listId - b.listId)
          .map((l) => ({
            listId: l.listId,
            userId: l.userId,
            listClientOrderId: l.listClientOrderId,
            contingencyType: l.contingencyType,
            orderIds: [...l.orderIds],
            pending: l.pending
              ? l.orderIds.slice(1).flatMap((id) => {
                  const o = m.waiting.find((x) => x.orderId === id);
                  return o ? [tuple(o)] : [];
                })
              : [],
          }));
      return snap;
    });
    return { v: 1, markets };
  }

  stateHash(): string {
    return hashSnapshot(this.snapshot());
  }
}
