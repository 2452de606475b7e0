// Waits for the engine's answer to an order (FULL/RESULT responses, cancels) without a polling loop per
// request: every waiting request of the container is checked by one indexed PostgreSQL query per tick
// (`orders.last_seq` moves in the data processor's settlement transaction), with the tick growing while
// nothing is answered. One query per tick serves any number of waiting requests.
import type { Pool } from 'pg';
import { OPEN_STATUSES, type OrderRecord } from '@lambdas/shared/stores/orders';

export interface AnsweredOrders {
  answered(orderIds: number[]): Promise<OrderRecord[]>;
}

interface Waiter {
  done: (o: OrderRecord) => boolean;
  resolve: (o: OrderRecord | undefined) => void;
  until: number;
}

export class AnswerWaiter {
  private readonly waiting = new Map<number, Waiter[]>();
  private timer: NodeJS.Timeout | undefined;
  private tickMs: number;

  constructor(
    private readonly store: AnsweredOrders,
    // 5 ms at the fastest: at most ~200 checks a second whatever the load (each check serves every waiting
    // request), for at most 5 ms added to an answer; the engine's answer itself takes tens of ms to settle.
    private readonly minTickMs = 5,
    private readonly maxTickMs = 25,
  ) {
    this.tickMs = minTickMs;
  }

  /** The order once `done` holds for it, or undefined after `timeoutMs`. */
  wait(
    orderId: number,
    done: (o: OrderRecord) => boolean,
    timeoutMs: number,
  ): Promise<OrderRecord | undefined> {
    return new Promise((resolve) => {
      const list = this.waiting.get(orderId) ?? [];
      list.push({ done, resolve, until: Date.now() + timeoutMs });
      this.waiting.set(orderId, list);
      this.tickMs = this.minTickMs;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    this.timer = setTimeout(() => void this.tick(), this.tickMs);
  }

  private async tick(): Promise<void> {
    let progressed = false;
    try {
      const rows = await this.store.answered([...this.waiting.keys()]);
      for (const order of rows) {
        const list = this.waiting.get(order.orderId);
        if (!list) continue;
        const still = list.filter((w) => {
          if (!w.done(order)) return true;
          w.resolve(order);
          progressed = true;
          return false;
        });
        if (still.length > 0) this.waiting.set(order.orderId, still);
        else this.waiting.delete(order.orderId);
      }
    } catch {
      // A failed check is retried on the next tick; each request still ends at its own deadline.
    }
    const now = Date.now();
    for (const [orderId, list] of this.waiting) {
      const still = list.filter((w) => {
        if (now < w.until) return true;
        w.resolve(undefined);
        return false;
      });
      if (still.length > 0) this.waiting.set(orderId, still);
      else this.waiting.delete(orderId);
    }
    this.tickMs = progressed ? this.minTickMs : Math.min(this.maxTickMs, Math.ceil(this.tickMs * 1.5));
    this.timer = undefined;
    this.schedule();
  }
}

/**
 * Whether the engine has applied the command `cmdId`: the data processor marks its outbox row in the same
 * settlement transaction that records the engine's answer (a row gone was applied and later pruned).
 */
export async function commandApplied(pool: Pick<Pool, 'query'>, cmdId: string): Promise<boolean> {
  const res = await pool.query<{ applied: boolean }>(
    'SELECT applied_at IS NOT NULL AS applied FROM outbox WHERE cmd_id = $1',
    [cmdId],
  );
  return res.rows[0]?.applied ?? true;
}

/** The engine's answer to one amend: the order after it, and the amend's execution id if it was applied. */
export interface AmendAnswer {
  order: OrderRecord;
  /** The engine's seq of its `amended` answer to this command; undefined if it refused the amend. */
  executionId?: number;
}

export interface AmendAnswerDeps {
  answers: Pick<AnswerWaiter, 'wait'>;
  /** The amendment row that answers `cmdId` (written in the settlement transaction that applied it). */
  amendmentOf(orderId: number, cmdId: string): Promise<{ executionId: number } | undefined>;
  order(orderId: number): Promise<OrderRecord | undefined>;
  applied(cmdId: string): Promise<boolean>;
}

/**
 * Waits for the engine's answer to the amend command `cmdId` (PUT /api/v3/order/amend/keepPriority). The
 * answer is the command's own amendment row, not the order row's quantity: a later amend of the same order
 * settled in the same batch leaves the row at its own, lower quantity, and an amend to a quantity the row
 * already shows is not this one's answer. A command applied without a row was refused. Undefined after
 * `timeoutMs`.
 */
export async function waitForAmendAnswer(
  deps: AmendAnswerDeps,
  order: OrderRecord,
  newLots: number,
  cmdId: string,
  timeoutMs: number,
): Promise<AmendAnswer | undefined> {
  const deadline = Date.now() + timeoutMs;
  // Any answer moves the row: to this quantity, to a lower one (a later amend in the same batch), or closed.
  const moved = (o: OrderRecord) => o.qtyLots <= newLots || !OPEN_STATUSES.has(o.status);
  while (Date.now() < deadline) {
    const row = await deps.answers.wait(order.orderId, moved, Math.min(100, deadline - Date.now()));
    const mine = await deps.amendmentOf(order.orderId, cmdId);
    if (mine)
      return { order: row ?? (await deps.order(order.orderId)) ?? order, executionId: mine.executionId };
    if (await deps.applied(cmdId)) {
      // The row and the command's applied mark are written in one transaction: read the row once more, in
      // case that transaction committed between the two reads above.
      const late = await deps.amendmentOf(order.orderId, cmdId);
      const now = (await deps.order(order.orderId)) ?? order;
      return late ? { order: now, executionId: late.executionId } : { order: now };
    }
  }
  return undefined;
}
