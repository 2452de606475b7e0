// Binance market-stream payloads from engine events (web-socket-streams.md): decimals printed exactly from the
// engine's integer ticks and lots, with 8 places by the formatters the REST API uses (lambdas/shared/money.ts).
import type { DepthEvent, MarketSpec, TradeEvent } from '@engine/core/types';
import { priceText as price, qtyText as qty, quoteText as quote } from '../shared/money';
import { aggTradeJson, groupAggregates } from '../api/market/agg-trades';
import { tickerFigures, type WindowStats } from '../api/market/rolling';
import { publicTradeOf, type BookView, type Candle } from '../shared/stores/market-data';

/** `<symbol>@trade` */
export const tradePayload = (spec: MarketSpec, t: TradeEvent, eventTime: number) => ({
  e: 'trade',
  E: eventTime,
  s: spec.symbol,
  t: t.tradeId,
  p: price(spec, t.price),
  q: qty(spec, t.quantity),
  T: t.ts,
  m: t.takerSide === 'SELL',
  M: true,
});

/**
 * `<symbol>@aggTrade`: one frame per aggregate of the batch's trades, cut by the rule `/api/v3/aggTrades` uses
 * (groupAggregates, lambdas/api/market/agg-trades.ts: one taker order at one price), with its id `a` = its
 * first trade's id. An aggregate never spans two batches: a taker order matches within one command, and the
 * engine writes whole commands per record, so the trade before a batch's first trade belongs to another
 * taker order and the first trade always starts an aggregate, as it does in the REST answer.
 */
export function aggTradePayloads(spec: MarketSpec, trades: TradeEvent[], eventTime: number) {
  return groupAggregates(trades.map(publicTradeOf)).map((g) => ({
    e: 'aggTrade',
    E: eventTime,
    s: spec.symbol,
    ...aggTradeJson(spec, g),
  }));
}

/**
 * `<symbol>@depth<N>` / `@depth<N>@100ms`: the top N levels of each side (of `top`, the book's best levels,
 * at least N) as the book stands at `lastUpdateId` (the last depth update applied, the numbering of `@depth`'s U/u and `/api/v3/depth`'s
 * lastUpdateId), so the frame equals `/api/v3/depth?limit=N` answered at that id.
 */
export function partialDepthPayload(
  spec: MarketSpec,
  lastUpdateId: number,
  top: { bids: Array<[number, number]>; asks: Array<[number, number]> },
  levels: number,
) {
  const side = (list: Array<[number, number]>) =>
    list.slice(0, levels).map(([p, q]) => [price(spec, p), qty(spec, q)]);
  return { lastUpdateId, bids: side(top.bids), asks: side(top.asks) };
}

/**
 * `<symbol>@depth` / `@depth@100ms`: the depth events of one batch merged into one diff, U the first event's
 * U and u the last one's u (the engine numbers them gap-free, so each frame's U is the previous frame's u + 1,
 * and `/api/v3/depth`'s lastUpdateId is one of these u), each level at its final quantity (0 = removed).
 */
export function depthPayload(spec: MarketSpec, events: DepthEvent[], eventTime: number) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const e of events) {
    for (const [p, q] of e.bids) bids.set(p, q);
    for (const [p, q] of e.asks) asks.set(p, q);
  }
  const side = (levels: Map<number, number>, desc: boolean) =>
    [...levels]
      .sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]))
      .map(([p, q]) => [price(spec, p), qty(spec, q)]);
  return {
    e: 'depthUpdate',
    E: eventTime,
    s: spec.symbol,
    U: events[0].U,
    u: events[events.length - 1].u,
    b: side(bids, true),
    a: side(asks, false),
  };
}

/** `<symbol>@bookTicker` (spot: no event type or time). */
export const bookTickerPayload = (
  spec: MarketSpec,
  u: number,
  bid: [number, number],
  ask: [number, number],
) => ({
  u,
  s: spec.symbol,
  b: price(spec, bid[0]),
  B: qty(spec, bid[1]),
  a: price(spec, ask[0]),
  A: qty(spec, ask[1]),
});

