import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE, SMS_PROVIDER } from '../arraf-auth.constants.js';
import { hmacSha256, randomDigits, randomId, safeEqual } from '../crypto/crypto.util.js';
import { Verification } from '../entities/verification.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { maskPhone, parsePhone, toAsciiDigits } from '../phone/normalize-phone.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.interface.js';
import type { SmsProvider } from '../sms/sms-provider.interface.js';
import {
  OTP_FAILURE_BUDGET_FACTOR,
  OTP_FAILURE_WINDOW_SECONDS,
  OTP_PURPOSES,
  OTP_SEND_WINDOW_SECONDS,
  type OtpPurpose,
  otpKeys,
} from './otp.constants.js';

/**
 * Sends and verifies one-time SMS codes bound to a number and a purpose. Codes come from
 * `crypto.randomInt`; only an HMAC of purpose, number and code is stored; every guess increments
 * the row's counter atomically in the database before it is compared, and a code is consumed by
 * a conditional DELETE, so parallel requests can neither exceed `maxAttempts` nor use a code twice.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger('ArrafAuth');
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    @Inject(SMS_PROVIDER) private readonly sms: SmsProvider,
    @Inject(RATE_LIMIT_STORE) private readonly limits: RateLimitStore,
    private readonly dataSource: DataSource,
  ) {
    this.limiter = new RateLimiter(limits, options);
  }

  /**
   * Normalises the number, refuses numbers outside phone.allowedCountries (400 PHONE_NOT_ALLOWED)
   * before anything is sent, enforces resendCooldown and maxSendsPerHour per number (429
   * RATE_LIMITED with Retry-After), stores only HMAC(secret, purpose|phone|code), sends via
   * SMS_PROVIDER; SMS failure → 502 SMS_FAILED and the new code is deleted.
   *
   * @example const { maskedPhone } = await otp.send('0551234567', 'sign-in', 'ar');
   */
  async send(
    phone: unknown,
    purpose: OtpPurpose,
    locale: 'ar' | 'en' = 'ar',
  ): Promise<{ phone: string; maskedPhone: string }> {
    assertPurpose(purpose);
    const e164 = this.allowedNumber(phone);
    const { resendCooldown, maxSendsPerHour, length, expiresIn } = this.options.otp;

    // The cooldown is checked first so a refused resend does not also use up the hourly quota.
    if (resendCooldown > 0) {
      const cooldown = await this.limits.hit(otpKeys.cooldown(e164), resendCooldown);
      if (cooldown.count > 1) throw tooManyRequests('RATE_LIMITED', cooldown.resetAt);
    }
    const hourly = await this.limits.hit(otpKeys.sends(e164), OTP_SEND_WINDOW_SECONDS);
    if (hourly.count > maxSendsPerHour) throw tooManyRequests('RATE_LIMITED', hourly.resetAt);

    const code = randomDigits(length);
    const repository = this.dataSource.getRepository(Verification);
    const type = verificationType(purpose);
    const now = Date.now();
    // A new code replaces the old one: only the latest code for (number, purpose) can be used.
    await repository.delete({ identifier: e164, type });
    const row = repository.create({
      id: randomId(),
      identifier: e164,
      type,
      valueHash: this.hash(this.options.secrets[0], purpose, e164, code),
      expiresAt: new Date(now + expiresIn * 1000),
      attempts: 0,
      createdAt: new Date(now),
    });
    await repository.insert(row);

    const message = this.message(code, locale);
    let failure: string | undefined;
    try {
      const result = await this.sms.send({ to: e164, code, message });
      if (!result?.success) failure = result?.error ?? 'the provider reported a failure';
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (failure !== undefined) {
      // No usable code may outlive a failed send, and the person may retry at once.
      await repository.delete({ id: row.id });
      if (resendCooldown > 0) await this.limits.reset(otpKeys.cooldown(e164));
      this.logger.warn(`SMS to ${maskPhone(e164)} failed: ${failure.split(code).join('******')}`);
      throw new ArrafAuthException('SMS_FAILED');
    }
    return { phone: e164, maskedPhone: maskPhone(e164) };
  }

  /**
   * Verifies and consumes (single use) the latest code for (phone, purpose); throws OTP_INVALID /
   * OTP_EXPIRED / OTP_TOO_MANY_ATTEMPTS / INVALID_INPUT. Returns the E.164 phone.
   *
   * The code must be exactly `otp.length` digits; Arabic-Indic digits are read as ASCII digits,
   * any other digits (fullwidth, ...) are refused with INVALID_INPUT.
   */
  async verify(phone: unknown, purpose: OtpPurpose, code: unknown): Promise<string> {
    assertPurpose(purpose);
    if (typeof phone !== 'string' || typeof code !== 'string' || code.length > 32)
      throw new ArrafAuthException('INVALID_INPUT');
    const digits = toAsciiDigits(code);
    if (digits.length !== this.options.otp.length || !/^[0-9]+$/.test(digits))
      throw new ArrafAuthException('INVALID_INPUT');
    const e164 = parsePhone(phone, this.options.phone.defaultCountry).e164;

    const { maxAttempts } = this.options.otp;
    const budget = OTP_FAILURE_BUDGET_FACTOR * maxAttempts;
    const failureKey = otpKeys.failures(e164);
    const spent = await this.limits.peek(failureKey);
    if (spent && spent.count >= budget) throw tooManyRequests('OTP_TOO_MANY_ATTEMPTS', spent.resetAt);

    const repository = this.dataSource.getRepository(Verification);
    const row = await repository.findOne({
      where: { identifier: e164, type: verificationType(purpose) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    if (!row) throw new ArrafAuthException('OTP_INVALID');
    if (row.expiresAt.getTime() <= Date.now()) {
      await repository.delete({ id: row.id });
      throw new ArrafAuthException('OTP_EXPIRED');
    }

    // Count the guess in the database before looking at it: concurrent guesses serialise on the
    // row, so no more than maxAttempts of them are ever compared.
    const counted = await repository
      .createQueryBuilder()
      .update(Verification)
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND attempts < :max', { id: row.id, max: maxAttempts })
      .execute();
    if (counted.affected !== 1) throw await this.attemptsExhausted(e164);

    // Reserve a slot of the hourly budget before comparing, so parallel guesses across resends
    // cannot exceed it either. A correct code also takes a slot; it ends the flow, so that costs
    // an honest person at most one slot per code.
    const slot = await this.limits.hit(failureKey, OTP_FAILURE_WINDOW_SECONDS);
    if (slot.count > budget) throw tooManyRequests('OTP_TOO_MANY_ATTEMPTS', slot.resetAt);

    // Every configured secret is tried (rotation), without stopping at the first match.
    let matches = false;
    for (const secret of this.options.secrets) {
      matches = safeEqual(this.hash(secret, purpose, e164, digits), row.valueHash) || matches;
    }
    if (!matches) throw new ArrafAuthException('OTP_INVALID');

    // Single use even when the same correct code arrives many times at once: one DELETE wins.
    const consumed = await repository
      .createQueryBuilder()
      .delete()
      .from(Verification)
      .where('id = :id', { id: row.id })
      .execute();
    if (consumed.affected !== 1) throw new ArrafAuthException('OTP_INVALID');
    return e164;
  }

  /**
   * Counts one request to an OTP route from the client's address (IPv6 per /64) against
   * `rateLimit.limits['otp-send:ip']` / `['otp-verify:ip']` and throws 429 `RATE_LIMITED` with
   * Retry-After past the limit. The per-number limits of `send` and `verify` apply besides this one.
   */
  async limitClient(route: 'send' | 'verify', ip: string | undefined): Promise<void> {
    await this.limiter.consumeClient(route === 'send' ? 'otp-send:ip' : 'otp-verify:ip', ip);
  }

  /** The number in E.164, or 400 when it is not a mobile number of an allowed country. */
  private allowedNumber(phone: unknown): string {
    if (typeof phone !== 'string') throw new ArrafAuthException('INVALID_INPUT');
    const { e164, country } = parsePhone(phone, this.options.phone.defaultCountry);
    const allowed = this.options.phone.allowedCountries;
    if (allowed && (country === undefined || !allowed.includes(country)))
      throw new ArrafAuthException('PHONE_NOT_ALLOWED');
    return e164;
  }

  /** 429 for a code whose guesses are used up; Retry-After says when a new code can be sent. */
  private async attemptsExhausted(e164: string): Promise<ArrafAuthException> {
    const cooldown = this.options.otp.resendCooldown > 0 ? await this.limits.peek(otpKeys.cooldown(e164)) : null;
    return tooManyRequests('OTP_TOO_MANY_ATTEMPTS', cooldown?.resetAt ?? Date.now());
  }

  private hash(secret: string, purpose: OtpPurpose, e164: string, code: string): string {
    return hmacSha256(secret, `arraf-auth:otp|${purpose}|${e164}|${code}`);
  }

  private message(code: string, locale: 'ar' | 'en'): string {
    const template = this.options.otp.messages[locale === 'en' ? 'en' : 'ar'];
    const minutes = String(Math.ceil(this.options.otp.expiresIn / 60));
    return template
      .replaceAll('{appName}', () => this.options.appName)
      .replaceAll('{minutes}', () => minutes)
      .replaceAll('{code}', () => code);
  }
}

function verificationType(purpose: OtpPurpose): string {
  return `otp:${purpose}`;
}

function assertPurpose(purpose: OtpPurpose): void {
  if (!OTP_PURPOSES.includes(purpose)) throw new ArrafAuthException('INVALID_INPUT');
}
