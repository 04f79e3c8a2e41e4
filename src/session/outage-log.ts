import type { Logger } from '@nestjs/common';

/** How often, at most, an ongoing outage writes its summary line. */
export const OUTAGE_SUMMARY_INTERVAL_MS = 10_000;

/**
 * Keeps a database outage to a handful of log lines: the first failure in full, then at most one
 * summary per interval with the count, and one line when the database answers again. Under load
 * an outage would otherwise write one ERROR line per refused request (thousands a second).
 */
export class OutageLog {
  private failing = false;
  private startedAt = 0;
  private total = 0;
  private sinceSummary = 0;
  private lastSummaryAt = 0;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly intervalMs = OUTAGE_SUMMARY_INTERVAL_MS,
  ) {}

  /** Records one failure; logs only the first of an outage and the interval summaries. */
  failure(error: unknown): void {
    const now = Date.now();
    const message = error instanceof Error ? error.message : String(error);
    if (!this.failing) {
      this.failing = true;
      this.startedAt = this.lastSummaryAt = now;
      this.total = 1;
      this.sinceSummary = 0;
      this.logger.error(`${this.what} failed closed: ${message}`);
      return;
    }
    this.total++;
    this.sinceSummary++;
    if (now - this.lastSummaryAt >= this.intervalMs) this.summarize(now, message);
  }

  /** Records a success; after an outage, logs the recovery once. Cheap when nothing failed. */
  success(): void {
    if (!this.failing) return;
    const now = Date.now();
    if (this.sinceSummary > 0) this.summarize(now);
    this.failing = false;
    this.logger.log(
      `${this.what} works again after ${Math.round((now - this.startedAt) / 1000)} s; ${this.total} requests failed closed`,
    );
  }

  private summarize(now: number, lastMessage?: string): void {
    const seconds = Math.round((now - this.lastSummaryAt) / 1000);
    const last = lastMessage === undefined ? '' : ` (last: ${lastMessage})`;
    this.logger.error(`${this.what} still failing: ${this.sinceSummary} more failed closed in ${seconds} s${last}`);
    this.lastSummaryAt = now;
    this.sinceSummary = 0;
  }
}
