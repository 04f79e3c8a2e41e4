import {
  applyDecorators,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { preferredLocale } from '../password/password.controller.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { BodyGuard } from '../schemas/body.guard.js';
import type { BodySchemaName, ParsedBody } from '../schemas/request-bodies.js';
import { RequestBody, ValidBody } from '../schemas/request-body.decorator.js';
import { SessionGuard } from '../session/session.guard.js';
import { AccountMethodsService } from './account-methods.service.js';
import { EmailChange } from './email-change.js';
import type { MethodEventClient } from './method-event-log.js';
import { PhoneChange } from './phone-change.js';

/** An identity id: the UUID of its `accounts` row. */
const IDENTITY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Who made a change, for its security event. */
function clientOf(request: EdgeRequest): MethodEventClient {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
}

/**
 * The edge rules of a change: signed in with a fresh session, its body schema (when it has one),
 * counted per account (and `extra` rules), answered 200.
 */
function MethodChange(schema?: BodySchemaName, ...extra: Parameters<typeof RateLimit>): MethodDecorator {
  return applyDecorators(
    HttpCode(200),
    RequireFreshSession(),
    ...(schema ? [RequestBody(schema)] : []),
    RateLimit('account-methods:account', ...extra),
    UseGuards(SessionGuard, ...(schema ? [BodyGuard] : []), RateLimitGuard),
  );
}

/**
 * The signed-in owner's sign-in methods, under `routes.path`: `GET account/methods` (and
 * `POST account/methods/acknowledge` to keep the methods it flags `unrecognised`), the phone
 * (`POST account/phone/send`, `POST account/phone`, `DELETE account/phone`), the email
 * (`POST account/email/send`, `POST account/email`), the password (`POST account/password` to set
 * one, `DELETE account/password` to remove it) and linked providers (`DELETE account/providers/:id`;
 * linking is `GET link/:provider`). Every change needs a fresh session, is origin-checked and
 * counted per account; the last way in is never removed (409 `LAST_SIGN_IN_METHOD`).
 */
@Controller()
@UseFilters(ArrafAuthExceptionFilter)
@UseGuards(OriginGuard)
export class AccountMethodsController {
  constructor(
    readonly methods: AccountMethodsService,
    readonly phones: PhoneChange,
    readonly emails: EmailChange,
  ) {}

  @Get('account/methods')
  @UseGuards(SessionGuard)
  list(@CurrentUser() user: User) {
    return this.methods.list(user);
  }

  /** Keeps the methods flagged `unrecognised` (the password proves the email's owner). */
  @Post('account/methods/acknowledge')
  @MethodChange('accountMethodsAcknowledge')
  async acknowledgeMethods(@ValidBody() input: ParsedBody<'accountMethodsAcknowledge'>, @CurrentUser() user: User) {
    await this.methods.acknowledgeUnrecognised(user, input.currentPassword);
    return { success: true };
  }

  /** A `change-phone` code to the new number: `{ success, maskedPhone }`, whoever has the number. */
  @Post('account/phone/send')
  @MethodChange('accountPhoneSend', 'otp-send:ip')
  async sendPhoneCode(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'accountPhoneSend'>,
    @CurrentUser() user: User,
  ) {
    const client = { ...clientOf(request), locale: preferredLocale(request), channel: input.channel };
    return { success: true, ...(await this.phones.send(user, input.phone, client)) };
  }

  @Post('account/phone')
  @MethodChange('accountPhoneConfirm')
  async confirmPhone(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'accountPhoneConfirm'>,
    @CurrentUser() user: User,
  ) {
    await this.phones.confirm(user, input.phone, input.otp, { ...clientOf(request), locale: preferredLocale(request) });
    return { success: true };
  }

  @Delete('account/phone')
  @MethodChange()
  async removePhone(@Req() request: EdgeRequest, @CurrentUser() user: User) {
    await this.phones.remove(user, { ...clientOf(request), locale: preferredLocale(request) });
    return { success: true };
  }

  @Post('account/email/send')
  @MethodChange('accountEmailSend')
  async sendEmailCode(@ValidBody() input: ParsedBody<'accountEmailSend'>, @CurrentUser() user: User) {
    await this.emails.send(user, input.email);
    return { success: true };
  }

  @Post('account/email')
  @MethodChange('accountEmailConfirm')
  async confirmEmail(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'accountEmailConfirm'>,
    @CurrentUser() user: User,
  ) {
    await this.emails.confirm(user, input.email, input.otp, clientOf(request));
    return { success: true };
  }

  @Post('account/password')
  @MethodChange('accountPasswordSet')
  async setPassword(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'accountPasswordSet'>,
    @CurrentUser() user: User,
  ) {
    await this.methods.setPassword(user, input.newPassword, clientOf(request));
    return { success: true };
  }

  @Delete('account/password')
  @MethodChange('accountPasswordRemove')
  async removePassword(
    @Req() request: EdgeRequest,
    @ValidBody() input: ParsedBody<'accountPasswordRemove'>,
    @CurrentUser() user: User,
  ) {
    await this.methods.removePassword(user, input.currentPassword, clientOf(request));
    return { success: true };
  }

  @Delete('account/providers/:id')
  @MethodChange()
  async unlinkProvider(@Req() request: EdgeRequest, @Param('id') id: string, @CurrentUser() user: User) {
    if (!IDENTITY_ID.test(id)) throw new ArrafAuthException('SIGN_IN_METHOD_NOT_FOUND');
    await this.methods.unlinkProvider(user, id, clientOf(request));
    return { success: true };
  }
}
