// What the data processor does with one engine EventRecord, in order: money first (the RDS ledger is the
// only source of truth for balances), then the DynamoDB read models. Every step is idempotent, so a
// replayed or overlapping Kinesis batch changes nothing (DESIGN §7.6).
import type { EngineEvent, MarketSpec, TradeEvent } from '../../engine/core/types';
import type { EventRecord } from '../../engine/service/messages';
import type { OrderProgress } from '../shared/stores/orders';
import type { UserTradeRecord } from '../shared/stores/user-trades';
import { orderProgressFromEvents } from './order-view';

export interface SettlementLedger {
  /** Moves the funds of one trade (buyer, seller, fees); a trade already settled changes nothing. */
  settleTrade(market: MarketSpec, trade: TradeEvent): Promise<void>;
  /** Releases what an order still has locked once it is closed or rejected (idempotent). */
  releaseOrderLock(orderId: number): Promise<void>;
}

export interface ProcessorDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  ledger: SettlementLedger;
  orders: { applyProgress(p: OrderProgress): Promise<void> };
  userTrades: { putAll(trades: UserTradeRecord[]): Promise<void> };
  /** Public trades, candles, tickers and the book view. */
  marketData: { apply(records: EventRecord[]): Promise<void> };
  /** The fills of one trade as the two users see them (commission included). */
  userTradesOf(market: MarketSpec, trade: TradeEvent): UserTradeRecord[];
}

/**
 * Money and the per-user views of one record. Public market data is applied per batch instead
 * (`deps.marketData.apply` over the records done so far): one candle and book update per market and
 * batch rather than per record; it is idempotent, so a retried batch applies it again harmlessly.
 */
export async function processEventRecord(record: EventRecord, deps: ProcessorDeps): Promise<void> {
  const spec = deps.markets.get(record.market);
  if (!spec) throw new Error(`event record for unknown market ${record.market}`);

  for (const event of record.events) await settle(spec, event, deps.ledger);

  // Fills before order state: once an order shows the engine's answer, its fills are readable too.
  const fills = record.events
    .filter((e): e is TradeEvent => e.type === 'trade')
    .flatMap((t) => deps.userTradesOf(spec, t));
  if (fills.length > 0) await deps.userTrades.putAll(fills);
  const progress = orderProgressFromEvents(record.events);
  await Promise.all(progress.map((p) => deps.orders.applyProgress(p)));
}

async function settle(spec: MarketSpec, event: EngineEvent, ledger: SettlementLedger): Promise<void> {
  switch (event.type) {
    case 'trade':
      await ledger.settleTrade(spec, event);
      return;
    case 'closed':
      await ledger.releaseOrderLock(event.orderId);
      return;
    case 'rejected':
      // A duplicate id names someone else's live order: its lock must stay.
      if (event.command === 'place' && event.reason !== 'DUPLICATE_ORDER_ID')
        await ledger.releaseOrderLock(event.orderId);
      return;
    default:
      return;
  }
}
