import { HttpCode, Inject, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { SignIn, SignInInterceptor } from '../controllers/sign-in.interceptor.js';
import { Public } from '../decorators/public.decorator.js';
import type { User } from '../entities/user.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { BodyGuard } from '../schemas/body.guard.js';
import type { ParsedBody } from '../schemas/request-bodies.js';
import { RequestBody, ValidBody } from '../schemas/request-body.decorator.js';
import { OtpService } from './otp.service.js';
import { OtpAuthGuard, type OtpSignIn } from './otp.strategy.js';

/** `en` when `Accept-Language` starts with English, otherwise Arabic (the default for Saudi users). */
export function otpLocale(request: EdgeRequest): 'ar' | 'en' {
  const header = request.headers['accept-language'];
  const value = Array.isArray(header) ? header[0] : header;
  return typeof value === 'string' && /^\s*en\b/i.test(value) ? 'en' : 'ar';
}

/**
 * The phone code routes under `routes.path`: `POST otp/send` and `POST otp/verify`. Browsers on
 * untrusted origins may not trigger texts or sign in (403 `INVALID_ORIGIN`); bodies are JSON.
 */
@AuthRoutes(OriginGuard, BodyGuard, RateLimitGuard)
export class OtpController {
  constructor(
    readonly otp: OtpService,
    readonly auth: AuthService,
    @Inject(ARRAF_AUTH_OPTIONS) readonly options: ResolvedArrafAuthOptions,
  ) {}

  /**
   * Sends a sign-in code: `{ method: 'phone', phone, channel? }` → `{ success: true, maskedPhone,
   * channel }`, `channel` being the one that delivered it.
   */
  @Post('otp/send')
  @Public()
  @HttpCode(200)
  @RequestBody('otpSend')
  @RateLimit('otp-send:ip')
  async send(@Req() request: EdgeRequest, @ValidBody() body: ParsedBody<'otpSend'>) {
    const { maskedPhone, channel } = await this.otp.send(body.phone, 'sign-in', otpLocale(request), {
      ip: request.ip,
      channel: body.channel,
    });
    return { success: true, maskedPhone, channel };
  }

  /**
   * Signs in with the code: `{ method: 'phone', phone, otp, name? }` → `{ user, session,
   * isNewUser }` and the session cookie. `name` is used only when the account is created.
   */
  @Post('otp/verify')
  @Public()
  @HttpCode(200)
  @RequestBody('otpVerify')
  @RateLimit('otp-verify:ip')
  @UseGuards(OtpAuthGuard)
  @UseInterceptors(SignInInterceptor)
  verify(@Req() request: EdgeRequest): SignIn {
    const { phone, isNewUser } = request.authInfo as OtpSignIn;
    const user = request.user as User;
    return new SignIn(user, 'phone', {
      after: (session) => this.auth.runHook(this.options.hooks.afterOtpVerified, { user, session, phone, isNewUser }),
      extra: { isNewUser },
    });
  }
}
