// Engine events → Binance market-stream frames → one post per subscriber and frame (ApiGatewayManagementApi).
// A consumer of its own on the engine-event stream, beside settlement and the read models, so a slow or gone
// client never delays money or the REST views: posts run with bounded concurrency and a timeout each, a gone
// connection (410) is removed, a failed post is counted and logged, and the batch never fails because of them.
//
// Book tickers, partial depth and klines need state the events do not carry (the book, the candle so far):
// the container keeps the book and the current candles in memory, and (re)seeds them from the read models'
// book view and candles when it has none or sees a gap, waiting a little for the read models to reach the
// batch; when they do not, that frame is skipped for the batch (never a wrong one). Tickers (per symbol and
// the all-market arrays `!ticker@arr` / `!miniTicker@arr`, whose subscribers have index partitions of their
// own) are computed once per market and batch from the read models' candles.
import type { DepthEvent, MarketSpec, TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { windowCandles, windowStats, type CandleSource } from '../api/market/rolling';
import { foldTrade } from '../data-processor/market-data-view';
import { CANDLE_INTERVALS, type BookView, type Candle, type PublicTrade } from '../shared/stores/market-data';
import type { Subscriber } from '../ws/connection-store';
import { postEach, type FanOutStats } from './post';
import { OrderFactsCache, userFanOut, type UserFanOutDeps } from './user-fanout';
import { ALL_MARKET_STREAMS, PARTIAL_DEPTH_LEVELS, partialDepthLevels, streamName } from '../ws/streams';
import {
  BookState,
  aggTradePayloads,
  bookTickerPayload,
  depthPayload,
  klinePayload,
  partialDepthPayload,
  tickerPayloads,
  tradePayload,
} from './payloads';

/** The partial book depth kinds (`depth5` … `depth20@100ms`). */
const PARTIAL_DEPTH_KINDS = PARTIAL_DEPTH_LEVELS.flatMap((n) => [`depth${n}`, `depth${n}@100ms`]);

export type { Subscriber };

export interface FanOutDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  /** Every subscription to the market's streams (one read): stream name → subscribers. */
  marketSubscribers(symbol: string): Promise<ReadonlyMap<string, Subscriber[]>>;
  /** Posts one frame; rejects with an error named GoneException when the connection is gone. */
  post(connectionId: string, data: string, signal: AbortSignal): Promise<void>;
  removeConnection(connectionId: string): Promise<void>;
  bookView(symbol: string): Promise<BookView>;
  candle(symbol: string, interval: string, openTime: number): Promise<Candle | undefined>;
  /** The stored candles (the 24 h window of the tickers). */
  candles: CandleSource['candles'];
  trade(symbol: string, tradeId: number): Promise<PublicTrade | undefined>;
  now(): number;
  log: { warn(msg: string, extra?: Record<string, unknown>): void };
  /** Connections posted to at once (default 64). */
  concurrency?: number;
  /** A post still running after this is abandoned and counted as failed (default 2000 ms). */
  postTimeoutMs?: number;
  /** Reads of the read models while waiting for them to reach the batch (default 30, 100 ms apart). */
  seedAttempts?: number;
  /** User data streams (lambdas/ws-fanout/user-fanout.ts); without it only market streams are served. */
  users?: UserFanOutDeps;
}

/** What a container remembers between batches. */
export interface FanOutState {
  books: Map<string, BookState>;
  candles: Map<string, Candle>;
  /** What execution reports repeat about an order (fixed once accepted), by order id. */
  orders: OrderFactsCache;
}

export const newFanOutState = (): FanOutState => ({
  books: new Map(),
  candles: new Map(),
  orders: new OrderFactsCache(),
});

export type { FanOutStats };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function fanOut(
  records: EventRecord[],
  deps: FanOutDeps,
  state: FanOutState,
): Promise<FanOutStats> {
  // Market streams and user data streams go out side by side: neither waits for the other's reads.
  const [market, user] = await Promise.all([
    marketFanOut(records, deps, state),
    deps.users ? userFanOut(records, deps, deps.users, state.orders) : undefined,
  ]);
  return user
    ? {
        frames: market.frames + user.frames,
        posted: market.posted + user.posted,
        gone: market.gone + user.gone,
        failed: market.failed + user.failed,
      }
    : market;
}

