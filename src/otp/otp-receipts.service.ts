import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS, SMS_PROVIDER } from '../arraf-auth.constants.js';
import { deriveKey, hmacSha256, safeEqual } from '../crypto/crypto.util.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { joinRoutePath } from '../errors/arraf-auth-route-errors.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { SmsProvider } from '../sms/sms-provider.interface.js';

/** How long a receipt is remembered beyond the wait, so a late one is still seen. */
const RECEIPT_TTL_GRACE_SECONDS = 600;

const receiptKeys = {
  delivered: (messageId: string) => `otp-receipt:${messageId}`,
};

/**
 * Delivery receipts of WhatsApp codes (`otp.fallbackAfter`): the secret receipt URL the vendor posts
 * to, the receipts it posts (kept in the rate-limit store, so any instance may receive them), and the
 * wait after which a code with no "delivered" receipt goes out on the next channel. The wait is a
 * timer in the instance that sent the code: a restart forgets it (the person can ask again).
 *
 * The URL's secret is the provider's own `receiptToken` when it has one (a vendor whose webhook is
 * set once in its console: Unifonic, Taqnyat), otherwise a token derived from `secret` and handed to
 * the vendor with each message (Twilio's `StatusCallback`). A receipt with any other token is refused,
 * so nobody without the secret can cancel a fallback.
 */
@Injectable()
export class OtpReceipts implements OnModuleDestroy {
  private readonly logger = new Logger('ArrafAuthOtp');
  private readonly waiting = new Map<string, { timer: NodeJS.Timeout; fallback: () => Promise<void> }>();

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    @Inject(SMS_PROVIDER) private readonly provider: SmsProvider,
    private readonly limiter: RateLimiter,
    private readonly appConfig: ApplicationConfig,
  ) {}

  /** Whether receipts decide the fallback: `otp.fallbackAfter` is set and the provider reads receipts. */
  get enabled(): boolean {
    return this.options.otp.fallbackAfter !== undefined && typeof this.provider.readReceipts === 'function';
  }

  /**
   * The receipt URL to hand the vendor, under the application's global prefix (`setGlobalPrefix`);
   * it holds a secret: do not log it.
   */
  callbackUrl(): string | undefined {
    const { appUrl, routes, secrets } = this.options;
    if (!this.enabled || !appUrl) return undefined;
    const token = this.provider.receiptToken ?? this.token(secrets[0]);
    return `${appUrl}${joinRoutePath(this.appConfig.getGlobalPrefix(), routes.path, 'otp/receipts', token)}`;
  }

  /** Runs `fallback` after `otp.fallbackAfter` unless a receipt says `messageId` was delivered first. */
  watch(messageId: string, fallback: () => Promise<void>): void {
    const wait = this.options.otp.fallbackAfter;
    if (wait === undefined) return;
    const timer = setTimeout(() => void this.expire(messageId), wait * 1000);
    timer.unref();
    this.waiting.set(messageId, { timer, fallback });
  }

  /**
   * Records the receipts of a vendor post to the receipt URL; 404 `NOT_FOUND` for a wrong `token`
   * (the route does not exist for whoever does not hold it). Returns how many receipts were read.
   */
  async record(token: unknown, body: unknown): Promise<number> {
    if (!this.enabled || !this.opens(token)) throw new ArrafAuthException('NOT_FOUND');
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const receipts = this.provider.readReceipts!(fields);
    const ttl = this.options.otp.fallbackAfter! + RECEIPT_TTL_GRACE_SECONDS;
    for (const receipt of receipts) {
      if (receipt.delivered) await this.limiter.hitKey(receiptKeys.delivered(receipt.messageId), ttl);
      // A failure reported to the instance that waits needs no wait: fall back now.
      else if (this.waiting.has(receipt.messageId)) await this.expire(receipt.messageId);
    }
    return receipts.length;
  }

  onModuleDestroy(): void {
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }

  private async expire(messageId: string): Promise<void> {
    const entry = this.waiting.get(messageId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.waiting.delete(messageId);
    try {
      if (await this.limiter.peekKey(receiptKeys.delivered(messageId))) return;
      await entry.fallback();
    } catch (error) {
      this.logger.error(
        `Fallback after a missing receipt failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Whether `token` is the receipt URL's secret: the provider's own, or one derived from a secret. */
  private opens(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const own = this.provider.receiptToken;
    if (own !== undefined) return safeEqual(token, own);
    return this.options.secrets.some((s) => safeEqual(token, this.token(s)));
  }

  private token(secret: string): string {
    return hmacSha256(deriveKey(secret, 'otp-receipt-url'), 'otp-receipts');
  }
}
