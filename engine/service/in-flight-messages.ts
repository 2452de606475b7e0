// The SQS messages being worked on (received, not yet deleted): each kept invisible by extending its
// visibility once a third of the timeout has passed, so a long backlog is never redelivered mid-work.
import type { CommandSource, ServiceLogger } from './ports';

export class InFlightMessages {
  private readonly receivedAt = new Map<string, number>(); // receipt handle → received (or last extended) at

  constructor(
    private readonly source: CommandSource,
    private readonly visibilitySeconds: number,
    private readonly clock: () => number,
    private readonly logger: ServiceLogger,
  ) {}

  add(receiptHandles: string[]): void {
    const now = this.clock();
    for (const h of receiptHandles) this.receivedAt.set(h, now);
  }

  remove(receiptHandles: string[]): void {
    for (const h of receiptHandles) this.receivedAt.delete(h);
  }

  /** How often `extendDue` should run. */
  get checkEveryMs(): number {
    return (this.visibilitySeconds * 1000) / 3;
  }

  async extendDue(): Promise<void> {
    const now = this.clock();
    const stale = [...this.receivedAt.entries()]
      .filter(([, at]) => now - at > this.checkEveryMs)
      .map(([handle]) => handle);
    if (stale.length === 0) return;
    try {
      await this.source.extendVisibility(stale, this.visibilitySeconds);
      for (const h of stale) this.receivedAt.set(h, now);
    } catch (err) {
      this.logger.warn('visibility extension failed', { err: String(err) });
    }
  }
}
