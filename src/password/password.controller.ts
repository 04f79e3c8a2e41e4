import { Controller, HttpCode, Inject, Post, Req, Res, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService, type SignInResult } from '../auth/auth.service.js';
import { CurrentSession } from '../decorators/current-session.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { OtpService } from '../otp/otp.service.js';
import { normalizeEmail } from '../auth/email.util.js';
import { parsePhone } from '../phone/normalize-phone.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { HttpRequestLike } from '../session/cookie.util.js';
import { isTrustedOrigin } from '../session/origin.util.js';
import { SessionGuard } from '../session/session.guard.js';
import {
  jsonBody,
  readChangePassword,
  readForgotPassword,
  readResetPassword,
  readSendVerification,
  readSignIn,
  readSignUp,
  readVerifyEmail,
} from './password-input.js';
import { type MessageLocale, PasswordService } from './password.service.js';
import { SignInGuard } from './password.strategy.js';

type PasswordRequest = HttpRequestLike & { body?: unknown; user?: User };

/** The SMS language the client prefers among Arabic and English (`Accept-Language`), if it says. */
export function preferredLocale(request: HttpRequestLike): MessageLocale | undefined {
  const header = request.headers['accept-language'];
  if (typeof header !== 'string') return undefined;
  let best: MessageLocale | undefined;
  let bestWeight = 0;
  for (const part of header.split(',').slice(0, 32)) {
    const [tag, ...params] = part.trim().split(';');
    const language = tag.trim().toLowerCase().split('-')[0];
    if (language !== 'ar' && language !== 'en') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(weight) && weight > bestWeight) {
      best = language;
      bestWeight = weight;
    }
  }
  return best;
}

/**
 * Builds the email + password routes under `path`: `POST sign-up`, `POST sign-in` (both the
 * email + password and the phone branch), `POST change-password`, `POST forgot-password`,
 * `POST reset-password`, `POST verify-email/send` and `POST verify-email`. Bodies are JSON and
 * read strictly; errors never tell whether an account exists (except sign-up's 409).
 */
