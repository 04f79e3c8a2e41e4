import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS, SMS_PROVIDER } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { ArrafAuthConfigError } from '../options/arraf-auth-options.resolver.js';
import { maskPhone } from '../phone/normalize-phone.js';
import { findLink, smsSegments } from '../sms/sms-segments.js';
import { type OtpChannel, providerChannels, type SmsProvider } from '../sms/sms-provider.interface.js';
import { OtpReceipts } from './otp-receipts.service.js';
import { PumpingGuard } from './pumping-guard.service.js';

/** A failed delivery on every channel tried; its message is safe to log (the code is masked). */
export class OtpDeliveryFailure extends Error {}

/**
 * Puts a code on the wire: picks the channels (the request's, then the next of `otp.channels` the
 * provider declares), renders the text for the channel and language, and sends the same code once
 * more on the next channel when the first fails. At boot it checks the texts: a link stops the boot
 * (Saudi sender-ID rules drop SMS with unregistered links) and an SMS text that needs more than one
 * part is logged as a warning with its encoding and count.
 */
@Injectable()
export class OtpDelivery implements OnModuleInit {
  private readonly logger = new Logger('ArrafAuthOtp');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    @Inject(SMS_PROVIDER) private readonly provider: SmsProvider,
    private readonly receipts: OtpReceipts,
    private readonly guard: PumpingGuard,
  ) {}

  onModuleInit(): void {
    const { otp } = this.options;
    const usable = otp.channels.filter((channel) => providerChannels(this.provider).includes(channel));
    if (usable.length === 0) {
      throw new ArrafAuthConfigError(
        'otp.channels',
        `the SMS provider declares none of ${otp.channels.join(', ')}; it declares ${providerChannels(this.provider).join(', ')}`,
      );
    }
    for (const channel of ['sms', 'whatsapp'] as const) {
      for (const locale of ['ar', 'en'] as const) this.checkText(channel, locale);
    }
    if (otp.fallbackAfter !== undefined) this.checkReceipts();
  }

  /**
   * `otp.fallbackAfter` needs receipts: a provider that reads them, and `appUrl` for the URL sent
   * with each message unless the vendor's webhook is set in its console (`receiptToken`).
   */
  private checkReceipts(): void {
    if (typeof this.provider.readReceipts !== 'function') {
      throw new ArrafAuthConfigError(
        'otp.fallbackAfter',
        'the SMS provider reads no delivery receipts (readReceipts); remove it, or use a provider that does ' +
          '(TwilioSmsProvider, or UnifonicSmsProvider/TaqnyatSmsProvider with whatsapp.receiptToken)',
      );
    }
    if (!this.options.appUrl && this.provider.receiptToken === undefined) {
      throw new ArrafAuthConfigError('otp.fallbackAfter', 'needs appUrl: the vendor posts receipts to a URL under it');
    }
  }

  /**
   * The channels to try, in order: `requested` (or the first of `otp.channels` the provider
   * declares) then at most one other. A channel missing from `otp.channels` is 400 `INVALID_INPUT`
   * naming `channel`.
   */
  channelsFor(requested: OtpChannel | undefined): OtpChannel[] {
    const configured = this.options.otp.channels;
    if (requested !== undefined && !configured.includes(requested))
      throw new ArrafAuthException('INVALID_INPUT', { field: 'channel' });
    const declared = providerChannels(this.provider);
    const order = requested === undefined ? configured : [requested, ...configured.filter((c) => c !== requested)];
    return order.filter((channel) => declared.includes(channel)).slice(0, 2);
  }

  /**
   * Sends `code` on the first of `channels`, then once on the next when that fails, and returns the
   * channel that delivered it; throws {@link OtpDeliveryFailure} when none did. A WhatsApp message
   * with no receipt within `otp.fallbackAfter` goes out once more on the next channel, if `pending`
   * still says yes then (see {@link lateSend}).
   */
  async deliver(
    e164: string,
    code: string,
    locale: 'ar' | 'en',
    channels: readonly OtpChannel[],
    pending: () => Promise<boolean>,
  ): Promise<OtpChannel> {
    let reason = 'no channel of otp.channels is available';
    for (const [index, channel] of channels.entries()) {
      const outcome = await this.attempt(e164, code, locale, channel);
      if ('failure' in outcome) {
        reason = masked(outcome.failure, code);
        this.logger.warn(`${channel} code to ${maskPhone(e164)} failed: ${reason}`);
        continue;
      }
      const next = channels[index + 1];
      if (channel === 'whatsapp' && next && outcome.messageId && this.receipts.enabled) {
        this.receipts.watch(outcome.messageId, () => this.lateSend(e164, code, locale, next, pending));
      }
      return channel;
    }
    throw new OtpDeliveryFailure(reason);
  }

  /**
   * The fallback of a WhatsApp code that got no receipt. It goes out only while that exact code is
   * still the one that works (`pending`: not verified, expired, used up or replaced by a newer code),
   * and it is a send like any other for the pumping guard: it takes a slot of the prefix's hourly cap
   * and of the daily budget, and a refusal means no message and a log line (it runs on a timer: there
   * is nobody to answer). The conversion breaker is not told again: it counts codes, and this is the
   * code it already counted, not a new one.
   */
  private async lateSend(
    e164: string,
    code: string,
    locale: 'ar' | 'en',
    channel: OtpChannel,
    pending: () => Promise<boolean>,
  ): Promise<void> {
    const to = maskPhone(e164);
    if (!(await pending())) {
      this.logger.log(
        `No delivery receipt for the WhatsApp code to ${to}, but that code is no longer pending: not resent`,
      );
      return;
    }
    try {
      await this.guard.admit(e164);
    } catch (error) {
      const why = error instanceof ArrafAuthException ? error.code : String(error);
      this.logger.warn(`No delivery receipt for the WhatsApp code to ${to}; not sent by ${channel}: ${why}`);
      return;
    }
    this.logger.warn(`No delivery receipt for the WhatsApp code to ${to}; sending it by ${channel}`);
    const late = await this.attempt(e164, code, locale, channel);
    if ('failure' in late) this.logger.warn(`${channel} code to ${to} failed: ${masked(late.failure, code)}`);
  }

  /** The text of a code message for `channel` and `locale`. */
  render(code: string, locale: 'ar' | 'en', channel: OtpChannel): string {
    const { messages, whatsappMessages, expiresIn } = this.options.otp;
    const texts = channel === 'whatsapp' && whatsappMessages ? { ...messages, ...whatsappMessages } : messages;
    const minutes = String(Math.ceil(expiresIn / 60));
    return texts[locale === 'en' ? 'en' : 'ar']
      .replaceAll('{appName}', () => this.options.appName)
      .replaceAll('{minutes}', () => minutes)
      .replaceAll('{code}', () => code);
  }

  private async attempt(
    e164: string,
    code: string,
    locale: 'ar' | 'en',
    channel: OtpChannel,
  ): Promise<{ messageId?: string } | { failure: string }> {
    try {
      const message = this.render(code, locale, channel);
      const statusCallback = channel === 'whatsapp' ? this.receipts.callbackUrl() : undefined;
      const result = await this.provider.send({
        to: e164,
        code,
        message,
        channel,
        locale,
        ...(statusCallback ? { statusCallback } : {}),
      });
      if (result?.success) return { messageId: result.messageId };
      return { failure: result?.error ?? 'the provider reported a failure' };
    } catch (error) {
      return { failure: error instanceof Error ? error.message : String(error) };
    }
  }

  private checkText(channel: OtpChannel, locale: 'ar' | 'en'): void {
    const sample = this.render('0'.repeat(this.options.otp.length), locale, channel);
    const path = channel === 'sms' || !this.options.otp.whatsappMessages ? 'otp.messages' : 'otp.whatsappMessages';
    const link = findLink(sample);
    if (link !== undefined && !this.options.otp.allowLinksInMessages) {
      throw new ArrafAuthConfigError(
        `${path}.${locale}`,
        `contains the link "${link}"; carriers drop SMS with unregistered links (Saudi sender-ID rules). ` +
          'Remove it, or set otp.allowLinksInMessages once the link is registered',
      );
    }
    if (channel !== 'sms') return;
    const { encoding, units, segments } = smsSegments(sample);
    if (segments > 1) {
      this.logger.warn(
        `${path}.${locale} needs ${segments} SMS parts (${units} ${encoding} units; one part holds ` +
          `${encoding === 'GSM-7' ? 160 : 70}): each code is billed ${segments} times. Shorten the text`,
      );
    }
  }
}

/** A provider's error text with the code masked: the code never reaches a log line. */
function masked(failure: string, code: string): string {
  return failure.split(code).join('******');
}
