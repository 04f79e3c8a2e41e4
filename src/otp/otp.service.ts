import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { maskPhone, parsePhone, toAsciiDigits } from '../phone/normalize-phone.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import type { OtpChannel } from '../sms/sms-provider.interface.js';
import { clientIpBucket } from '../rate-limit/client-ip.js';
import { accountBound, VERIFICATION_TYPES } from '../verification/verification.constants.js';
import type { VerificationFailure, VerificationPolicy } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import {
  OTP_30_DAYS_SECONDS,
  OTP_DAY_SECONDS,
  OTP_PURPOSES,
  OTP_REQUESTER_GRACE_SECONDS,
  OTP_SEND_WINDOW_SECONDS,
  type OtpPurpose,
  otpKeys,
} from './otp.constants.js';
import { OtpDelivery, OtpDeliveryFailure } from './otp-delivery.service.js';
import { parseMobile } from './phone-type.js';
import { PumpingGuard } from './pumping-guard.service.js';
import { ReviewerCodes } from './reviewer-codes.js';

/** The `verifications.type` of each purpose: a code never works for another purpose. */
const OTP_TYPES = {
  'sign-in': VERIFICATION_TYPES.otpSignIn,
  'reset-password': VERIFICATION_TYPES.otpResetPassword,
  'change-phone': VERIFICATION_TYPES.otpChangePhone,
  'account-delete': VERIFICATION_TYPES.otpAccountDelete,
} as const;

/** Options of {@link OtpService.send}. */
export interface OtpSendOptions {
  /**
   * The client's address (the platform's `request.ip`): sends and guesses are counted per number
   * and client, so one client cannot spend a number's limits for everyone. Without it every caller
   * shares one client.
   */
  ip?: string;
  /** The channel to try first (it must be in `otp.channels`). @default the first of `otp.channels` the provider declares */
  channel?: OtpChannel;
  /**
   * Count the send limits as for a real send, but issue and send nothing: for a number that must
   * not get a code (it belongs to another account) while the answer must not tell. @default false
   */
  silent?: boolean;
  /**
   * Binds the code to this account (a user id) as well as to the number: only a verify with the same
   * `account` redeems it, and it replaces the account's older codes of the purpose, whatever number
   * they went to. Send limits and guess bounds stay per number.
   */
  account?: string;
}

/** What {@link OtpService.send} did: the number (E.164 and masked) and the channel that delivered the code. */
export interface OtpSent {
  phone: string;
  maskedPhone: string;
  channel: OtpChannel;
}

/** Options of {@link OtpService.verify}. */
export interface OtpVerifyOptions {
  /** As in {@link OtpSendOptions.ip}. */
  ip?: string;
  /** Runs once the code matched, before it is consumed; when it throws, the code stays usable. */
  beforeConsume?: (phone: string) => unknown;
  /** The account the code was sent for ({@link OtpSendOptions.account}). */
  account?: string;
}

