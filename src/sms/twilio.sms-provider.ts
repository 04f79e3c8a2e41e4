import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  optionalString,
  providerOptions,
  requiredString,
  type VendorRequest,
  type VendorVerdict,
} from './http-sms.util.js';

/** Options of {@link TwilioSmsProvider}. Give exactly one of `from` and `messagingServiceSid`. */
export interface TwilioSmsProviderOptions extends HttpSmsProviderOptions {
  /** Account SID (`AC…`); also the Basic-auth user name. */
  accountSid: string;
  /** The account's auth token; the Basic-auth password. */
  authToken: string;
  /** Sender: a Twilio number in E.164 or an approved alphanumeric sender ID. */
  from?: string;
  /** Sender: a Messaging Service (`MG…`) that picks the number itself. */
  messagingServiceSid?: string;
}

/** The Account SID, checked before the URL is built from it. */
function accountSidOf(options: TwilioSmsProviderOptions): string {
  const name = TwilioSmsProvider.name;
  const accountSid = requiredString(name, 'accountSid', providerOptions(name, options).accountSid);
  // Catches the SID and the token swapped, which would otherwise only show up as 401s in production.
  if (!/^AC[0-9a-zA-Z]{32}$/.test(accountSid)) {
    throw new Error(`${name}: option "accountSid" must be an Account SID (AC followed by 32 characters)`);
  }
  return accountSid;
}

/**
 * Sends codes with Twilio's Programmable Messaging API:
 * `POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth
 * `AccountSid:AuthToken`, form-encoded `To` (E.164 with +), `From` or `MessagingServiceSid`, `Body`;
 * a send answers 201 with the Message resource (`sid`), an error 4xx/5xx `{ code, message, more_info, status }`.
 * Source: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 *
 * @example new TwilioSmsProvider({ accountSid: 'AC…', authToken: process.env.TWILIO_AUTH_TOKEN!, from: '+15017122661' })
 */
export class TwilioSmsProvider extends HttpSmsProvider {
  private readonly authToken: string;
  private readonly sender: { From: string } | { MessagingServiceSid: string };
  private readonly authorization: string;

  constructor(options: TwilioSmsProviderOptions) {
    const accountSid = accountSidOf(options);
    super(
      'Twilio',
      options,
      'https://api.twilio.com',
      `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
    );
    const name = TwilioSmsProvider.name;
    this.authToken = requiredString(name, 'authToken', options.authToken);
    const from = optionalString(name, 'from', options.from);
    const messagingServiceSid = optionalString(name, 'messagingServiceSid', options.messagingServiceSid);
    if ((from === undefined) === (messagingServiceSid === undefined)) {
      throw new Error(`${name}: give exactly one of the options "from" and "messagingServiceSid"`);
    }
    this.sender = from !== undefined ? { From: from } : { MessagingServiceSid: messagingServiceSid! };
    this.authorization = `Basic ${Buffer.from(`${accountSid}:${this.authToken}`).toString('base64')}`;
  }

  protected request(to: string, _recipient: string, message: string): VendorRequest {
    return {
      headers: { Authorization: this.authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: to, ...this.sender, Body: message }).toString(),
    };
  }

  protected interpret(status: number, body: Record<string, unknown>): VendorVerdict {
    // Twilio's messages quote the number ("The 'To' number +9665… is not valid"); vendorReason masks it.
    const refused = this.httpFailure(status, this.detail(body.code, body.message));
    if (refused) return refused;
    if (typeof body.sid !== 'string') return { reason: 'unexpected response' };
    return { messageId: body.sid };
  }

  protected secrets(): readonly string[] {
    return [this.authToken];
  }
}