async function marketFanOut(
  records: EventRecord[],
  deps: FanOutDeps,
  state: FanOutState,
): Promise<FanOutStats> {
  const byMarket = new Map<string, { trades: TradeEvent[]; depth: DepthEvent[] }>();
  for (const record of records) {
    if (!deps.markets.has(record.market)) continue;
    let m = byMarket.get(record.market);
    if (!m) byMarket.set(record.market, (m = { trades: [], depth: [] }));
    for (const e of record.events) {
      if (e.type === 'trade') m.trades.push(e);
      else if (e.type === 'depth') m.depth.push(e);
    }
  }

  // The streams this batch has something for, and who listens to them: one read per market, however many
  // streams the market has.
  const listeners = new Map<string, Subscriber[]>();
  const anyTrades = [...byMarket.values()].some((m) => m.trades.length > 0);
  await Promise.all([
    ...[...byMarket].map(async ([market, { trades, depth }]) => {
      let subscribed: ReadonlyMap<string, Subscriber[]>;
      try {
        subscribed = await deps.marketSubscribers(market);
      } catch (err) {
        deps.log.warn('subscribers not read; market skipped for this batch', { market, err: String(err) });
        return;
      }
      const kinds = [
        ...(trades.length > 0
          ? [
              'trade',
              'aggTrade',
              'ticker',
              'miniTicker',
              ...Object.keys(CANDLE_INTERVALS).map((i) => `kline_${i}`),
            ]
          : []),
        ...(depth.length > 0 ? ['depth', 'depth@100ms', 'bookTicker', ...PARTIAL_DEPTH_KINDS] : []),
      ];
      for (const kind of kinds) {
        const subs = subscribed.get(streamName(market, kind));
        if (subs && subs.length > 0) listeners.set(streamName(market, kind), subs);
      }
    }),
    // The all-market ticker arrays change with any market's trades: one read of each one's own partition.
    ...[...ALL_MARKET_STREAMS]
      .filter(() => anyTrades)
      .map(async ([stream, { partition }]) => {
        try {
          const subs = (await deps.marketSubscribers(partition)).get(stream);
          if (subs && subs.length > 0) listeners.set(stream, subs);
        } catch (err) {
          deps.log.warn('subscribers not read; stream skipped for this batch', { stream, err: String(err) });
        }
      }),
  ]);
  if (listeners.size === 0) return { frames: 0, posted: 0, gone: 0, failed: 0 };

  const eventTime = deps.now();
  type Frames = Array<{ stream: string; payloads: unknown[] }>;
  // Trades and diffs need nothing but the events: they go out at once. Book tickers and klines may wait for
  // the read models (a cold container, a gap); they follow on their own streams, so nothing waits for them.
  const immediate: Frames = [];
  for (const [market, { trades, depth }] of byMarket) {
    const spec = deps.markets.get(market) as MarketSpec;
    if (trades.length > 0 && listeners.has(streamName(market, 'trade')))
      immediate.push({
        stream: streamName(market, 'trade'),
        payloads: trades.map((t) => tradePayload(spec, t, eventTime)),
      });
    if (trades.length > 0 && listeners.has(streamName(market, 'aggTrade')))
      immediate.push({
        stream: streamName(market, 'aggTrade'),
        payloads: aggTradePayloads(spec, trades, eventTime),
      });
    for (const kind of ['depth', 'depth@100ms'])
      if (depth.length > 0 && listeners.has(streamName(market, kind)))
        immediate.push({
          stream: streamName(market, kind),
          payloads: [depthPayload(spec, depth, eventTime)],
        });
  }
  // The all-market arrays: each market's payload of the batch, in the order the markets came.
  const arrays = new Map<string, unknown[]>(
    [...ALL_MARKET_STREAMS.keys()].filter((s) => listeners.has(s)).map((s) => [s, []]),
  );
  const stateful = async (): Promise<Frames> => {
    const frames: Frames = [];
    for (const [market, { trades, depth }] of byMarket) {
      const spec = deps.markets.get(market) as MarketSpec;
      const partial = PARTIAL_DEPTH_KINDS.filter((k) => listeners.has(streamName(market, k)));
      const wantsTop = listeners.has(streamName(market, 'bookTicker'));
      if (depth.length > 0 && (wantsTop || partial.length > 0)) {
        const synced = await syncBook(spec, depth, deps, state);
        if (synced && wantsTop && synced.bookTickers.length > 0)
          frames.push({ stream: streamName(market, 'bookTicker'), payloads: synced.bookTickers });
        if (synced && partial.length > 0) {
          // The book's best levels sorted once, for the deepest partial stream listened to.
          const levels = partial.map((k) => partialDepthLevels(k) ?? 0);
          const top = synced.book.levels(Math.max(...levels));
          partial.forEach((kind, i) =>
            frames.push({
              stream: streamName(market, kind),
              payloads: [partialDepthPayload(spec, synced.book.lastUpdateId, top, levels[i])],
            }),
          );
        }
      }
      if (trades.length > 0)
        for (const [interval, ms] of Object.entries(CANDLE_INTERVALS)) {
          if (!listeners.has(streamName(market, `kline_${interval}`))) continue;
          const candles = await klineCandles(spec, interval, ms, trades, deps, state);
          if (candles.length > 0)
            frames.push({
              stream: streamName(market, `kline_${interval}`),
              payloads: candles.map((c) => klinePayload(spec, interval, ms, c, eventTime)),
            });
        }
      const tickers = ['ticker', 'miniTicker'].filter((k) => listeners.has(streamName(market, k)));
      if (trades.length > 0 && (tickers.length > 0 || arrays.size > 0)) {
        // One computation for the symbol's streams and the all-market arrays: the same payloads in both.
        const payloads = await rollingTickers(spec, trades, depth[depth.length - 1]?.u ?? 0, deps, eventTime);
        if (payloads && tickers.includes('ticker'))
          frames.push({ stream: streamName(market, 'ticker'), payloads: [payloads.full] });
        if (payloads && tickers.includes('miniTicker'))
          frames.push({ stream: streamName(market, 'miniTicker'), payloads: [payloads.mini] });
        for (const [stream, list] of arrays)
          if (payloads)
            list.push(ALL_MARKET_STREAMS.get(stream)!.kind === 'ticker' ? payloads.full : payloads.mini);
      }
    }
    for (const [stream, list] of arrays) if (list.length > 0) frames.push({ stream, payloads: [list] });
    return frames;
  };
  const stats: FanOutStats = { frames: 0, posted: 0, gone: 0, failed: 0 };
  const send = (frames: Frames) => post(frames, listeners, deps, stats);
  await Promise.all([send(immediate), stateful().then(send)]);
  return stats;
}

