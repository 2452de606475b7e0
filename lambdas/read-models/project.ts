// The DynamoDB read models of a Kinesis batch of engine EventRecords, each written once per batch: the
// users' fills, one order-history item per order closed in the batch (an order accepted and filled within
// one batch is written once; open orders are read from their live rows in PostgreSQL), public trades,
// candles and the book view. A consumer of its own on the stream, beside settlement (lambdas/data-processor),
// so DynamoDB's pace never delays money. Idempotent: a replayed batch rewrites the same items.
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { statusForClose } from '../data-processor/order-view';
import type { OrderRecord } from '../shared/stores/orders';
import type { UserTradeRecord } from '../shared/stores/user-trades';

export interface ReadModelDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  /** The live rows of these orders (PostgreSQL), for the fields an engine event does not carry. */
  orderRows(orderIds: number[]): Promise<OrderRecord[]>;
  orderHistory: { putAll(orders: OrderRecord[]): Promise<void> };
  userTrades: { putAll(trades: UserTradeRecord[]): Promise<void> };
  /** Public trades, candles, tickers and the book view. */
  marketData: { apply(records: EventRecord[]): Promise<void> };
  /** The fills of one trade as the two users see them (commission included). */
  userTradesOf(market: MarketSpec, trade: TradeEvent): UserTradeRecord[];
}

export async function projectReadModels(records: EventRecord[], deps: ReadModelDeps): Promise<void> {
  const fills: UserTradeRecord[] = [];
  // The close of each order closed in the batch: the final state, whatever settlement has reached.
  const closes = new Map<
    number,
    { status: OrderRecord['status']; executed: number; cumQuote: number; seq: number; ts: number }
  >();
  for (const record of records) {
    const spec = deps.markets.get(record.market);
    if (!spec) continue; // settlement quarantines it; nothing to show
    for (const e of record.events) {
      if (e.type === 'trade') fills.push(...deps.userTradesOf(spec, e));
      else if (e.type === 'closed')
        closes.set(e.orderId, {
          status: statusForClose(e.reason),
          executed: e.executedQty,
          cumQuote: e.cumQuote,
          seq: e.seq,
          ts: e.ts,
        });
    }
  }
  const history =
    closes.size === 0
      ? []
      : (await deps.orderRows([...closes.keys()])).map((row) => {
          const c = closes.get(row.orderId)!;
          return row.lastSeq >= c.seq
            ? row
            : {
                ...row,
                status: c.status,
                executedLots: c.executed,
                cumQuote: c.cumQuote,
                updateTime: c.ts,
                lastSeq: c.seq,
              };
        });
  await Promise.all([
    (async () => {
      // Fills before the order's final state, as readers expect.
      if (fills.length > 0) await deps.userTrades.putAll(fills);
      if (history.length > 0) await deps.orderHistory.putAll(history);
    })(),
    records.length > 0 ? deps.marketData.apply(records.filter((r) => deps.markets.has(r.market))) : undefined,
  ]);
}
