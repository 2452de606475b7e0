// Public market data from engine events: trades, candles and the order-book view behind /depth.
// Idempotent: trades are keyed by id, candles only take trades newer than they hold, and the book only
// applies depth updates past its lastUpdateId.
import type { DepthEvent, TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import {
  CANDLE_INTERVALS,
  MAX_BOOK_LEVELS,
  publicTradeOf,
  type BookView,
  type Candle,
  type MarketDataStore,
} from '../shared/stores/market-data';

/** Applies the records' public market data, merged per market: one trades write, one merge per candle,
 * one book update. Records of a market must come in stream order (they do: one partition per market). */
export async function applyMarketData(store: MarketDataStore, records: EventRecord[]): Promise<void> {
  const byMarket = new Map<string, { trades: TradeEvent[]; depth: DepthEvent[] }>();
  for (const record of records) {
    let m = byMarket.get(record.market);
    if (!m) byMarket.set(record.market, (m = { trades: [], depth: [] }));
    for (const e of record.events) {
      if (e.type === 'trade') m.trades.push(e);
      else if (e.type === 'depth') m.depth.push(e);
    }
  }
  await Promise.all(
    [...byMarket].map(async ([market, { trades, depth }]) => {
      if (trades.length > 0) {
        await store.putTrades(market, trades.map(publicTradeOf));
        await Promise.all(
          Object.entries(CANDLE_INTERVALS).flatMap(([interval, ms]) =>
            [...tradesByCandle(trades, ms).values()].map((ts) =>
              mergeNewTrades(store, market, interval, ms, ts),
            ),
          ),
        );
      }
      if (depth.length > 0) await updateBook(store, market, depth);
    }),
  );
}

function tradesByCandle(trades: TradeEvent[], intervalMs: number): Map<number, TradeEvent[]> {
  const byOpen = new Map<number, TradeEvent[]>();
  for (const t of trades) {
    const openTime = Math.floor(t.ts / intervalMs) * intervalMs;
    const group = byOpen.get(openTime);
    if (group) group.push(t);
    else byOpen.set(openTime, [t]);
  }
  return byOpen;
}

/**
 * Folds one candle's trades in, once each: when the candle already holds some of them (a retried batch
 * that overlaps what an earlier attempt applied, then goes further), only the trades past its
 * lastTradeId are folded.
 */
async function mergeNewTrades(
  store: MarketDataStore,
  market: string,
  interval: string,
  intervalMs: number,
  trades: TradeEvent[],
): Promise<void> {
  let pending = trades;
  while (pending.length > 0) {
    const [candle] = candlesOf(pending, intervalMs);
    const holds = await store.mergeCandle(market, interval, candle);
    if (holds === undefined) return;
    pending = pending.filter((t) => t.tradeId > holds);
  }
}

export function candlesOf(trades: TradeEvent[], intervalMs: number): Candle[] {
  const byOpen = new Map<number, Candle>();
  for (const t of trades) {
    const openTime = Math.floor(t.ts / intervalMs) * intervalMs;
    byOpen.set(openTime, foldTrade(byOpen.get(openTime), t, openTime));
  }
  return [...byOpen.values()];
}

/** One trade folded into its candle (a new candle when `c` is undefined). */
export function foldTrade(c: Candle | undefined, t: TradeEvent, openTime: number): Candle {
  const notional = t.price * t.quantity;
  const takerBuy = t.takerSide === 'BUY';
  if (!c)
    return {
      openTime,
      o: t.price,
      h: t.price,
      l: t.price,
      c: t.price,
      v: t.quantity,
      q: notional,
      n: 1,
      tbv: takerBuy ? t.quantity : 0,
      tbq: takerBuy ? notional : 0,
      firstTradeId: t.tradeId,
      lastTradeId: t.tradeId,
    };
  return {
    ...c,
    h: Math.max(c.h, t.price),
    l: Math.min(c.l, t.price),
    c: t.price,
    v: c.v + t.quantity,
    q: c.q + notional,
    n: c.n + 1,
    tbv: c.tbv + (takerBuy ? t.quantity : 0),
    tbq: c.tbq + (takerBuy ? notional : 0),
    lastTradeId: t.tradeId,
  };
}

/** Applies depth diffs past the stored lastUpdateId; optimistic concurrency on the book item. */
export function applyDepth(book: BookView, events: DepthEvent[]): BookView {
  const bids = new Map(book.bids);
  const asks = new Map(book.asks);
  let lastUpdateId = book.lastUpdateId;
  for (const e of events) {
    if (e.u <= lastUpdateId) continue; // already applied
    for (const [side, levels] of [
      [bids, e.bids],
      [asks, e.asks],
    ] as const) {
      for (const [price, qty] of levels) {
        if (qty === 0) side.delete(price);
        else side.set(price, qty);
      }
    }
    lastUpdateId = e.u;
  }
  return {
    lastUpdateId,
    bids: [...bids].sort((a, b) => b[0] - a[0]).slice(0, MAX_BOOK_LEVELS),
    asks: [...asks].sort((a, b) => a[0] - b[0]).slice(0, MAX_BOOK_LEVELS),
  };
}

async function updateBook(store: MarketDataStore, symbol: string, events: DepthEvent[]): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await store.getBook(symbol);
    if (events[events.length - 1].u <= current.lastUpdateId) return;
    const { version, ...book } = current;
    if (await store.putBook(symbol, applyDepth(book, events), version)) return;
  }
  throw new Error(`book view of ${symbol}: too many concurrent writers`);
}
