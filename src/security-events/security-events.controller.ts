import { Get, Query, UseGuards } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import type { User } from '../entities/user.entity.js';
import { parseBody } from '../schemas/parse-body.js';
import { SessionGuard } from '../session/session.guard.js';
import { isEventId, SECURITY_EVENTS_PAGE, SECURITY_EVENTS_QUERY } from './security-events.query.js';
import { SecurityEventsService } from './security-events.service.js';

/**
 * `GET account/events?before=&limit=`: the signed-in user's security events, newest first, with
 * `next` (the `before` of the following page, `null` on the last). Mounted under `routes.path`.
 */
@AuthRoutes(OriginGuard)
export class SecurityEventsController {
  constructor(readonly events: SecurityEventsService) {}

  @Get('account/events')
  @UseGuards(SessionGuard)
  async list(@CurrentUser() user: User, @Query() query: unknown) {
    const { before, limit } = parseBody(SECURITY_EVENTS_QUERY, query ?? {});
    const cursor = before === undefined ? undefined : isEventId(before) ? { id: before } : { time: new Date(before) };
    const page = await this.events.list(user.id, limit ?? SECURITY_EVENTS_PAGE.default, cursor);
    return { events: page.events, next: page.next };
  }
}
