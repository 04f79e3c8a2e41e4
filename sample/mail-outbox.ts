import { Controller, Get, Injectable, Logger, Module, NotFoundException } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { VerificationDelivery } from '@arraf-auth/nestjs';

/** One email the sample would have sent. */
export interface OutboxMail {
  to: string;
  kind: 'verify-email' | 'reset-password';
  /** The code to type (`mode: 'otp'`). */
  code?: string;
  /** The link to open (`mode: 'link'`). */
  url?: string;
  sentAt: string;
}

const KEEP = 20;

/**
 * The sample's development mail outbox: the sample sends no email, so verification and reset
 * messages are logged (like ConsoleSmsProvider's codes) and kept in memory for the page to show.
 * An application delivers them with its mail service in `callbacks.onVerifyEmail` / `onForgotPassword`.
 */
@Injectable()
export class MailOutbox {
  private readonly logger = new Logger('SampleMail');
  private readonly mails: OutboxMail[] = [];

  deliver(kind: OutboxMail['kind'], delivery: VerificationDelivery): void {
    const mail: OutboxMail = {
      to: delivery.identifier,
      kind,
      code: delivery.code,
      url: delivery.url,
      sentAt: new Date().toISOString(),
    };
    this.mails.unshift(mail);
    this.mails.length = Math.min(this.mails.length, KEEP);
    const what = mail.code ? `code ${mail.code}` : `link ${mail.url}`;
    this.logger.log(`Mail to ${mail.to}: ${kind} ${what}`);
  }

  /** Newest first. */
  list(): readonly OutboxMail[] {
    return this.mails;
  }
}

/** `GET /dev/outbox`: the outbox for the sign-in page, in development only (404 with NODE_ENV=production). */
@ApiTags('sample')
@Controller('dev/outbox')
export class MailOutboxController {
  constructor(private readonly outbox: MailOutbox) {}

  @Get()
  @ApiOkResponse({ description: 'The last 20 emails, newest first (development only)' })
  @ApiNotFoundResponse({ description: 'NODE_ENV=production' })
  list() {
    if (process.env.NODE_ENV === 'production') throw new NotFoundException();
    return { mails: this.outbox.list() };
  }
}

/** Provides the outbox to the auth options factory; the controller is listed in AppModule (scanned for /docs). */
@Module({ providers: [MailOutbox], exports: [MailOutbox] })
export class MailOutboxModule {}
