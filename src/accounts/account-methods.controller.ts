import {
  applyDecorators,
  createParamDecorator,
  Delete,
  type ExecutionContext,
  Get,
  HttpCode,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import { getAuthHolder } from '../context/transport-context.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { preferredLocale } from '../password/password.controller.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { BodyGuard } from '../schemas/body.guard.js';
import type { BodySchemaName, ParsedBody } from '../schemas/request-bodies.js';
import { RequestBody, ValidBody } from '../schemas/request-body.decorator.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SessionGuard } from '../session/session.guard.js';
import { UUID } from '../utils/uuid.js';
import { AccountMethodsService } from './account-methods.service.js';
import { EmailChange } from './email-change.js';
import { PhoneChange, type PhoneChangeClient } from './phone-change.js';

/** The signed-in owner making a change, and the client it comes from (recorded with its events). */
interface Owner {
  user: User;
  client: PhoneChangeClient;
}

/** The {@link Owner} of a change request: `@CurrentUser()`, the event client and the preferred SMS language. */
const Owner = createParamDecorator((_data: unknown, context: ExecutionContext): Owner => {
  const request = context.switchToHttp().getRequest<EdgeRequest>();
  return {
    user: getAuthHolder(context)?.user as User,
    client: { ...eventClientOf(request), locale: preferredLocale(request) },
  };
});

/** What every change answers once its step is done. */
async function done(step: Promise<unknown>): Promise<{ success: true }> {
  await step;
  return { success: true };
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
@AuthRoutes(OriginGuard)
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
  acknowledgeMethods(@ValidBody() input: ParsedBody<'accountMethodsAcknowledge'>, @Owner() owner: Owner) {
    return done(this.methods.acknowledgeUnrecognised(owner.user, input.currentPassword));
  }

  /** A `change-phone` code to the new number: `{ success, maskedPhone }`, whoever has the number. */
  @Post('account/phone/send')
  @MethodChange('accountPhoneSend', 'otp-send:ip')
  async sendPhoneCode(@ValidBody() input: ParsedBody<'accountPhoneSend'>, @Owner() { user, client }: Owner) {
    return { success: true, ...(await this.phones.send(user, input.phone, { ...client, channel: input.channel })) };
  }

  @Post('account/phone')
  @MethodChange('accountPhoneConfirm')
  confirmPhone(@ValidBody() input: ParsedBody<'accountPhoneConfirm'>, @Owner() owner: Owner) {
    return done(this.phones.confirm(owner.user, input.phone, input.otp, owner.client));
  }

  @Delete('account/phone')
  @MethodChange()
  removePhone(@Owner() owner: Owner) {
    return done(this.phones.remove(owner.user, owner.client));
  }

  @Post('account/email/send')
  @MethodChange('accountEmailSend')
  sendEmailCode(@ValidBody() input: ParsedBody<'accountEmailSend'>, @Owner() owner: Owner) {
    return done(this.emails.send(owner.user, input.email));
  }

  @Post('account/email')
  @MethodChange('accountEmailConfirm')
  confirmEmail(@ValidBody() input: ParsedBody<'accountEmailConfirm'>, @Owner() owner: Owner) {
    return done(this.emails.confirm(owner.user, input.email, input.otp, owner.client));
  }

  @Post('account/password')
  @MethodChange('accountPasswordSet')
  setPassword(@ValidBody() input: ParsedBody<'accountPasswordSet'>, @Owner() owner: Owner) {
    return done(this.methods.setPassword(owner.user, input.newPassword, owner.client));
  }

  @Delete('account/password')
  @MethodChange('accountPasswordRemove')
  removePassword(@ValidBody() input: ParsedBody<'accountPasswordRemove'>, @Owner() owner: Owner) {
    return done(this.methods.removePassword(owner.user, input.currentPassword, owner.client));
  }

  @Delete('account/providers/:id')
  @MethodChange()
  unlinkProvider(@Param('id') id: string, @Owner() owner: Owner) {
    if (!UUID.test(id)) throw new ArrafAuthException('SIGN_IN_METHOD_NOT_FOUND');
    return done(this.methods.unlinkProvider(owner.user, id, owner.client));
  }
}
