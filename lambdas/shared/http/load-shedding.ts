// Overload is an answer, not a fault (docs/operations.md#overload-and-rate-limits): past capacity the API
// refuses new work with Binance's 503 / -1008 before any internal timeout, so a client sees a clear
// "try again" instead of a late -1021 (its recvWindow expired while queued) or a -1000.
import { BinanceError } from './binance-error';

export const overloaded = (retryAfterSeconds = 1) =>
  new BinanceError(
    503,
    -1008,
    'Server is currently overloaded with other requests, please try again in a few minutes.',
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );

export interface SheddingLimits {
  /** Orders of this container waiting for or inside their accept transaction. */
  maxPendingOrders: number;
  /** Requests of this container waiting for a database connection. */
  maxDbWaiting: number;
  /** Age of the oldest engine command not yet applied: the engine or settlement is behind. */
  maxBacklogSeconds: number;
}

export interface LoadSignals {
  /** Clients waiting for a connection of this container's pool (pg `Pool.waitingCount`). */
  dbWaiting(): number;
  /** Age in seconds of the oldest outbox command the engine has not applied; may be cached. */
  backlogSeconds(): number;
}

export type ShedReason = 'pending-orders' | 'db-waiting' | 'backlog';

/**
 * Admission for order placement, the work that costs a transaction, a send and an engine command.
 * Reads, cancels and market data are not shed here: cancels free funds and capacity.
 */
export class OrderAdmission {
  private pending = 0;

  constructor(
    private readonly limits: SheddingLimits,
    private readonly signals: LoadSignals,
    private readonly onShed: (reason: ShedReason) => void = () => undefined,
  ) {}

  get pendingOrders(): number {
    return this.pending;
  }

  /** Runs `accept` if the pipeline has room, else throws 503 / -1008 without touching anything. */
  async admit<T>(accept: () => Promise<T>): Promise<T> {
    const reason = this.shedReason();
    if (reason) {
      this.onShed(reason);
      throw overloaded(reason === 'backlog' ? 5 : 1);
    }
    this.pending++;
    try {
      return await accept();
    } finally {
      this.pending--;
    }
  }

  private shedReason(): ShedReason | undefined {
    if (this.pending >= this.limits.maxPendingOrders) return 'pending-orders';
    if (this.signals.dbWaiting() >= this.limits.maxDbWaiting) return 'db-waiting';
    if (this.signals.backlogSeconds() > this.limits.maxBacklogSeconds) return 'backlog';
    return undefined;
  }
}

/**
 * A value refreshed in the background at most every `everyMs`: reading it never waits for the query, so
 * the signal costs the request path nothing. A failed refresh keeps the last value.
 */
export class BackgroundValue {
  private value = 0;
  private refreshedAt = -Infinity;
  private refreshing = false;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly everyMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get(): number {
    const now = this.clock();
    if (!this.refreshing && now - this.refreshedAt >= this.everyMs) {
      this.refreshing = true;
      this.refreshedAt = now;
      this.read()
        .then((v) => (this.value = v))
        .catch(() => undefined)
        .finally(() => (this.refreshing = false));
    }
    return this.value;
  }
}
