// What the data processor (settlement) does with a Kinesis batch of engine EventRecords: ONE PostgreSQL
// transaction for the batch (the RDS ledger is the only source of truth for balances, and live orders sit
// beside their locks). The DynamoDB read models are another consumer of the same stream
// (lambdas/read-models), so a slow read model never delays money. Every step is idempotent, so a replayed
// or overlapping batch changes nothing. A record the ledger cannot settle is quarantined, never retried.
import type { MarketSpec } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import type { SettlementItem, SettlementResult } from '../shared/ledger/repository';
import { orderProgressFromEvents } from './order-view';

export interface ProcessorDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  settlement: {
    settleRecords(items: SettlementItem[]): Promise<SettlementResult>;
  };
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
    rejectedOrderIds: events.flatMap((e) =>
      e.type === 'rejected' &&
      (e.command === 'place' || e.command === 'placeList' || e.reason === 'UNKNOWN_ORDER')
        ? [e.orderId]
        : [],
    ),
    cmdIds: (r.record.commands ?? []).map((c) => c.cmdId),
    commands: r.record.commands ?? [],
    raw: r.raw,
  };
}

/** Settles the batch. Throws if it must be retried (a passing fault); quarantines what cannot be settled. */
export async function processEventRecords(
  records: ReceivedRecord[],
  deps: ProcessorDeps,
): Promise<BatchOutcome> {
  const items = records.map((r) => {
    const spec = deps.markets.get(r.record.market);
    // An unknown market is the record's own fault: the handler quarantines such records before this.
    if (!spec) throw new Error(`event record for unknown market ${r.record.market}`);
    return settlementItem(spec, r);
  });
  const result = await deps.settlement.settleRecords(items);
  const bad = new Set(result.quarantined.map((q) => q.key));
  return {
    settled: records.filter((r) => !bad.has(r.key)).map((r) => r.record),
    quarantined: result.quarantined,
  };
}
