import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  messageIdOf,
  type VendorRequest,
  type VendorVerdict,
} from './http-sms.util.js';
import { requiredString } from './provider-options.util.js';

/** Options of {@link MsegatSmsProvider}. */
export interface MsegatSmsProviderOptions extends HttpSmsProviderOptions {
  /** The Msegat account's user name. */
  userName: string;
  /** The account's API key (not its password). */
  apiKey: string;
  /** An activated sender name (`userSender`). */
  sender: string;
}

/** Msegat's success codes: "1" for sends, "M0000" for the newer endpoints; everything else is an error code. */
const SUCCESS_CODES = new Set(['1', 'M0000']);

/**
 * Sends codes with Msegat's gateway: `POST {baseUrl}/gw/sendsms.php` with JSON
 * `{ userName, numbers, userSender, apiKey, msg, msgEncoding: 'UTF8' }` (numbers in international
 * format without + or 00). Msegat answers HTTP 200 either way; the body's `code` says what happened
 * (`1` / `M0000` success, e.g. `1060` balance is not enough, `1020` invalid login info).
 * Sources: https://msegat.docs.apiary.io and the MSEGAT Communication Platform API collection
 * (https://documenter.getpostman.com/view/39158411/2sBXwqqqD2).
 *
 * @example new MsegatSmsProvider({ userName: 'me', apiKey: process.env.MSEGAT_API_KEY!, sender: 'MyApp' })
 */
export class MsegatSmsProvider extends HttpSmsProvider {
  private readonly userName: string;
  private readonly apiKey: string;
  private readonly sender: string;

  constructor(options: MsegatSmsProviderOptions) {
    super('Msegat', options, 'https://www.msegat.com', '/gw/sendsms.php');
    this.userName = requiredString(MsegatSmsProvider.name, 'userName', options.userName);
    this.apiKey = requiredString(MsegatSmsProvider.name, 'apiKey', options.apiKey);
    this.sender = requiredString(MsegatSmsProvider.name, 'sender', options.sender);
  }

  protected request(_to: string, recipient: string, message: string): VendorRequest {
    return {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        userName: this.userName,
        numbers: recipient,
        userSender: this.sender,
        apiKey: this.apiKey,
        msg: message,
        msgEncoding: 'UTF8',
      }),
    };
  }

  protected interpret(status: number, body: Record<string, unknown>): VendorVerdict {
    const code = typeof body.code === 'string' || typeof body.code === 'number' ? String(body.code) : '';
    const detail = this.detail(code, body.message);
    const refused = this.httpFailure(status, detail);
    if (refused) return refused;
    if (!SUCCESS_CODES.has(code)) return { reason: detail || 'unexpected response' };
    return { messageId: messageIdOf(body.id) };
  }

  protected secrets(): readonly string[] {
    return [this.apiKey];
  }
}
