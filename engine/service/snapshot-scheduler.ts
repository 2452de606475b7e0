// Snapshots of the engine service: one every N applied commands, taken only when everything applied is in
// the event log (a snapshot must never run ahead of it), one at a time, and a final one on a clean stop.
import type { ServiceLogger, ServiceSnapshot, SnapshotStore } from './ports';

export class SnapshotScheduler {
  private commandsSince = 0;
  private inProgress: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      store: SnapshotStore;
      every: number;
      logger: ServiceLogger;
      /** The service's state now, captured synchronously (engine, applied ids, stream positions). */
      capture(): ServiceSnapshot;
      /** Events applied but not yet in the event log. */
      pendingEvents(): number;
    },
  ) {}

  commandApplied(): void {
    this.commandsSince++;
  }

  /** Starts a snapshot in the background when one is due and allowed. */
  maybeTake(): void {
    if (this.commandsSince < this.opts.every || this.inProgress) return;
    if (this.opts.pendingEvents() > 0) return;
    this.inProgress = this.take()
      .catch((err: unknown) => this.opts.logger.warn('snapshot failed', { err: String(err) }))
      .finally(() => {
        this.inProgress = undefined;
      });
  }

  async take(): Promise<void> {
    // Captured synchronously so it matches exactly the published events and stream positions.
    const snapshot = this.opts.capture();
    this.commandsSince = 0;
    await this.opts.store.save(snapshot);
    this.opts.logger.info('snapshot saved', { shard: snapshot.shard, takenAt: snapshot.takenAt });
  }

  /** Resolves once a snapshot in progress (if any) has finished. */
  async settled(): Promise<void> {
    await this.inProgress;
  }
}
