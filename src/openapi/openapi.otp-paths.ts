import type { PathContext, Paths } from './openapi.paths.js';
import { body, EDGE_ERRORS, errors, ok, ref, str } from './openapi.schemas.js';
import { signInAnswers } from './openapi.responses.js';

/** What a route that sends a phone code can answer besides success. */
export const PHONE_SEND_ERRORS = [
  'INVALID_INPUT',
  'INVALID_PHONE',
  'PHONE_NOT_ALLOWED',
  'PHONE_NOT_MOBILE',
  ...EDGE_ERRORS,
  'OTP_PREFIX_PAUSED',
  'SMS_FAILED',
  'OTP_BUDGET_EXHAUSTED',
] as const;

/** The phone code routes. */
export function otpPaths(context: PathContext): Paths {
  const { prefix, origin, operation } = context;
  return {
    [`${prefix}/otp/send`]: {
      post: operation('otpSend', 'Send a sign-in code by SMS or WhatsApp', {
        description:
          'Rate limited per number and per client; mobile numbers only; sends are capped per number prefix, ' +
          'paused for a prefix whose codes are rarely verified, and bounded by a daily budget (SMS-pumping guard). ' +
          `The same code falls back once to the next channel. ${origin}`,
        requestBody: body(ref('ArrafAuthOtpSendBody')),
        responses: {
          200: ok('Code sent; the number is masked and the channel named.', ref('ArrafAuthOtpSent')),
          ...errors(...PHONE_SEND_ERRORS),
        },
      }),
    },
    ...otpReceiptPaths(context),
    [`${prefix}/otp/verify`]: {
      post: operation('otpVerify', 'Sign in with the SMS code', {
        description: 'Creates the account on first sign-in and sets the session cookie.',
        requestBody: body(ref('ArrafAuthOtpVerifyBody')),
        responses: signInAnswers(200, 'Signed in.', ref('ArrafAuthOtpVerifyResult'), [
          'INVALID_PHONE',
          'OTP_INVALID',
          'OTP_EXPIRED',
          'OTP_TOO_MANY_ATTEMPTS',
        ]),
      }),
    },
  };
}

/** Where the SMS/WhatsApp vendor posts delivery receipts (`otp.fallbackAfter`). */
function otpReceiptPaths({ prefix, operation }: PathContext): Paths {
  return {
    [`${prefix}/otp/receipts/{token}`]: {
      post: operation('otpReceipts', 'Delivery receipts from the SMS/WhatsApp vendor', {
        description:
          'Where the vendor posts delivery receipts when `otp.fallbackAfter` is set: Twilio status callbacks ' +
          '(`StatusCallback`), Unifonic and Taqnyat WhatsApp delivery webhooks (`whatsapp.receiptToken`). ' +
          'The secret token in the URL authenticates the vendor; no Origin check; rate limited per address.',
        parameters: [
          { name: 'token', in: 'path', required: true, description: 'The receipt URL secret.', schema: str({}) },
        ],
        requestBody: {
          required: false,
          content: {
            'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: true } },
            'application/json': { schema: { type: 'object', additionalProperties: true } },
          },
        },
        responses: {
          200: ok('Receipts recorded.', {
            type: 'object',
            properties: { received: { type: 'integer' } },
            required: ['received'],
          }),
          ...errors('NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
        },
      }),
    },
  };
}
