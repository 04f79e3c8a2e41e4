/** One SMS to send: `to` in E.164, the one-time `code`, and the full `message` text. */
export interface SmsMessage {
  to: string;
  code: string;
  message: string;
}

/** What a provider reports back. A failed send becomes a 502 `SMS_FAILED` and leaves no usable code. */
export interface SmsSendResult {
  success: boolean;
  messageId?: string;
  error?: string;
}

/** Sends one-time codes. Provide an implementation with the `sms` option or the `SMS_PROVIDER` token. */
export interface SmsProvider {
  send(message: SmsMessage): Promise<SmsSendResult>;
}