/** Posts each connection its frames in order (connections in parallel, at most `concurrency` at once). */
async function post(
  frames: Array<{ stream: string; payloads: unknown[] }>,
  listeners: Map<string, Subscriber[]>,
  deps: FanOutDeps,
  stats: FanOutStats,
): Promise<void> {
  const perConnection = new Map<string, string[]>();
  for (const { stream, payloads } of frames) {
    // Each frame serialized once per format (raw, combined), not once per subscriber.
    let raw: string[] | undefined;
    let combined: string[] | undefined;
    for (const sub of listeners.get(stream) ?? []) {
      const texts = sub.combined
        ? (combined ??= payloads.map((data) => JSON.stringify({ stream, data })))
        : (raw ??= payloads.map((data) => JSON.stringify(data)));
      const list = perConnection.get(sub.connectionId);
      if (list) for (const text of texts) list.push(text);
      else perConnection.set(sub.connectionId, texts.slice());
    }
  }
  await postEach(perConnection, deps, stats);
}

/**
 * Brings the container's book of the market past the batch's depth events (seeding it from the read models'
 * book view when it has none or sees a gap): the book after them (partial depth) and one bookTicker per
 * depth event that moved the best bid or ask. Undefined when the book view does not reach the batch in time.
 */
async function syncBook(
  spec: MarketSpec,
  depth: DepthEvent[],
  deps: FanOutDeps,
  state: FanOutState,
): Promise<{ book: BookState; bookTickers: unknown[] } | undefined> {
  let book = state.books.get(spec.symbol);
  const firstU = depth[0].U;
  let seeded = false;
  if (!book || firstU > book.lastUpdateId + 1) {
    book = undefined;
    state.books.delete(spec.symbol);
    for (let attempt = 0; attempt < (deps.seedAttempts ?? 30); attempt++) {
      if (attempt > 0) await sleep(100);
      const view = await deps.bookView(spec.symbol).catch(() => undefined);
      if (view && view.lastUpdateId >= firstU - 1) {
        book = BookState.of(view);
        break;
      }
    }
    if (!book) {
      deps.log.warn('book view behind the stream; bookTicker and partial depth skipped for this batch', {
        market: spec.symbol,
      });
      return undefined;
    }
    state.books.set(spec.symbol, book);
    seeded = true;
  }
  const out: unknown[] = [];
  // Just seeded: the best bid and ask before are unknown, so the first state is sent whatever it is.
  let before = seeded ? undefined : book.top();
  for (const e of depth) {
    if (e.u <= book.lastUpdateId) continue;
    book.apply(e);
    const after = book.top();
    if (
      !before ||
      after.bid[0] !== before.bid[0] ||
      after.bid[1] !== before.bid[1] ||
      after.ask[0] !== before.ask[0] ||
      after.ask[1] !== before.ask[1]
    )
      out.push(bookTickerPayload(spec, e.u, after.bid, after.ask));
    before = after;
  }
  // Seeded from a view that already holds this batch (the read models were ahead): its top, at its id.
  if (seeded && out.length === 0) {
    const { bid, ask } = book.top();
    out.push(bookTickerPayload(spec, book.lastUpdateId, bid, ask));
  }
  return { book, bookTickers: out };
}