/** `<symbol>@kline_<interval>`: the candle as it stands after the batch (`x` once its interval is over). */
export const klinePayload = (
  spec: MarketSpec,
  interval: string,
  intervalMs: number,
  c: Candle,
  eventTime: number,
) => ({
  e: 'kline',
  E: eventTime,
  s: spec.symbol,
  k: {
    t: c.openTime,
    T: c.openTime + intervalMs - 1,
    s: spec.symbol,
    i: interval,
    f: c.firstTradeId,
    L: c.lastTradeId,
    o: price(spec, c.o),
    c: price(spec, c.c),
    h: price(spec, c.h),
    l: price(spec, c.l),
    v: qty(spec, c.v),
    n: c.n,
    x: eventTime > c.openTime + intervalMs - 1,
    q: quote(spec, c.q),
    V: qty(spec, c.tbv),
    Q: quote(spec, c.tbq),
    B: '0',
  },
});

/** The whole book of a market as this container last knew it (best bid and ask, partial depth). */
export class BookState {
  constructor(
    public lastUpdateId: number,
    private readonly bids: Map<number, number>,
    private readonly asks: Map<number, number>,
  ) {}

  static of(view: BookView): BookState {
    return new BookState(view.lastUpdateId, new Map(view.bids), new Map(view.asks));
  }

  /** Applies one depth event (skipped when already applied); false when it does not follow (a gap). */
  apply(e: DepthEvent): boolean {
    if (e.u <= this.lastUpdateId) return true;
    if (e.U > this.lastUpdateId + 1) return false;
    for (const [side, levels] of [
      [this.bids, e.bids],
      [this.asks, e.asks],
    ] as const) {
      for (const [p, q] of levels) {
        if (q === 0) side.delete(p);
        else side.set(p, q);
      }
    }
    this.lastUpdateId = e.u;
    return true;
  }

  /** The best `n` levels of each side: bids from the highest price, asks from the lowest. */
  levels(n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return {
      bids: [...this.bids].sort((a, b) => b[0] - a[0]).slice(0, n),
      asks: [...this.asks].sort((a, b) => a[0] - b[0]).slice(0, n),
    };
  }

  /** Best bid and ask as [price, qty] ([0, 0] for an empty side). */
  top(): { bid: [number, number]; ask: [number, number] } {
    let bid: [number, number] = [0, 0];
    let ask: [number, number] = [0, 0];
    for (const [p, q] of this.bids) if (p > bid[0]) bid = [p, q];
    for (const [p, q] of this.asks) if (ask[0] === 0 || p < ask[0]) ask = [p, q];
    return { bid, ask };
  }
}

/**
 * `<symbol>@miniTicker` and `<symbol>@ticker`: the 24 h rolling window, computed as `/api/v3/ticker/24hr` does
 * (lambdas/api/market-data.ts: the same candles, prevClosePrice = the window's open, 8-decimal weighted price).
 */
export function tickerPayloads(
  spec: MarketSpec,
  s: WindowStats,
  window: { openTime: number; closeTime: number },
  lastQty: number,
  book: { bid: [number, number]; ask: [number, number] },
  eventTime: number,
) {
  const f = tickerFigures(spec, s);
  const mini = {
    e: '24hrMiniTicker',
    E: eventTime,
    s: spec.symbol,
    c: f.last,
    o: f.open,
    h: f.high,
    l: f.low,
    v: f.volume,
    q: f.quoteVolume,
  };
  const full = {
    e: '24hrTicker',
    E: eventTime,
    s: spec.symbol,
    p: f.priceChange,
    P: f.priceChangePercent,
    w: f.weightedAvgPrice,
    x: f.open,
    c: mini.c,
    Q: qty(spec, lastQty),
    b: price(spec, book.bid[0]),
    B: qty(spec, book.bid[1]),
    a: price(spec, book.ask[0]),
    A: qty(spec, book.ask[1]),
    o: mini.o,
    h: mini.h,
    l: mini.l,
    v: mini.v,
    q: mini.q,
    O: window.openTime,
    C: window.closeTime,
    F: s.firstId,
    L: s.lastId,
    n: s.count,
  };
  return { mini, full };
}
