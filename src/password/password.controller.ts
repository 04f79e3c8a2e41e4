import { HttpCode, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SignIn, SignInInterceptor } from '../controllers/sign-in.interceptor.js';
import { CurrentSession } from '../decorators/current-session.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { OtpService } from '../otp/otp.service.js';
import type { OtpChannel } from '../sms/sms-provider.interface.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { BodyGuard } from '../schemas/body.guard.js';
import type { ParsedBody } from '../schemas/request-bodies.js';
import { RequestBody, ValidBody } from '../schemas/request-body.decorator.js';
import { SessionGuard } from '../session/session.guard.js';
import { type MessageLocale, PasswordService } from './password.service.js';
import { SignInGuard } from './password.strategy.js';

/** The SMS language the client prefers among Arabic and English (`Accept-Language`), if it says. */
export function preferredLocale(request: EdgeRequest): MessageLocale | undefined {
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

/** The phone branch of a body sends an SMS: the same per-address budget as `POST otp/send`. */
const SMS_SEND = { rule: 'otp-send:ip', when: { method: 'phone' } } as const;

/**
 * The email + password routes under `routes.path`: `POST sign-up`, `POST sign-in` (both the
 * email + password and the phone branch), `POST change-password`, `POST forgot-password`,
 * `POST reset-password`, `POST verify-email/send` and `POST verify-email`. Each route declares its
 * edge rules: the origin check (every route), its body schema (JSON only, read strictly, once) and
 * its rate limits, applied by the guards in the order listed. Errors never tell whether an account
 * exists (except sign-up's 409).
 */
@AuthRoutes(OriginGuard)
export class PasswordController {
  constructor(
    readonly passwords: PasswordService,
    readonly otp: OtpService,
  ) {}

  /**
   * Creates an account (email and/or phone, password, name) and signs it in: 201 `{ user, session }`.
   * A body or password the rules refuse is answered before the limits are counted: only an
   * attempt that could create an account spends `sign-up:identifier`.
   */
  @Post('sign-up')
  @Public()
  @HttpCode(201)
  @RequestBody('signUp')
  @RateLimit('sign-up:ip', 'sign-up:identifier')
  @UseGuards(BodyGuard, RateLimitGuard)
  @UseInterceptors(SignInInterceptor)
  async signUp(@Req() request: EdgeRequest, @ValidBody() input: ParsedBody<'signUp'>): Promise<SignIn> {
    const user = await this.passwords.signUp(input, { ip: request.ip, userAgent: eventClientOf(request).userAgent });
    return new SignIn(user, user.email ? 'email' : 'phone');
  }

  /**
   * `{ method: 'email', email, password }` → 200 `{ user, session }` (checked by
   * PasswordAuthGuard); `{ method: 'phone', phone, channel? }` → a code and 200 `{ nextStep: 'otp', channel }`,
   * to be completed at `POST otp/verify`.
   */
  @Post('sign-in')
  @Public()
  @HttpCode(200)
  @RequestBody('signIn')
  @RateLimit({ rule: 'sign-in:ip', when: { method: 'email' } }, SMS_SEND)
  @UseGuards(BodyGuard, RateLimitGuard, SignInGuard)
  @UseInterceptors(SignInInterceptor)
  async signIn(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'signIn'>,
  ): Promise<SignIn | { nextStep: 'otp'; channel: OtpChannel }> {
    if (input.method === 'phone') {
      const { channel } = await this.otp.send(input.phone, 'sign-in', preferredLocale(request), {
        ip: request.ip,
        channel: input.channel,
      });
      return { nextStep: 'otp', channel };
    }
    return new SignIn(request.user as User, 'email');
  }

  /** Needs the current password; revokes the user's other sessions and keeps this one. */
  @Post('change-password')
  @HttpCode(200)
  @RequestBody('changePassword')
  @UseGuards(SessionGuard, BodyGuard)
  async changePassword(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'changePassword'>,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
  ) {
    const revoked = await this.passwords.changePassword(user, session.id, input, eventClientOf(request));
    return { success: true, revoked };
  }

  /**
   * Sends a reset code or link when the account exists; the same answer when it does not. The
   * limits count known and unknown identifiers alike, so they tell nothing about accounts.
   */
  @Post('forgot-password')
  @Public()
  @HttpCode(200)
  @RequestBody('forgotPassword')
  @RateLimit('forgot-password:ip', 'forgot-password:identifier', SMS_SEND)
  @UseGuards(BodyGuard, RateLimitGuard)
  async forgotPassword(@Req() request: EdgeRequest, @ValidBody() input: ParsedBody<'forgotPassword'>) {
    await this.passwords.requestPasswordReset(input, preferredLocale(request), { ip: request.ip });
    return { success: true };
  }

  /** Sets a new password with a reset code or link and signs the user out everywhere. */
  @Post('reset-password')
  @Public()
  @HttpCode(200)
  @RequestBody('resetPassword')
  @RateLimit('reset-password:ip')
  @UseGuards(BodyGuard, RateLimitGuard)
  async resetPassword(@Req() request: EdgeRequest, @ValidBody() input: ParsedBody<'resetPassword'>) {
    return {
      success: true,
      ...(await this.passwords.resetPassword(input, { ip: request.ip, userAgent: eventClientOf(request).userAgent })),
    };
  }

  /** Sends the signed-in user's email address a verification code (`mode: 'otp'`) or link. */
  @Post('verify-email/send')
  @HttpCode(200)
  @RequestBody('sendVerification', { optional: true })
  @RateLimit('verify-email-send:account')
  @UseGuards(SessionGuard, BodyGuard, RateLimitGuard)
  async sendEmailVerification(@ValidBody() input: ParsedBody<'sendVerification'>, @CurrentUser() user: User) {
    await this.passwords.sendEmailVerification(user, input.mode);
    return { success: true };
  }

  /** Marks an email verified with `{ email, otp }` or `{ token }`; no session needed. */
  @Post('verify-email')
  @Public()
  @HttpCode(200)
  @RequestBody('verifyEmail')
  @RateLimit('verify-email:ip')
  @UseGuards(BodyGuard, RateLimitGuard)
  async verifyEmail(@ValidBody() input: ParsedBody<'verifyEmail'>) {
    return { success: true, ...(await this.passwords.verifyEmail(input)) };
  }
}
