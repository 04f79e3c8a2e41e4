import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { Session } from '../entities/session.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { SessionService } from '../session/session.service.js';
import { eraseClientDetailsBefore } from '../utils/in-batches.js';
import type { ResolvedRetentionOptions } from './retention.options.js';

/** What one {@link ArrafAuthRetention.apply} run changed. */
export interface RetentionReport {
  /** Expired sessions deleted. */
  expiredSessions: number;
  /** Expired one-time secrets (codes, links, OAuth states) deleted. */
  expiredVerifications: number;
  /** Sessions whose IP address and user agent were erased. */
  sessionsAnonymised: number;
  /** Security events whose IP address and user agent were erased. */
  eventsAnonymised: number;
  /** Security events deleted for their age. */
  eventsDeleted: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Applies the `retention` option: deletes expired sessions and one-time secrets (through
 * `SessionService.deleteExpired()`, which leaves the codes to `VerificationService`), erases the IP
 * address and user agent of sessions and security events older than `ipAddressesAfterDays`, and
 * deletes security events older than `securityEventsAfterDays` (both through
 * `SecurityEventsService`, the table's one writer), `batchSize` rows per statement. Nothing runs on its own: the
 * application schedules `apply()` (daily, e.g. with `@nestjs/schedule`); every run is idempotent.
 *
 * @example @Cron(CronExpression.EVERY_DAY_AT_3AM) prune() { return this.retention.apply(); }
 */
@Injectable()
export class ArrafAuthRetention {
  private readonly logger = new Logger('ArrafAuth:Retention');
  private readonly settings: ResolvedRetentionOptions;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly sessions: SessionService,
    private readonly events: SecurityEventsService,
  ) {
    this.settings = options.retention;
  }

  /** One retention run; returns what it deleted and erased. */
  async apply(): Promise<RetentionReport> {
    const now = new Date();
    const { deleteExpired, ipAddressesAfterDays, securityEventsAfterDays, batchSize } = this.settings;
    const report: RetentionReport = {
      expiredSessions: 0,
      expiredVerifications: 0,
      sessionsAnonymised: 0,
      eventsAnonymised: 0,
      eventsDeleted: 0,
    };
    if (deleteExpired) {
      const deleted = await this.sessions.deleteExpired(batchSize);
      report.expiredSessions = deleted.sessions;
      report.expiredVerifications = deleted.verifications;
    }
    if (securityEventsAfterDays !== false) {
      const before = new Date(now.getTime() - securityEventsAfterDays * DAY_MS);
      report.eventsDeleted = await this.events.deleteBefore(before, batchSize);
    }
    if (ipAddressesAfterDays !== false) {
      const before = new Date(now.getTime() - ipAddressesAfterDays * DAY_MS);
      // Sessions are written here, not through SessionService, which has no such method yet.
      const sessions = this.dataSource.getRepository(Session);
      report.sessionsAnonymised = await eraseClientDetailsBefore(sessions, 'ipAddress', before, batchSize);
      report.eventsAnonymised = await this.events.eraseClientDetailsBefore(before, batchSize);
    }
    this.logger.log(`Retention applied: ${JSON.stringify(report)}`);
    return report;
  }
}
