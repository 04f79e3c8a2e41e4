import { Logger } from '@nestjs/common';
import { maskPhone } from '../phone/normalize-phone.js';
import type { OtpChannel, SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.interface.js';

/** Options of {@link ConsoleSmsProvider}. */
export interface ConsoleSmsProviderOptions {
  /**
   * Lets an application with `NODE_ENV=production` boot with this provider, e.g. a staging server whose
   * testers read their codes from its log. Without it such a boot stops: live sign-in codes would
   * otherwise end up in production logs.
   * @default false
   */
  allowInProduction?: boolean;
}

/**
 * Development provider: logs one line per message with the number and the code through Nest's
 * Logger instead of sending an SMS. In development (`NODE_ENV` unset or `development`) the whole
 * number is shown, so a developer with two test numbers can tell their codes apart; under any other
 * `NODE_ENV` (`test`, whose logs CI keeps, or `production`, allowed only with `allowInProduction`)
 * it is masked as `+9665****4567`. It takes both channels and names the one used
 * (`SMS to …` / `WhatsApp to …`). Never use it for real users.
 *
 * @example new ConsoleSmsProvider() // development
 * @example new ConsoleSmsProvider({ allowInProduction: true }) // a staging server
 */
export class ConsoleSmsProvider implements SmsProvider {
  readonly allowInProduction: boolean;
  readonly channels: readonly OtpChannel[] = ['sms', 'whatsapp'];
  private readonly logger = new Logger('ArrafAuthSms');

  constructor(options: ConsoleSmsProviderOptions = {}) {
    this.allowInProduction = options.allowInProduction === true;
  }

  async send({ to, code, channel }: SmsMessage): Promise<SmsSendResult> {
    const env = process.env.NODE_ENV;
    const shown = env === undefined || env === '' || env === 'development' ? to : maskPhone(to);
    this.logger.log(`${channel === 'whatsapp' ? 'WhatsApp' : 'SMS'} to ${shown}: code ${code}`);
    return { success: true };
  }
}
