import type { AuthService } from '../auth/auth.service.js';
import { SignIn } from '../controllers/sign-in.interceptor.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { CompletedSignIn } from './two-factor-pending.service.js';
import type { TwoFactorService } from './two-factor.service.js';

/** What {@link completedSignIn} needs from the controller that completes a pending sign-in. */
export interface CompletedSignInDeps {
  twoFactor: TwoFactorService;
  auth: AuthService;
  options: ResolvedArrafAuthOptions;
}

/**
 * The sign-in a completed pending state becomes, whichever second factor completed it (a code, a
 * backup code, a passkey): the first factor's method, no new pending step, the session recorded as
 * having passed a second factor, and the phone hook the first step deferred.
 */
export function completedSignIn({ user, method }: CompletedSignIn, deps: CompletedSignInDeps): SignIn {
  return new SignIn(user, method, {
    secondFactorPassed: true,
    after: async (session) => {
      await deps.twoFactor.recordProof(session.id);
      // The phone code was proven on the first step; its hook runs once the sign-in exists.
      if (method === 'phone' && user.phone !== null) {
        const context = { user, session, phone: user.phone, isNewUser: false };
        await deps.auth.runHook(deps.options.hooks.afterOtpVerified, context);
      }
    },
  });
}
