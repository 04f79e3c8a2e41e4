import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CurrentSession, CurrentUser, type Session, SessionGuard, type User } from '@arraf-auth/nestjs';

/** An application route behind the session: 401 `{ error }` without a valid session cookie. */
@ApiTags('sample')
@ApiCookieAuth('arrafAuthSession')
@Controller('me')
@UseGuards(SessionGuard)
export class ProfileController {
  /** The signed-in user and the session this request used. */
  @Get()
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['user', 'session'],
      properties: {
        user: { $ref: '#/components/schemas/ArrafAuthUser' },
        session: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED', schema: { $ref: '#/components/schemas/ArrafAuthError' } })
  me(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return {
      user: {
        id: user.id,
        email: user.email,
        phone: user.phone,
        name: user.name,
        image: user.image,
        emailVerified: user.emailVerified,
        phoneVerified: user.phoneVerified,
      },
      session: { id: session.id, createdAt: session.createdAt, expiresAt: session.expiresAt },
    };
  }
}
