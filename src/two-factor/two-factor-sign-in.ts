import { Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import { SignIn } from '../controllers/sign-in.interceptor.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { CompletedSignIn } from './two-factor-pending.service.js';
import { TwoFactorService } from './two-factor.service.js';

/**
 * The edge's answer when a pending sign-in is completed, whichever second factor completed it (a
 * code, a backup code, a passkey): a {@link SignIn} with the first factor's method and no new pending
 * step and the second factor the `sign_in.succeeded` event records (`totp`, `backup_code`, `passkey`,
 * with the first as `detail.firstFactor`); the session is recorded as having passed a second factor,
 * and the phone hook the first step deferred runs.
 */
@Injectable()
export class TwoFactorSignIn {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly auth: AuthService,
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
  ) {}

  completed({ user, method, secondFactor }: CompletedSignIn): SignIn {
    return new SignIn(user, method, {
      secondFactorPassed: true,
      secondFactor,
      after: async (session) => {
        await this.twoFactor.recordProof(session.id);
        // The phone code was proven on the first step; its hook runs once the sign-in exists.
        if (method === 'phone' && user.phone !== null) {
          const context = { user, session, phone: user.phone, isNewUser: false };
          await this.auth.runHook(this.options.hooks.afterOtpVerified, context);
        }
      },
    });
  }
}
