import { Logger } from '@nestjs/common';
import { maskPhone } from '../phone/normalize-phone.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.interface.js';

/**
 * Development provider: logs one line per message with the masked number and the code through
 * Nest's Logger instead of sending an SMS. Never use it in production.
 */
export class ConsoleSmsProvider implements SmsProvider {
  private readonly logger = new Logger('ArrafAuthSms');

  async send({ to, code }: SmsMessage): Promise<SmsSendResult> {
    this.logger.log(`SMS to ${maskPhone(to)}: code ${code}`);
    return { success: true };
  }
}
