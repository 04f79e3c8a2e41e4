import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { from, mergeMap, type Observable } from 'rxjs';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService, BEFORE_SIGN_IN_RAN, type EdgeSignInContext, type SignInContext } from '../auth/auth.service.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { ResolvedArrafAuthOptions, SignInMethod } from '../options/arraf-auth-options.interface.js';
import { SessionCookie } from '../session/session-cookie.js';
import { toPublicSession, toPublicUser } from '../session/session.serializer.js';
import { TwoFactorPendingCookie } from '../two-factor/two-factor-pending-cookie.js';
import { TwoFactorPendingService } from '../two-factor/two-factor-pending.service.js';
import type { TwoFactorMethod } from '../two-factor/two-factor.constants.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import type { SecurityEventDetail } from '../security-events/security-event.types.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { type EdgeRequest, httpOf } from './edge-request.js';

/**
 * What a route that signs in returns: the user a flow has proven, and how to answer.
 * {@link SignInInterceptor} completes it (session, cookie, response body).
 */
export class SignIn {
  constructor(
    readonly user: User,
    readonly method: SignInMethod,
    readonly answer: {
      /** Runs after `afterSignIn`; the new session is revoked if it throws. */
      after?: (session: Session) => Promise<void>;
      /** Extra fields of the response body (`isNewUser`). */
      extra?: Record<string, unknown>;
      /** Redirect there (with `@Redirect()`) instead of answering `{ user, session }`. */
      redirectTo?: string;
      /** The user already passed a second factor (`two-factor/verify`, a passkey): no pending state. */
      secondFactorPassed?: boolean;
      /** The second factor that completed a pending sign-in: the method the sign-in event records. */
      secondFactor?: TwoFactorMethod;
    } = {},
  ) {}
}

/** The sign-in context of a request: client address, user agent, and the session it already holds. */
export function signInContext(request: EdgeRequest, cookie: SessionCookie): SignInContext {
  const { ip, userAgent } = eventClientOf(request);
  return { ipAddress: ip ?? null, userAgent: userAgent ?? null, replaces: cookie.read(request.headers)?.token };
}

/**
 * The one place where a sign-in becomes HTTP, for every route that signs in (sign-up, sign-in,
 * OTP verify, OAuth callback): a route returns a {@link SignIn}; this completes it through
 * `AuthService.completeSignIn` (which also ends the session the request carried), writes the
 * session cookie with `SessionCookie`, and answers `{ user, session, ...extra }` (`session.token`
 * when `session.bearer` is on) or the redirect. When the user has a second factor, a first factor
 * ends here instead with the pending cookie and `{ twoFactorRequired: true, methods }` (or the
 * redirect with `twoFactor=required`).
 */
@Injectable()
export class SignInInterceptor implements NestInterceptor {
  constructor(
    private readonly auth: AuthService,
    private readonly cookie: SessionCookie,
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly pending: TwoFactorPendingService,
    private readonly pendingCookie: TwoFactorPendingCookie,
    private readonly events: SecurityEventsService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(mergeMap((value) => (value instanceof SignIn ? from(this.complete(context, value)) : [value])));
  }

  private async complete(context: ExecutionContext, signIn: SignIn): Promise<unknown> {
    const { request, response } = httpOf(context);
    const { after, extra, redirectTo } = signIn.answer;
    // An account with a second factor gets a pending cookie, never a session, from a first factor.
    const pending = signIn.answer.secondFactorPassed ? null : await this.pending.start(signIn.user, signIn.method);
    if (pending) {
      this.pendingCookie.write(response, pending.token);
      if (redirectTo !== undefined) return { url: withTwoFactorRequired(redirectTo), statusCode: 302 };
      return { twoFactorRequired: true, methods: pending.methods };
    }
    // A completed pending sign-in ran `beforeSignIn` before its second factor (TwoFactorPendingService.start).
    const client: EdgeSignInContext = {
      ...signInContext(request, this.cookie),
      [BEFORE_SIGN_IN_RAN]: signIn.answer.secondFactor !== undefined,
    };
    const { method, detail } = signInEvent(signIn, request);
    // Recorded as part of the sign-in: when the event cannot be written, the new session is revoked.
    const done = await this.auth.completeSignIn(signIn.user, signIn.method, client, async (session) => {
      await after?.(session);
      await this.events.record({
        type: 'sign_in.succeeded',
        userId: signIn.user.id,
        method,
        ip: client.ipAddress,
        userAgent: client.userAgent,
        detail: { sessionId: session.id, ...detail },
      });
    });
    this.cookie.write(response, done.token, done.session.expiresAt, 'cookie');
    if (redirectTo !== undefined) return { url: redirectTo, statusCode: 302 };
    const token = this.options.session.bearer ? done.token : undefined;
    return { user: toPublicUser(done.user), session: toPublicSession(done.session, token), ...extra };
  }
}

/** A completed sign-in's event method (`'password'`, `'oauth:github'`, `'totp'`...) and detail. */
function signInEvent(signIn: SignIn, request: EdgeRequest): { method: string; detail: SecurityEventDetail } {
  const info = request.authInfo as { providerId?: unknown; isNewUser?: unknown } | undefined;
  const providerId = info?.providerId;
  const first =
    signIn.method === 'email'
      ? 'password'
      : signIn.method === 'oauth'
        ? `oauth:${typeof providerId === 'string' ? providerId : 'unknown'}`
        : signIn.method;
  // An OAuth sign-up says so in the strategy's info (its answer is a redirect, with no extra fields).
  const isNewUser = signIn.answer.extra?.isNewUser === true || (signIn.method === 'oauth' && info?.isNewUser === true);
  const detail: SecurityEventDetail = { ...(isNewUser ? { newUser: true } : {}) };
  const second = signIn.answer.secondFactor;
  return second ? { method: second, detail: { ...detail, firstFactor: first } } : { method: first, detail };
}

/** `redirectTo` with `twoFactor=required` in its query: the app asks for the code there. */
function withTwoFactorRequired(redirectTo: string): string {
  const url = new URL(redirectTo, 'http://relative.invalid');
  url.searchParams.set('twoFactor', 'required');
  return url.origin === 'http://relative.invalid' ? `${url.pathname}${url.search}${url.hash}` : url.toString();
}
