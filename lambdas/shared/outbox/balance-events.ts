// Publishes the ledger's balance events (docs/wallets.md#balance-events) to the wallet-event stream: rows a
// deposit or withdrawal recorded in its own transaction, oldest first, marked once the stream took them.
// Run by the outbox relay beside its command pass (once a second). At least once: a crash between the put and
// the mark publishes a row again, with the same id, which the fan-out recognises.
import type { Pool } from 'pg';
import type { BalanceEvent } from '@contracts/wallet-events';

export interface BalanceEventSink {
  /** Puts the events; returns the ids the stream accepted (the others are tried again next pass). */
  put(events: BalanceEvent[]): Promise<number[]>;
}

export interface BalanceEventPass {
  published: number;
  failed: number;
}

/** Rows per pass: one PutRecords request takes at most 500 records. */
const BATCH = 500;

export class BalanceEventRelay {
  constructor(
    private readonly pool: Pool,
    private readonly sink: BalanceEventSink,
  ) {}

  async publishDue(): Promise<BalanceEventPass> {
    const due = await this.pool.query<{
      id: string;
      user_id: string;
      asset: string;
      delta: string;
      kind: string;
      reference: string;
      created_ms: string;
    }>(
      `SELECT id, user_id, asset, delta, kind, reference, created_ms FROM balance_events
        WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [BATCH],
    );
    if (due.rows.length === 0) return { published: 0, failed: 0 };
    const events: BalanceEvent[] = due.rows.map((r) => ({
      id: Number(r.id),
      userId: Number(r.user_id),
      asset: r.asset,
      delta: r.delta,
      kind: r.kind,
      reference: r.reference,
      time: Number(r.created_ms),
    }));
    let accepted: number[];
    try {
      accepted = await this.sink.put(events);
    } catch {
      return { published: 0, failed: events.length };
    }
    if (accepted.length > 0)
      await this.pool.query(
        'UPDATE balance_events SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])',
        [accepted],
      );
    return { published: accepted.length, failed: events.length - accepted.length };
  }

  /** Drops rows published more than `keepMs` ago (the stream and the ledger keep what they say). */
  async cleanup(keepMs = 3_600_000): Promise<void> {
    await this.pool.query(
      'DELETE FROM balance_events WHERE published_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)',
      [keepMs],
    );
  }
}
