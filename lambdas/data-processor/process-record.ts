// What the data processor does with a Kinesis batch of engine EventRecords: money first, in ONE PostgreSQL
// transaction for the batch (the RDS ledger is the only source of truth for balances, and live orders sit
// beside their locks), then the DynamoDB read models, each written once per batch: one order-history item
// per order closed in the batch (an order accepted and filled within the batch is written once; open
// orders are read from PostgreSQL), the users' fills,
// public trades, candles and the book view. Every step is idempotent, so a replayed or overlapping batch
// changes nothing (DESIGN §7.6). A record the ledger cannot settle is quarantined, not retried forever.
import type { MarketSpec, TradeEvent } from '../../engine/core/types';
import type { EventRecord } from '../../engine/service/messages';
import type { SettlementItem, SettlementResult } from '../shared/ledger/repository';
import { OPEN_STATUSES, type OrderRecord } from '../shared/stores/orders';
import type { UserTradeRecord } from '../shared/stores/user-trades';
import { orderProgressFromEvents } from './order-view';

export interface ProcessorDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  settlement: {
    settleRecords(items: SettlementItem[]): Promise<SettlementResult>;
  };
  /** Order history (allOrders): the orders' current rows, written whole. */
  orderHistory: { putAll(orders: OrderRecord[]): Promise<void> };
  userTrades: { putAll(trades: UserTradeRecord[]): Promise<void> };
  /** Public trades, candles, tickers and the book view. */
  marketData: { apply(records: EventRecord[]): Promise<void> };
  /** The fills of one trade as the two users see them (commission included). */
  userTradesOf(market: MarketSpec, trade: TradeEvent): UserTradeRecord[];
}

export interface ReceivedRecord {
  /** Kinesis sequence number. */
  key: string;
  record: EventRecord;
  raw: string;
}

export interface BatchOutcome {
  settled: EventRecord[];
  quarantined: SettlementResult['quarantined'];
}

export function settlementItem(spec: MarketSpec, r: ReceivedRecord): SettlementItem {
  const events = r.record.events;
  return {
    key: r.key,
    market: spec,
    events,
    progress: orderProgressFromEvents(events),
    rejectedPlaces: events.flatMap((e) =>
      e.type === 'rejected' && (e.command === 'place' || e.reason === 'UNKNOWN_ORDER') ? [e.orderId] : [],
    ),
    cmdIds: (r.record.commands ?? []).map((c) => c.cmdId),
    raw: r.raw,
  };
}

/** Settles the batch, then writes the read models of what settled. Throws if a step must be retried. */
export async function processEventRecords(
  records: ReceivedRecord[],
  deps: ProcessorDeps,
): Promise<BatchOutcome> {
  const items = records.map((r) => {
    const spec = deps.markets.get(r.record.market);
    // An unknown market is the record's own fault: the ledger quarantines it like any unsettleable record.
    if (!spec) throw new Error(`event record for unknown market ${r.record.market}`);
    return settlementItem(spec, r);
  });
  const result = await deps.settlement.settleRecords(items);
  const bad = new Set(result.quarantined.map((q) => q.key));
  const settled = records.filter((r) => !bad.has(r.key)).map((r) => r.record);

  // Fills before order state, as readers expect: once an order shows a fill, its trade is readable.
  const fills = settled.flatMap((rec) => {
    const spec = deps.markets.get(rec.market) as MarketSpec;
    return rec.events
      .filter((e): e is TradeEvent => e.type === 'trade')
      .flatMap((t) => deps.userTradesOf(spec, t));
  });
  // History holds closed orders: open ones are read from their live rows, so writing them would only cost.
  const closed = result.orders.filter((o) => !OPEN_STATUSES.has(o.status));
  // The users' views and the public market data are independent: written side by side.
  await Promise.all([
    (async () => {
      if (fills.length > 0) await deps.userTrades.putAll(fills);
      if (closed.length > 0) await deps.orderHistory.putAll(closed);
    })(),
    settled.length > 0 ? deps.marketData.apply(settled) : undefined,
  ]);
  return { settled, quarantined: result.quarantined };
}
