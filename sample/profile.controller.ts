import { Controller, Get, UseGuards } from '@nestjs/common';
import { CurrentSession, CurrentUser, type Session, SessionGuard, type User } from '@arraf-auth/nestjs';

@Controller()
export class ProfileController {
  /** Liveness: no guard, no database. */
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  /** The signed-in user; 401 without a valid session. */
  @Get('me')
  @UseGuards(SessionGuard)
  me(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return { user: { id: user.id, email: user.email, phone: user.phone, name: user.name }, sessionId: session.id };
  }
}