export function createPasswordController(path: string): Type<unknown> {
  @Controller(path)
  @UseFilters(ArrafAuthExceptionFilter)
  class PasswordController {
    constructor(
      readonly passwords: PasswordService,
      readonly auth: AuthService,
      readonly otp: OtpService,
      @Inject(ARRAF_AUTH_OPTIONS) readonly options: ResolvedArrafAuthOptions,
      readonly limiter: RateLimiter,
    ) {}

    /**
     * Login CSRF and cross-site abuse: a browser on an untrusted origin may not sign up, sign in,
     * reset a password or verify an email, whether or not it carries a session cookie.
     */
    checkOrigin(request: PasswordRequest): void {
      if (!isTrustedOrigin(request, this.options.trustedOrigins)) throw new ArrafAuthException('INVALID_ORIGIN');
    }

    /**
     * Before anything that sends an SMS, the same gate as `POST otp/send`: browsers on untrusted
     * origins may not trigger texts, and each client address has a budget of sends.
     */
    async smsGate(request: PasswordRequest): Promise<void> {
      this.checkOrigin(request);
      await this.otp.limitClient('send', request.ip);
    }

    /** The normalised email or E.164 number a per-identifier limit counts, whether an account has it or not. */
    identifier(input: { email?: string; phone?: string }): string[] {
      const identifiers: string[] = [];
      if (input.email !== undefined) identifiers.push(normalizeEmail(input.email));
      if (input.phone !== undefined) identifiers.push(parsePhone(input.phone, this.options.phone.defaultCountry).e164);
      return identifiers;
    }

    /** Creates an account (email and/or phone, password, name) and signs it in: 201 `{ user, session }`. */
    @Post('sign-up')
    @Public()
    @HttpCode(201)
    async signUp(
      @Req() request: PasswordRequest,
      @Res({ passthrough: true }) response: unknown,
    ): Promise<SignInResult> {
      this.checkOrigin(request);
      const input = readSignUp(jsonBody(request));
      await this.limiter.consumeClient('sign-up:ip', request.ip);
      for (const id of this.identifier(input)) await this.limiter.consume('sign-up:identifier', id);
      const user = await this.passwords.signUp(input);
      return this.auth.completeSignIn(user, user.email ? 'email' : 'phone', request, response);
    }

    /**
     * `{ method: 'email', email, password }` → 200 `{ user, session }` (checked by
     * PasswordAuthGuard); `{ method: 'phone', phone }` → an SMS code and 200 `{ nextStep: 'otp' }`,
     * to be completed at `POST otp/verify`.
     */
    @Post('sign-in')
    @Public()
    @HttpCode(200)
    @UseGuards(SignInGuard)
    async signIn(
      @Req() request: PasswordRequest,
      @Res({ passthrough: true }) response: unknown,
    ): Promise<SignInResult | { nextStep: 'otp' }> {
      const input = readSignIn(jsonBody(request), this.passwords.maxPasswordBytes);
      if (input.method === 'phone') {
        await this.smsGate(request);
        await this.otp.send(input.phone, 'sign-in', preferredLocale(request));
        return { nextStep: 'otp' };
      }
      return this.auth.completeSignIn(request.user!, 'email', request, response);
    }

    /** Needs the current password; revokes the user's other sessions and keeps this one. */
    @Post('change-password')
    @HttpCode(200)
    @UseGuards(SessionGuard)
    async changePassword(
      @Req() request: PasswordRequest,
      @CurrentUser() user: User,
      @CurrentSession() session: Session,
    ) {
      const input = readChangePassword(jsonBody(request), this.passwords.maxPasswordBytes);
      const revoked = await this.passwords.changePassword(user, session.id, input);
      return { success: true, revoked };
    }

    /** Sends a reset code or link when the account exists; the same answer when it does not. */
    @Post('forgot-password')
    @Public()
    @HttpCode(200)
    async forgotPassword(@Req() request: PasswordRequest) {
      this.checkOrigin(request);
      const input = readForgotPassword(jsonBody(request));
      await this.limiter.consumeClient('forgot-password:ip', request.ip);
      // Known and unknown identifiers alike, so the limits tell nothing about accounts.
      for (const id of this.identifier(input)) await this.limiter.consume('forgot-password:identifier', id);
      if (input.method === 'phone') await this.smsGate(request);
      await this.passwords.requestPasswordReset(input, preferredLocale(request));
      return { success: true };
    }

    /** Sets a new password with a reset code or link and signs the user out everywhere. */
    @Post('reset-password')
    @Public()
    @HttpCode(200)
    async resetPassword(@Req() request: PasswordRequest) {
      this.checkOrigin(request);
      const input = readResetPassword(jsonBody(request));
      await this.limiter.consumeClient('reset-password:ip', request.ip);
      return { success: true, ...(await this.passwords.resetPassword(input)) };
    }

    /** Sends the signed-in user's email address a verification code (`mode: 'otp'`) or link. */
    @Post('verify-email/send')
    @HttpCode(200)
    @UseGuards(SessionGuard)
    async sendEmailVerification(@Req() request: PasswordRequest, @CurrentUser() user: User) {
      const { mode } = readSendVerification(jsonBody(request, true));
      await this.limiter.consume('verify-email-send:account', user.id);
      await this.passwords.sendEmailVerification(user, mode);
      return { success: true };
    }

    /** Marks an email verified with `{ email, otp }` or `{ token }`; no session needed. */
    @Post('verify-email')
    @Public()
    @HttpCode(200)
    async verifyEmail(@Req() request: PasswordRequest) {
      this.checkOrigin(request);
      const input = readVerifyEmail(jsonBody(request));
      await this.limiter.consumeClient('verify-email:ip', request.ip);
      return { success: true, ...(await this.passwords.verifyEmail(input)) };
    }
  }
  return PasswordController;
}
