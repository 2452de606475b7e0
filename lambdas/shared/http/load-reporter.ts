// Says when the API starts refusing work, without a line per refused request: a CloudWatch metric per
// refusal (EMF: ShedRequests, RateLimitedRequests; alarm Api-LoadShedding in docs/deploy.md) and one
// warning when shedding starts, then at most one summary every few seconds while it lasts.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from '../powertools';

const SUMMARY_EVERY_MS = 5_000;

// Created on first use, not at import: the environment that configures it (POWERTOOLS_METRICS_DISABLED,
// POWERTOOLS_SERVICE_NAME) may be set after this module loads (the local exchange sets it at start).
let metrics: Metrics | undefined;

class LoadReporter {
  private shedSince = 0;
  private shedCount = 0;
  private lastReport = 0;
  private readonly reasons = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** When this container last refused work as overloaded (ms; 0 if never). */
  lastShedAt = 0;

  shed(reason: string): void {
    this.count('ShedRequests');
    const now = this.clock();
    this.lastShedAt = now;
    this.shedCount++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    if (this.shedSince === 0 || now - this.lastReport > 4 * SUMMARY_EVERY_MS) {
      this.shedSince = now;
      this.lastReport = now;
      logger.warn('overloaded: refusing new orders with 503/-1008', { reason });
    } else if (now - this.lastReport >= SUMMARY_EVERY_MS) {
      logger.warn('still overloaded: new orders refused with 503/-1008', {
        refused: this.shedCount,
        reasons: Object.fromEntries(this.reasons),
        forMs: now - this.shedSince,
      });
      this.lastReport = now;
    } else return;
    this.shedCount = 0;
    this.reasons.clear();
  }

  rateLimited(): void {
    this.count('RateLimitedRequests');
  }

  private count(name: string): void {
    metrics ??= new Metrics({ namespace: 'Cirrus' });
    metrics.addMetric(name, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
}

export const loadReporter = new LoadReporter();
