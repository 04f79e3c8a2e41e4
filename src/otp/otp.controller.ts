import { Body, Controller, HttpCode, Inject, Post, Req, Res, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import { Public } from '../decorators/public.decorator.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { HttpRequestLike } from '../session/cookie.util.js';
import { isTrustedOrigin } from '../session/origin.util.js';
import { REQUEST_OTP_SIGN_IN_KEY } from './otp.constants.js';
import { OtpService } from './otp.service.js';
import { OtpAuthGuard, type OtpSignIn } from './otp.strategy.js';
import { parseOtpSendBody } from './otp.validation.js';

/** `en` when `Accept-Language` starts with English, otherwise Arabic (the default for Saudi users). */
export function otpLocale(request: HttpRequestLike): 'ar' | 'en' {
  const header = request.headers['accept-language'];
  const value = Array.isArray(header) ? header[0] : header;
  return typeof value === 'string' && /^\s*en\b/i.test(value) ? 'en' : 'ar';
}

/** Builds the phone code routes under `path`: `POST otp/send` and `POST otp/verify`. */
export function createOtpController(path: string): Type<unknown> {
  @Controller(path)
  @UseFilters(ArrafAuthExceptionFilter)
  class OtpController {
    constructor(
      readonly otp: OtpService,
      readonly auth: AuthService,
      @Inject(ARRAF_AUTH_OPTIONS) readonly options: ResolvedArrafAuthOptions,
    ) {}

    /**
     * Sends a sign-in code: `{ method: 'phone', phone }` → `{ success: true, maskedPhone }`.
     * Browsers on untrusted origins may not trigger texts (403 `INVALID_ORIGIN`).
     */
    @Post('otp/send')
    @Public()
    @HttpCode(200)
    async send(@Req() request: HttpRequestLike, @Body() body: unknown) {
      if (!isTrustedOrigin(request, this.options.trustedOrigins)) throw new ArrafAuthException('INVALID_ORIGIN');
      const { phone } = parseOtpSendBody(body);
      await this.otp.limitClient('send', request.ip);
      const { maskedPhone } = await this.otp.send(phone, 'sign-in', otpLocale(request), { ip: request.ip });
      return { success: true, maskedPhone };
    }

    /**
     * Signs in with the code: `{ method: 'phone', phone, otp, name? }` → `{ user, session,
     * isNewUser }` and the session cookie. `name` is used only when the account is created.
     */
    @Post('otp/verify')
    @Public()
    @HttpCode(200)
    @UseGuards(OtpAuthGuard)
    async verify(
      @Req() request: HttpRequestLike & Record<string, unknown>,
      @Res({ passthrough: true }) response: unknown,
    ) {
      const { user, phone, isNewUser } = request[REQUEST_OTP_SIGN_IN_KEY] as OtpSignIn;
      const result = await this.auth.completeSignIn(user, 'phone', request, response, (session) =>
        this.auth.runHook(this.options.hooks.afterOtpVerified, { user, session, phone, isNewUser }),
      );
      return { ...result, isNewUser };
    }
  }
  return OtpController;
}
