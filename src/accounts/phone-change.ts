import { Inject, Injectable } from '@nestjs/common';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { AuthService, isUniqueViolation } from '../auth/auth.service.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { OtpService } from '../otp/otp.service.js';
import { allowedPhone } from '../password/allowed-phone.js';
import { DeliveryTimings } from '../password/timing-equalizer.js';
import { maskPhone } from '../phone/normalize-phone.js';
import type { OtpChannel } from '../sms/sms-provider.interface.js';
import { ChangeNotices } from './change-notices.js';
import type { MethodEventClient } from './method-event-log.js';
import { SignInMethodReview } from './sign-in-method-review.js';
import { SignInMethodsService } from './sign-in-methods.service.js';

/** Who asks: the client address counts for the code limits; the locale picks the SMS language. */
export interface PhoneChangeClient extends MethodEventClient {
  locale?: 'ar' | 'en';
  channel?: OtpChannel;
}

/**
 * Adding or changing the account's phone: a `change-phone` code (a sign-in or reset code never
 * works here, nor this one there), bound to the account and the new number (another account cannot
 * redeem it, even for the same number), then the code attaches it, verified. A number
 * that belongs to another account gets nothing, and the answer and its timing are the same as for
 * a free number. The previous number is told by SMS. Removing the phone goes through the last-way-in
 * check like any removal.
 */
@Injectable()
export class PhoneChange {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly auth: AuthService,
    private readonly otp: OtpService,
    private readonly methods: SignInMethodsService,
    private readonly review: SignInMethodReview,
    private readonly notices: ChangeNotices,
    private readonly timings: DeliveryTimings,
  ) {}

  /** Sends a code to `phone` for `user`; `{ maskedPhone }` whether or not one was sent. */
  async send(user: User, phone: string, client: PhoneChangeClient = {}): Promise<{ maskedPhone: string }> {
    const e164 = allowedPhone(phone, this.options.phone);
    const send = (silent: boolean) =>
      this.otp.send(e164, 'change-phone', client.locale, {
        ip: client.ip ?? undefined,
        channel: client.channel,
        silent,
        account: user.id,
      });
    const unavailable = await this.unavailable(user, e164);
    // A taken number still counts against the code limits, so a 429 does not tell it apart.
    if (unavailable) await send(true);
    await this.timings.deliverOrPad('change-phone', unavailable ? undefined : () => send(false));
    return { maskedPhone: maskPhone(e164) };
  }

  /** Attaches `phone`, proven by `code`, to `user` (verified) and tells the previous number. */
  async confirm(user: User, phone: string, code: string, client: PhoneChangeClient = {}): Promise<void> {
    const e164 = allowedPhone(phone, this.options.phone);
    await this.otp.verify(e164, 'change-phone', code, {
      ip: client.ip ?? undefined,
      account: user.id,
      beforeConsume: async () => {
        if (await this.unavailable(user, e164)) throw new ArrafAuthException('OTP_INVALID');
      },
    });
    const previous = await this.write(user, e164, client);
    if (previous !== null && previous !== e164) await this.notices.phoneReplaced(previous, client.locale);
  }

  /** Takes the phone off the account (409 `LAST_SIGN_IN_METHOD` when it is the last way in). */
  async remove(user: User, client: PhoneChangeClient = {}): Promise<void> {
    const previous = await this.methods.change(
      user.id,
      async ({ tx, user: locked, record }) => {
        if (locked.phone === null) throw new ArrafAuthException('SIGN_IN_METHOD_NOT_FOUND');
        await tx.getRepository<User>(USER_TABLE).update({ id: user.id }, { phone: null, phoneVerified: false });
        record({ type: 'method.removed', method: 'phone' });
        return locked.phoneVerified ? locked.phone : null;
      },
      client,
    );
    if (previous !== null) await this.notices.phoneReplaced(previous, client.locale);
  }

  /** Stores the proven number; returns the previous verified number, if any. */
  private async write(user: User, e164: string, client: MethodEventClient): Promise<string | null> {
    try {
      return await this.methods.change(
        user.id,
        async ({ tx, user: locked, record }) => {
          await tx.getRepository<User>(USER_TABLE).update({ id: user.id }, { phone: e164, phoneVerified: true });
          await this.review.mark(user.id, { phoneAddedAt: new Date() }, tx);
          const replaced = locked.phone !== null && locked.phone !== e164;
          record({ type: 'method.added', method: 'phone', detail: { replaced } });
          return locked.phoneVerified ? locked.phone : null;
        },
        client,
      );
    } catch (error) {
      // Taken by another account between the code and now.
      if (isUniqueViolation(error)) throw new ArrafAuthException('USER_ALREADY_EXISTS');
      throw error;
    }
  }

  /** Whether `e164` cannot become `user`'s phone: another account has it, or it already is theirs. */
  private async unavailable(user: User, e164: string): Promise<boolean> {
    const owner = await this.auth.findUserByPhone(e164);
    return owner !== null && (owner.id !== user.id || owner.phoneVerified);
  }
}