/**
 * One-time phone codes bound to a number and a purpose: picks the number, rate-limits sends per number
 * and per (number, client), passes the SMS-pumping guard ({@link PumpingGuard}), and leaves issuing and
 * checking (HMAC at rest, atomic attempt count, per-client, 24 h, 30 day and consecutive guess bounds
 * with progressive delays, single use) to {@link VerificationService} and putting the code on SMS or
 * WhatsApp to {@link OtpDelivery}: one code, one budget, whatever the channel. Reviewer numbers
 * (`otp.testNumbers`) get no message and sign in with their fixed code.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger('ArrafAuth');
  private readonly reviewers: ReviewerCodes;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly limiter: RateLimiter,
    private readonly verifications: VerificationService,
    private readonly delivery: OtpDelivery,
    private readonly guard: PumpingGuard,
  ) {
    this.reviewers = new ReviewerCodes(limiter, options.otp.maxFailuresPerDay, this.logger);
  }

  /**
   * Normalises the number, refuses numbers outside phone.allowedCountries (400 PHONE_NOT_ALLOWED) and
   * numbers that are not mobile (400 PHONE_NOT_MOBILE) before anything is sent, enforces
   * resendCooldown and maxSendsPerClientPerHour per (number, client) and maxSendsPerHour per number
   * (429 RATE_LIMITED with Retry-After), then the pumping guard (429 OTP_PREFIX_PAUSED, 503
   * OTP_BUDGET_EXHAUSTED), issues a code (the older one stops working) and sends it on the requested
   * channel, falling back once to the next; when no channel delivers → 502 SMS_FAILED with no usable
   * code left.
   *
   * @example const { maskedPhone, channel } = await otp.send('0551234567', 'sign-in', 'ar', { ip: request.ip, channel: 'whatsapp' });
   */
  async send(
    phone: unknown,
    purpose: OtpPurpose,
    locale: 'ar' | 'en' = 'ar',
    options: OtpSendOptions = {},
  ): Promise<OtpSent> {
    const policy = this.policy(purpose);
    const e164 = this.allowedNumber(phone);
    const channels = this.delivery.channelsFor(options.channel);
    const client = clientIpBucket(options.ip);
    await this.limitSends(e164, client);
    let channel = channels[0];
    if (options.silent) {
      // Nothing issued or sent: the limits above were counted like a real send's.
    } else if (this.options.otp.testNumbers.has(e164)) {
      this.logger.warn(`Reviewer number ${maskPhone(e164)} asked for a code: none sent, its fixed code applies`);
    } else {
      await this.guard.admit(e164);
      try {
        const { account } = options;
        const subject = { identifier: account === undefined ? e164 : accountBound(account, e164) };
        const deliver = async (secret: string) => {
          const pending = () => this.verifications.isPending(policy, subject, secret);
          channel = await this.delivery.deliver(e164, secret, locale, channels, pending);
        };
        await this.verifications.issue(policy, subject, {
          deliver: ({ secret }) => deliver(secret),
          ...(account === undefined ? {} : { replaceScope: account }),
        });
      } catch (error) {
        if (!(error instanceof OtpDeliveryFailure)) throw error;
        // The person may retry at once: a failed SMS does not start the cooldown.
        if (this.options.otp.resendCooldown > 0) await this.limiter.resetKey(otpKeys.cooldown(e164, client));
        throw new ArrafAuthException('SMS_FAILED');
      }
      await this.guard.delivered(e164);
    }
    // Restarted on every send, so the window follows the latest code this client asked for.
    const requester = otpKeys.requester(purpose, e164, client);
    await this.limiter.resetKey(requester);
    await this.limiter.hitKey(requester, this.options.otp.expiresIn + OTP_REQUESTER_GRACE_SECONDS);
    return { phone: e164, maskedPhone: maskPhone(e164), channel };
  }

  /**
   * Verifies and consumes (single use) the latest code for (phone, purpose); throws OTP_INVALID /
   * OTP_EXPIRED / OTP_TOO_MANY_ATTEMPTS / INVALID_INPUT. Returns the E.164 phone.
   *
   * `OTP_EXPIRED`, and `OTP_TOO_MANY_ATTEMPTS` for a used-up code, go only to the client that asked
   * for the code (it knows one is pending); any other client hears `OTP_INVALID`, so nobody learns
   * that a number has a code pending. `OTP_TOO_MANY_ATTEMPTS` from the guess bounds (this client
   * used up its guesses for the number, the number is in a progressive delay or past its 24 h, 30
   * day or consecutive bound) is counted alike for every number, pending code or not.
   *
   * The code must be exactly `otp.length` digits; Arabic-Indic digits are read as ASCII digits,
   * any other digits (fullwidth, ...) are refused with INVALID_INPUT.
   */
  async verify(phone: unknown, purpose: OtpPurpose, code: unknown, options: OtpVerifyOptions = {}): Promise<string> {
    const policy = this.policy(purpose);
    if (typeof phone !== 'string' || typeof code !== 'string' || code.length > 32)
      throw new ArrafAuthException('INVALID_INPUT');
    const digits = toAsciiDigits(code);
    if (digits.length !== policy.length || !/^[0-9]+$/.test(digits)) throw new ArrafAuthException('INVALID_INPUT');
    const e164 = parsePhone(phone, this.options.phone.defaultCountry).e164;
    const client = clientIpBucket(options.ip);
    const fixed = this.options.otp.testNumbers.get(e164);
    if (fixed !== undefined) {
      await this.reviewers.verify(e164, digits, fixed, options.beforeConsume);
      return e164;
    }

    const check = await this.verifications.redeemCode(
      policy,
      {
        identifier: options.account === undefined ? e164 : accountBound(options.account, e164),
        budgetScope: otpKeys.budgetScope(e164),
        client,
      },
      digits,
      { beforeConsume: () => options.beforeConsume?.(e164) },
    );
    if (check.ok) {
      await this.countVerified(e164);
      return e164;
    }
    throw await this.failure(check, purpose, e164, client);
  }

  /** Tells the pumping guard a code was verified; the sign-in stands even if the store fails here. */
  private async countVerified(e164: string): Promise<void> {
    try {
      await this.guard.verified(e164);
    } catch (error) {
      this.logger.error(`Could not count a verified code for the pumping guard: ${String(error)}`);
    }
  }

  /** The error of a failed check, hiding a pending code from clients that did not ask for it. */
  private async failure(
    check: VerificationFailure,
    purpose: OtpPurpose,
    e164: string,
    client: string,
  ): Promise<ArrafAuthException> {
    if (check.reason === 'budget') return tooManyRequests('OTP_TOO_MANY_ATTEMPTS', check.retryAt);
    if (check.reason === 'invalid') return new ArrafAuthException('OTP_INVALID');
    const requester = await this.limiter.peekKey(otpKeys.requester(purpose, e164, client));
    if (!requester) return new ArrafAuthException('OTP_INVALID');
    if (check.reason === 'expired') return new ArrafAuthException('OTP_EXPIRED');
    // Retry-After says when this client can have a new code sent.
    return tooManyRequests('OTP_TOO_MANY_ATTEMPTS', await this.cooldownEnd(e164, client));
  }

  /** The code policy of `purpose`, or 400 for a purpose that does not exist. */
  private policy(purpose: OtpPurpose): VerificationPolicy {
    if (!OTP_PURPOSES.includes(purpose)) throw new ArrafAuthException('INVALID_INPUT');
    const otp = this.options.otp;
    return {
      type: OTP_TYPES[purpose],
      kind: 'code',
      length: otp.length,
      ttlSeconds: otp.expiresIn,
      maxAttempts: otp.maxAttempts,
      guessLimits: {
        perClient: { limit: otp.maxFailuresPerClient, windowSeconds: OTP_DAY_SECONDS },
        perScope: [
          { limit: otp.maxFailuresPerDay, windowSeconds: OTP_DAY_SECONDS },
          { limit: otp.maxFailuresPer30Days, windowSeconds: OTP_30_DAYS_SECONDS },
        ],
        consecutive: {
          limit: otp.maxConsecutiveFailures,
          windowSeconds: OTP_30_DAYS_SECONDS,
          delayAfter: otp.delayAfterFailures,
          initialDelay: otp.initialDelay,
          maxDelay: otp.maxDelay,
        },
      },
    };
  }

  /**
   * resendCooldown and maxSendsPerClientPerHour per (number, client), then maxSendsPerHour per
   * number. In that order: a refused resend costs no quota, and a client past its own cap never
   * spends the number's, so one client cannot stop the owner's codes.
   */
  private async limitSends(e164: string, client: string): Promise<void> {
    const { resendCooldown, maxSendsPerHour, maxSendsPerClientPerHour } = this.options.otp;
    if (resendCooldown > 0) {
      const cooldown = await this.limiter.hitKey(otpKeys.cooldown(e164, client), resendCooldown);
      if (cooldown.count > 1) throw tooManyRequests('RATE_LIMITED', cooldown.resetAt);
    }
    const own = await this.limiter.hitKey(otpKeys.clientSends(e164, client), OTP_SEND_WINDOW_SECONDS);
    if (own.count > maxSendsPerClientPerHour) throw tooManyRequests('RATE_LIMITED', own.resetAt);
    const hourly = await this.limiter.hitKey(otpKeys.sends(e164), OTP_SEND_WINDOW_SECONDS);
    if (hourly.count > maxSendsPerHour) throw tooManyRequests('RATE_LIMITED', hourly.resetAt);
  }

  private async cooldownEnd(e164: string, client: string): Promise<number> {
    if (this.options.otp.resendCooldown <= 0) return Date.now();
    return (await this.limiter.peekKey(otpKeys.cooldown(e164, client)))?.resetAt ?? Date.now();
  }

  /** The number in E.164; 400 when it is not a mobile number (`PHONE_NOT_MOBILE`) of an allowed country. */
  private allowedNumber(phone: unknown): string {
    if (typeof phone !== 'string') throw new ArrafAuthException('INVALID_INPUT');
    const { e164, country } = parseMobile(phone, this.options.phone.defaultCountry);
    const allowed = this.options.phone.allowedCountries;
    if (allowed && (country === undefined || !allowed.includes(country)))
      throw new ArrafAuthException('PHONE_NOT_ALLOWED');
    return e164;
  }
}
