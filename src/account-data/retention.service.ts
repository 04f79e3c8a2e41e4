import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DataSource,
  type EntityTarget,
  type FindOptionsWhere,
  In,
  IsNull,
  LessThan,
  Not,
  type ObjectLiteral,
  type Repository,
} from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { Session } from '../entities/session.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { SecurityEvent } from '../security-events/security-event.entity.js';
import { SessionService } from '../session/session.service.js';
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
 * `SessionService.deleteExpired()`), erases the IP address and user agent of sessions and security
 * events older than `ipAddressesAfterDays`, and deletes security events older than
 * `securityEventsAfterDays`, `batchSize` rows per statement. Nothing runs on its own: the
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
      report.eventsDeleted = await this.deleteOldEvents(before);
    }
    if (ipAddressesAfterDays !== false) {
      const before = new Date(now.getTime() - ipAddressesAfterDays * DAY_MS);
      report.sessionsAnonymised = await this.eraseClientDetails(Session, 'ipAddress', before);
      report.eventsAnonymised = await this.eraseClientDetails(SecurityEvent, 'ip', before);
    }
    this.logger.log(`Retention applied: ${JSON.stringify(report)}`);
    return report;
  }

  /** Deletes security events created before `before`, `batchSize` at a time. */
  private deleteOldEvents(before: Date): Promise<number> {
    const repository = this.dataSource.getRepository(SecurityEvent);
    return this.inBatches(repository, { createdAt: LessThan(before) }, (ids) => repository.delete({ id: In(ids) }));
  }

  /**
   * Sets the client columns (`ip` or `ipAddress`, and `userAgent`) of rows created before `before`
   * to NULL, `batchSize` rows per UPDATE. Only rows that still hold one are touched, so each batch
   * makes progress and a second run changes nothing.
   */
  private eraseClientDetails(entity: EntityTarget<ObjectLiteral>, ipColumn: 'ip' | 'ipAddress', before: Date) {
    const repository = this.dataSource.getRepository<ObjectLiteral>(entity);
    const old = { createdAt: LessThan(before) };
    const where = [
      { ...old, [ipColumn]: Not(IsNull()) },
      { ...old, userAgent: Not(IsNull()) },
    ];
    return this.inBatches(repository, where, (ids) =>
      repository.update({ id: In(ids) }, { [ipColumn]: null, userAgent: null }),
    );
  }

  /**
   * Runs `change` on the ids of rows matching `where`, `batchSize` at a time, until none is left.
   * `change` must take the rows out of `where`, or the loop would see them again.
   */
  private async inBatches(
    repository: Repository<ObjectLiteral>,
    where: FindOptionsWhere<ObjectLiteral> | FindOptionsWhere<ObjectLiteral>[],
    change: (ids: string[]) => Promise<{ affected?: number | null }>,
  ): Promise<number> {
    const { batchSize } = this.settings;
    let total = 0;
    for (;;) {
      const batch = await repository.find({ select: { id: true }, where, take: batchSize });
      if (batch.length === 0) return total;
      total += (await change(batch.map((row) => row.id as string))).affected ?? batch.length;
      if (batch.length < batchSize) return total;
    }
  }
}