/** The candles of `interval` the batch's trades changed, as they stand after each one's last trade. */
async function klineCandles(
  spec: MarketSpec,
  interval: string,
  ms: number,
  trades: TradeEvent[],
  deps: FanOutDeps,
  state: FanOutState,
): Promise<Candle[]> {
  const key = `${spec.symbol}#${interval}`;
  let c = state.candles.get(key);
  // Whether `c` changed in this batch (a candle the batch did not touch is not sent again).
  let dirty = false;
  const changed: Candle[] = [];
  for (const t of trades) {
    if (c && t.tradeId <= c.lastTradeId) continue; // already folded (a retried batch)
    const openTime = Math.floor(t.ts / ms) * ms;
    if (c && c.lastTradeId === t.tradeId - 1) {
      if (c.openTime !== openTime && dirty) changed.push(c);
      c = foldTrade(c.openTime === openTime ? c : undefined, t, openTime);
      dirty = true;
      continue;
    }
    // No state, or a gap: what the read models hold for this candle, once they have reached this trade.
    const seeded = await seedCandle(spec.symbol, interval, openTime, t, deps);
    if (seeded === 'unknown') {
      state.candles.delete(key);
      deps.log.warn('candles behind the stream; kline skipped for this batch', {
        market: spec.symbol,
        interval,
      });
      return changed;
    }
    if (c && c.openTime !== openTime && dirty) changed.push(c);
    c = seeded && seeded.lastTradeId >= t.tradeId ? seeded : foldTrade(seeded, t, openTime);
    dirty = true;
  }
  if (c) state.candles.set(key, c);
  if (c && dirty) changed.push(c);
  return changed;
}

/**
 * The 24 h tickers after the batch, from the read models' candles once their 1-minute candle holds the batch's
 * last trade and their book the batch's last depth update (the same numbers `/api/v3/ticker/24hr` then answers);
 * undefined if they do not get there in time.
 */
async function rollingTickers(
  spec: MarketSpec,
  trades: TradeEvent[],
  lastUpdateId: number,
  deps: FanOutDeps,
  eventTime: number,
) {
  const last = trades[trades.length - 1];
  const minute = Math.floor(last.ts / 60_000) * 60_000;
  for (let attempt = 0; attempt < (deps.seedAttempts ?? 30); attempt++) {
    if (attempt > 0) await sleep(100);
    try {
      const stored = await deps.candle(spec.symbol, '1m', minute);
      if (!stored || stored.lastTradeId < last.tradeId) continue;
      const closeTime = Math.max(eventTime, last.ts);
      const openTime = Math.floor((closeTime - 86_400_000) / 60_000) * 60_000;
      const [candles, book] = await Promise.all([
        windowCandles({ candles: deps.candles }, spec.symbol, openTime, closeTime),
        deps.bookView(spec.symbol),
      ]);
      if (book.lastUpdateId < lastUpdateId) continue;
      return tickerPayloads(
        spec,
        windowStats(candles),
        { openTime, closeTime },
        last.quantity,
        { bid: book.bids[0] ?? [0, 0], ask: book.asks[0] ?? [0, 0] },
        eventTime,
      );
    } catch {
      // read models unavailable: try again
    }
  }
  deps.log.warn('candles behind the stream; ticker skipped for this batch', { market: spec.symbol });
  return undefined;
}

async function seedCandle(
  symbol: string,
  interval: string,
  openTime: number,
  t: TradeEvent,
  deps: FanOutDeps,
): Promise<Candle | undefined | 'unknown'> {
  for (let attempt = 0; attempt < (deps.seedAttempts ?? 30); attempt++) {
    if (attempt > 0) await sleep(100);
    try {
      const stored = await deps.candle(symbol, interval, openTime);
      if (stored && stored.lastTradeId >= t.tradeId - 1) return stored;
      if (t.tradeId === 1) return undefined;
      // The previous trade before this candle: this trade opens it.
      const previous = await deps.trade(symbol, t.tradeId - 1);
      if (previous && previous.time < openTime) return undefined;
    } catch {
      // read models unavailable: try again
    }
  }
  return 'unknown';
}
