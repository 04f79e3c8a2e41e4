import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
}
