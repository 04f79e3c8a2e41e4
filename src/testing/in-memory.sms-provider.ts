import type { SmsMessage, SmsProvider, SmsSendResult } from '../sms/sms-provider.interface.js';

/**
 * Records every SMS instead of sending it, so tests can read the code. Set `failNext` to make
 * the next send fail like a vendor error.
 *
 * @example const code = sms.lastCodeFor('+966551234567');
 */
export class InMemorySmsProvider implements SmsProvider {
  readonly messages: SmsMessage[] = [];
  failNext = false;

  async send(message: SmsMessage): Promise<SmsSendResult> {
    if (this.failNext) {
      this.failNext = false;
      return { success: false, error: 'simulated failure' };
    }
    this.messages.push(message);
    return { success: true, messageId: `memory-${this.messages.length}` };
  }

  /** The most recent code sent to `to` (E.164), if any. */
  lastCodeFor(to: string): string | undefined {
    return this.messages.filter((m) => m.to === to).at(-1)?.code;
  }

  clear(): void {
    this.messages.length = 0;
  }
}
