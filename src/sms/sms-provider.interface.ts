/** How a one-time code reaches the phone: a text message, or a WhatsApp authentication template. */
export type OtpChannel = 'sms' | 'whatsapp';

/** Every channel the library knows, in the order of {@link OtpChannel}. */
export const OTP_CHANNELS: readonly OtpChannel[] = ['sms', 'whatsapp'];

/**
 * One code to send: `to` in E.164, the one-time `code`, and the full `message` text. `channel` says
 * which channel to use (`'sms'` when absent, for providers written before channels existed) and
 * `locale` which language the person reads.
 */
export interface SmsMessage {
  to: string;
  code: string;
  message: string;
  /** @default 'sms' */
  channel?: OtpChannel;
  /** The language of `message` (and of a WhatsApp template). @default 'ar' */
  locale?: 'ar' | 'en';
  /**
   * Where the vendor should post this message's delivery receipt, when `otp.fallbackAfter` waits
   * for one (a provider that reads receipts passes it on, e.g. Twilio's `StatusCallback`; vendors
   * with a console-configured webhook ignore it).
   */
  statusCallback?: string;
}

/** One delivery receipt a vendor posted: the message it is about and whether it reached the phone. */
export interface DeliveryReceipt {
  messageId: string;
  delivered: boolean;
}

/** What a provider reports back. A failed send becomes a 502 `SMS_FAILED` and leaves no usable code. */
export interface SmsSendResult {
  success: boolean;
  messageId?: string;
  error?: string;
}

/**
 * Sends one-time codes. Provide an implementation with the `sms` option or the `SMS_PROVIDER` token.
 * A provider that can also send over WhatsApp lists it in `channels`; one without `channels` is
 * SMS-only and is never asked for another channel.
 */
export interface SmsProvider {
  send(message: SmsMessage): Promise<SmsSendResult>;
  /** The channels this provider can send on. @default ['sms'] */
  readonly channels?: readonly OtpChannel[];
  /**
   * Reads the receipts in a body the vendor posted to `statusCallback` (form fields or JSON, as an
   * object). A provider with this method lets `otp.fallbackAfter` resend a WhatsApp code by SMS
   * when no receipt says it was delivered in time.
   */
  readReceipts?(body: Record<string, unknown>): DeliveryReceipt[];
  /**
   * The secret path segment of the receipt URL, for a vendor whose delivery webhook is one URL set
   * in its console rather than a URL sent with each message (Unifonic, Taqnyat): the vendor posts to
   * `{appUrl}/{global prefix}/{routes.path}/otp/receipts/{receiptToken}`, and only that token opens
   * the route. Without it the module derives the token from `secret` and hands the URL to the vendor
   * with each message (`statusCallback`, Twilio).
   */
  readonly receiptToken?: string;
}

/** The channels `provider` declares, `['sms']` when it declares none. */
export function providerChannels(provider: SmsProvider): readonly OtpChannel[] {
  const declared = provider.channels;
  if (!Array.isArray(declared)) return ['sms'];
  return OTP_CHANNELS.filter((channel) => declared.includes(channel));
}
