// The cancel of an order or of an order list, in one PostgreSQL transaction (docs/architecture.md#the-order-pipeline):
// the request's replay marker, the target row locked (the caller's own and still open), the cancel command into
// the outbox, and the target's place command if the engine has not applied it yet (SQS FIFO keeps a group's
// order; a duplicate place is dropped by its deduplication id). Shared by OrderRepository and
// OrderListRepository.
import type { Pool, PoolClient } from 'pg';
import type { CommandMessage } from '@contracts/messages';
import type { OutboxMessage, ReplayMarker } from './order-repository';

export interface CancelTarget<T> {
  /** SELECT … FOR UPDATE of the caller's open order or list; undefined when there is none. */
  lock(c: PoolClient): Promise<T | undefined>;
  market(target: T): string;
  /** The command that placed it (`p-<orderId>` or `pl-<listId>`). */
  placeCmdId(target: T): string;
  cancel(target: T): CommandMessage;
  groupId: string;
  replay?: ReplayMarker;
}

/** The target and the messages to send, in order; 'replayed_signature' or undefined (no such open target). */
export async function recordCancel<T>(
  pool: Pool,
  t: CancelTarget<T>,
): Promise<{ target: T; messages: OutboxMessage[] } | 'replayed_signature' | undefined> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    if (t.replay) {
      const fresh = await c.query('INSERT INTO request_signatures VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        t.replay.signature,
        t.replay.expiresAtMs,
      ]);
      if (fresh.rowCount !== 1) {
        await c.query('ROLLBACK');
        return 'replayed_signature';
      }
    }
    const target = await t.lock(c);
    if (target === undefined) {
      await c.query('COMMIT'); // keeps the replay marker
      return undefined;
    }
    const market = t.market(target);
    const message = t.cancel(target);
    const body = JSON.stringify(message);
    await c.query(
      `INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (cmd_id) DO UPDATE SET applied_at = NULL, sends = 0, last_sent_at = NULL`,
      [message.cmdId, market, t.groupId, body],
    );
    const pendingPlace = await c.query<{ cmd_id: string; body: string }>(
      'SELECT cmd_id, body FROM outbox WHERE cmd_id = $1 AND applied_at IS NULL',
      [t.placeCmdId(target)],
    );
    await c.query('COMMIT');
    const messages: OutboxMessage[] = pendingPlace.rows.map((r) => ({
      cmdId: r.cmd_id,
      market,
      groupId: t.groupId,
      body: r.body,
    }));
    messages.push({ cmdId: message.cmdId, market, groupId: t.groupId, body });
    return { target, messages };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
