// The transactional outbox's relay (docs/operations.md#outbox). The API sends each command right after its
// transaction commits; this delivers whatever that send did not: rows the engine has not applied after a
// grace period are sent again, in outbox order, until the data processor marks them applied. Resends are
// harmless: SQS FIFO drops a deduplication id it saw in the last 5 minutes, and the engine recognises a
// command id (or an order id) it already applied.
import type { Pool } from 'pg';
import type { OutboxMessage } from '../ledger/order-repository';

export interface CommandSender {
  /** Sends the messages in order (per message group); throws if any was not accepted. */
  send(messages: OutboxMessage[]): Promise<void>;
}

export interface RelayOptions {
  /** A row younger than this is left to the API's own send. */
  graceMs: number;
  /** A row sent by the relay is sent again after this long without being applied. */
  resendAfterMs: number;
  /** Rows per pass. */
  batchSize: number;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { graceMs: 2_000, resendAfterMs: 10_000, batchSize: 500 };

export interface RelayPass {
  sent: number;
  failed: number;
  /** Age of the oldest command not yet applied by the engine, in seconds (0 when none). */
  oldestUnappliedSeconds: number;
}

export class OutboxRelay {
  constructor(
    private readonly pool: Pool,
    private readonly sender: CommandSender,
    private readonly opts: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {}

  /** One pass: send the due rows, record the attempt, report the backlog. */
  async deliverDue(): Promise<RelayPass> {
    const due = await this.pool.query<{
      id: string;
      cmd_id: string;
      market: string;
      group_id: string;
      body: string;
    }>(
      `SELECT id, cmd_id, market, group_id, body FROM outbox
        WHERE applied_at IS NULL
          AND created_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
          AND (last_sent_at IS NULL OR last_sent_at < clock_timestamp() - make_interval(secs => $2::float8 / 1000))
        ORDER BY id LIMIT $3`,
      [this.opts.graceMs, this.opts.resendAfterMs, this.opts.batchSize],
    );
    let sent = 0;
    let failed = 0;
    if (due.rows.length > 0) {
      const messages = due.rows.map((r) => ({
        cmdId: r.cmd_id,
        market: r.market,
        groupId: r.group_id,
        body: r.body,
      }));
      const ok: string[] = [];
      // Per message group in outbox order: a group's later command never overtakes an earlier one.
      const byGroup = new Map<string, Array<{ id: string; message: OutboxMessage }>>();
      due.rows.forEach((r, i) => {
        const list = byGroup.get(r.group_id) ?? [];
        list.push({ id: r.id, message: messages[i] });
        byGroup.set(r.group_id, list);
      });
      await Promise.all(
        [...byGroup.values()].map(async (rows) => {
          try {
            await this.sender.send(rows.map((r) => r.message));
            ok.push(...rows.map((r) => r.id));
          } catch {
            failed += rows.length;
          }
        }),
      );
      sent = ok.length;
      if (ok.length > 0)
        await this.pool.query(
          'UPDATE outbox SET sends = sends + 1, last_sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])',
          [ok],
        );
    }
    return { sent, failed, oldestUnappliedSeconds: await this.oldestUnappliedSeconds() };
  }

  oldestUnappliedSeconds(): Promise<number> {
    return oldestUnappliedSeconds(this.pool);
  }

  /** Drops applied rows and expired replay markers. */
  async cleanup(keepAppliedMs = 3_600_000): Promise<void> {
    await this.pool.query(
      'DELETE FROM outbox WHERE applied_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)',
      [keepAppliedMs],
    );
    await this.pool.query('DELETE FROM request_signatures WHERE expires_ms < $1', [Date.now()]);
  }
}

/** Age of the oldest command the engine has not applied, in seconds (0 when none): the pipeline's backlog. */
export async function oldestUnappliedSeconds(pool: Pick<Pool, 'query'>): Promise<number> {
  const res = await pool.query<{ age: string | null }>(
    `SELECT extract(epoch FROM clock_timestamp() - min(created_at)) AS age FROM outbox WHERE applied_at IS NULL`,
  );
  return res.rows[0].age === null ? 0 : Number(res.rows[0].age);
}
