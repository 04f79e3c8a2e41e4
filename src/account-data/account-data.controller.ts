import { Delete, Get, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { User } from '../entities/user.entity.js';
import { otpLocale } from '../otp/otp.controller.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { BodyGuard } from '../schemas/body.guard.js';
import type { ParsedBody } from '../schemas/request-bodies.js';
import { RequestBody, ValidBody } from '../schemas/request-body.decorator.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SessionCookie } from '../session/session-cookie.js';
import { SessionGuard } from '../session/session.guard.js';
import { AccountDeletionService } from './account-deletion.service.js';
import { AccountExportService } from './account-export.service.js';
import { ExportOriginGuard } from './export-origin.guard.js';

/**
 * The owner's data routes under `routes.path`: `GET account/export` (everything stored about the
 * signed-in user, no secrets), `POST account/delete/code` (a code to the verified phone) and
 * `DELETE account` (`{ password }` or `{ otp }`, fresh session: the account and every row that
 * references it, in one transaction).
 */
@AuthRoutes(OriginGuard)
export class AccountDataController {
  constructor(
    readonly exports: AccountExportService,
    readonly deletion: AccountDeletionService,
    readonly cookie: SessionCookie,
  ) {}

  /** Everything the module stores about the signed-in user, as a JSON download (not from another site). */
  @Get('account/export')
  @UseGuards(ExportOriginGuard, SessionGuard)
  @Header('Cache-Control', 'no-store')
  @Header('Content-Disposition', 'attachment; filename="account-export.json"')
  export(@Req() request: EdgeRequest, @CurrentUser() user: User) {
    return this.exports.export(user.id, eventClientOf(request));
  }

  /** Sends the code that confirms a deletion to the verified phone: `{ success, maskedPhone, channel }`. */
  @Post('account/delete/code')
  @HttpCode(200)
  @UseGuards(SessionGuard, RateLimitGuard)
  @RequireFreshSession()
  @RateLimit('otp-send:ip', 'account-delete:account')
  async sendDeleteCode(@Req() request: EdgeRequest, @CurrentUser() user: User) {
    const { maskedPhone, channel } = await this.deletion.sendCode(user, otpLocale(request), { ip: request.ip });
    return { success: true, maskedPhone, channel };
  }

  /** `{ password }` or `{ otp }` → `{ success: true }`: the account is gone and every session ended. */
  @Delete('account')
  @HttpCode(200)
  // BodyGuard last, as when the handler read the body: a refused body still spends a deletion attempt.
  @UseGuards(SessionGuard, RateLimitGuard, BodyGuard)
  @RequestBody('accountDelete')
  @RequireFreshSession()
  @RateLimit('account-delete:account')
  async remove(
    @Req() request: EdgeRequest,
    @ValidBody() body: ParsedBody<'accountDelete'>,
    @CurrentUser() user: User,
    @Res({ passthrough: true }) response: unknown,
  ) {
    const proof = body.password !== undefined ? { password: body.password } : { otp: body.otp! };
    await this.deletion.deleteAccount(user, proof, { ip: request.ip });
    this.cookie.clear(response);
    return { success: true };
  }
}
