import { setTimeout as sleep } from 'node:timers/promises';

/** Weight of the newest sample in the moving average. */
const SMOOTHING = 0.2;
/** Never pad longer than this, whatever a slow delivery once took. */
const MAX_PAD_MS = 5_000;

/**
 * Makes "nothing to do" answers take about as long as real work, so the response time of
 * forgot-password does not tell whether an account exists. `measure` records how long the real
 * work (storing a code and handing it to the mail or SMS sender) takes, as a moving average;
 * `pad` waits that long on the path where there is nothing to send.
 */
export class TimingEqualizer {
  private averageMs: number | undefined;

  async measure<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const elapsed = performance.now() - started;
      this.averageMs = this.averageMs === undefined ? elapsed : this.averageMs + SMOOTHING * (elapsed - this.averageMs);
    }
  }

  async pad(): Promise<void> {
    if (this.averageMs === undefined) return;
    await sleep(Math.min(MAX_PAD_MS, this.averageMs));
  }
}
