import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';

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

/**
 * The answer timing of the flows that must not tell whether an address is someone's (forgot
 * password, adding an email or a phone): one {@link TimingEqualizer} per flow, and the one place
 * that decides between delivering and padding.
 */
@Injectable()
export class DeliveryTimings {
  private readonly flows = new Map<string, TimingEqualizer>();

  /**
   * Runs `deliver` when there is something to send, timed for `flow`; without it, waits about as
   * long as `flow`'s deliveries take, so the answer comes after the same time either way.
   */
  async deliverOrPad(flow: string, deliver: (() => Promise<unknown>) | undefined): Promise<void> {
    let timing = this.flows.get(flow);
    if (!timing) this.flows.set(flow, (timing = new TimingEqualizer()));
    if (deliver) await timing.measure(deliver);
    else await timing.pad();
  }
}
