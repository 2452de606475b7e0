// GET /api/v3/aggTrades: aggregate trades derived from the stored public trades, as Binance defines them —
// consecutive trades of one taker order at one price (and so one time and one side) are one aggregate.
//
// Aggregate ids are stable: an aggregate's id `a` is the id of its first trade `f`. Whether a trade starts an
// aggregate depends only on itself and the trade before it (trade ids are gap-free per market), so every query,
// whatever its bounds, cuts the same aggregates and gives them the same ids. Ids increase with time but are not
// consecutive (Binance's are); `fromId` means "aggregates whose id is at least fromId", exactly as on Binance.
//
// The taker order id is used when the stored trades carry it (`PublicTrade.takerOrderId`); trades written
// without it are grouped by id adjacency, price, time and side, which only differs when two taker orders of
// the same side traded at the same price in the same millisecond, back to back.
import type { MarketSpec } from '@engine/core/types';
import { priceText, qtyText } from '@lambdas/shared/money';
import type { PublicTrade } from '@lambdas/shared/stores/market-data';

export interface AggTradeGroup {
  trades: PublicTrade[];
}

/** Whether `t` belongs to the same aggregate as `prev`, the trade just before it. */
export function continuesAggregate(prev: PublicTrade, t: PublicTrade): boolean {
  if (t.id !== prev.id + 1) return false;
  if (t.price !== prev.price || t.time !== prev.time || t.isBuyerMaker !== prev.isBuyerMaker) return false;
  if (prev.takerOrderId !== undefined && t.takerOrderId !== undefined)
    return prev.takerOrderId === t.takerOrderId;
  return true;
}

/** Splits trades (ascending, consecutive ids) into aggregates; the first trade always starts one. */
/** One aggregate as Binance writes it in /api/v3/aggTrades and (with e, E, s) the <symbol>@aggTrade stream. */
export function aggTradeJson(spec: MarketSpec, g: PublicTrade[]) {
  return {
    a: g[0].id,
    p: priceText(spec, g[0].price),
    q: qtyText(
      spec,
      g.reduce((sum, t) => sum + t.qty, 0),
    ),
    f: g[0].id,
    l: g[g.length - 1].id,
    T: g[0].time,
    m: g[0].isBuyerMaker,
    M: true,
  };
}

export function groupAggregates(trades: PublicTrade[]): PublicTrade[][] {
  const groups: PublicTrade[][] = [];
  let prev: PublicTrade | undefined;
  for (const t of trades) {
    if (prev && continuesAggregate(prev, t)) groups[groups.length - 1].push(t);
    else groups.push([t]);
    prev = t;
  }
  return groups;
}

/** What aggTrades needs of the store. */
export interface TradeSource {
  tradeRange(
    symbol: string,
    opts: { fromId?: number; toId?: number; limit: number; newest?: boolean },
  ): Promise<PublicTrade[]>;
}

/** Trades read per store call: enough for `limit` single-trade aggregates and the one before, at most 1000. */
const pageFor = (limit: number) => Math.min(1000, limit + 2);

/**
 * Aggregates whose first trade id is ≥ `fromId` and whose time is in [startTime, endTime], oldest first, at
 * most `limit`. Reads from the trade before `fromId`, to know whether `fromId` starts an aggregate.
 */
export async function aggregatesForward(
  store: TradeSource,
  symbol: string,
  opts: { fromId: number; startTime?: number; endTime?: number; limit: number },
): Promise<PublicTrade[][]> {
  const groups: PublicTrade[][] = [];
  let current: PublicTrade[] | undefined;
  let prev: PublicTrade | undefined;
  let next = Math.max(1, opts.fromId - 1);
  const size = pageFor(opts.limit);
  for (;;) {
    const page = await store.tradeRange(symbol, { fromId: next, limit: size });
    for (const t of page) {
      if (prev && continuesAggregate(prev, t)) {
        current?.push(t);
      } else {
        if (current) {
          groups.push(current);
          if (groups.length >= opts.limit) return groups;
        }
        current = undefined;
        if (opts.endTime !== undefined && t.time > opts.endTime) return groups;
        if (t.id >= opts.fromId && (opts.startTime === undefined || t.time >= opts.startTime)) current = [t];
      }
      prev = t;
    }
    if (page.length < size) {
      if (current) groups.push(current);
      return groups;
    }
    next = page[page.length - 1].id + 1;
  }
}

/**
 * The most recent `limit` aggregates among trades with id ≤ `toId` and time ≤ `endTime` (both optional),
 * oldest first. Reads back until the oldest aggregate returned is known to start where it does.
 */
export async function aggregatesBackward(
  store: TradeSource,
  symbol: string,
  opts: { toId?: number; endTime?: number; limit: number },
): Promise<PublicTrade[][]> {
  let trades: PublicTrade[] = [];
  let upper = opts.toId;
  let exhausted = false;
  const size = pageFor(opts.limit);
  for (;;) {
    const page = await store.tradeRange(symbol, { toId: upper, limit: size, newest: true });
    const kept = opts.endTime === undefined ? page : page.filter((t) => t.time <= opts.endTime!);
    trades = kept.concat(trades);
    if (page.length < size || page[0].id <= 1) {
      exhausted = true;
      break;
    }
    upper = page[0].id - 1;
    let starts = 0;
    for (let i = 1; i < trades.length; i++) if (!continuesAggregate(trades[i - 1], trades[i])) starts++;
    if (starts >= opts.limit) break;
  }
  const groups = groupAggregates(trades);
  // Unless the reading reached the first trade, the oldest group may have begun before what was read.
  if (!exhausted) groups.shift();
  return groups.slice(-opts.limit);
}
