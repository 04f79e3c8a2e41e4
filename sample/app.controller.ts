import { Controller, Get, Inject, Query, Redirect } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ARRAF_AUTH_OPTIONS, type ResolvedArrafAuthOptions } from '@arraf-auth/nestjs';

/** Routes of the sample itself that need no session. */
@ApiTags('sample')
@Controller()
export class AppController {
  constructor(@Inject(ARRAF_AUTH_OPTIONS) private readonly auth: ResolvedArrafAuthOptions) {}

  /** Liveness: no guard, no database. */
  @Get('health')
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  health() {
    return { status: 'ok' };
  }

  /** What the sign-in page needs: the route prefix and the configured OAuth providers. */
  @Get('providers')
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        authPath: { type: 'string', example: '/auth' },
        providers: { type: 'array', items: { type: 'string' }, example: ['oidc', 'google', 'github'] },
      },
    },
  })
  providers() {
    return { authPath: `/${this.auth.routes.path}`, providers: this.auth.providers.map((p) => p.id) };
  }

  /**
   * Where the links in reset and verification emails point (`${APP_URL}/reset-password?token=…`):
   * the sign-in page, opened on the matching screen with the token.
   */
  @Get('reset-password')
  @Redirect('/', 302)
  @ApiFoundResponse({ description: 'to the sign-in page, reset screen' })
  resetPasswordLink(@Query('token') token?: string) {
    return { url: `/?${new URLSearchParams({ screen: 'reset', token: String(token ?? '') })}` };
  }

  @Get('verify-email')
  @Redirect('/', 302)
  @ApiFoundResponse({ description: 'to the sign-in page, email verification screen' })
  verifyEmailLink(@Query('token') token?: string) {
    return { url: `/?${new URLSearchParams({ screen: 'verify-email', token: String(token ?? '') })}` };
  }
}
