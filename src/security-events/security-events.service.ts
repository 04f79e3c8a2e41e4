import { Injectable, Logger } from '@nestjs/common';
import { Brackets, DataSource, type EntityManager, In, LessThan } from 'typeorm';
import { Transactions } from '../database/transactions.js';
import { randomId } from '../crypto/crypto.util.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { eraseClientDetailsBefore, inBatches } from '../utils/in-batches.js';
import { AfterCommit } from './after-commit.js';
import { SecurityEventBus } from './security-event-bus.js';
import { SecurityEvent } from './security-event.entity.js';
import {
  type PublishedSecurityEvent,
  SECURITY_EVENT_TYPES,
  type SecurityEventDetail,
  type SecurityEventInput,
} from './security-event.types.js';
import { errorMessage } from '../utils/error-message.js';

/** A page of a user's events, newest first; `next` is the `before` of the following page. */
export interface SecurityEventPage {
  events: Omit<PublishedSecurityEvent, 'userId'>[];
  next: string | null;
}

/** Where a page starts: before an event (its id) or before a time. */
export type SecurityEventCursor = { id: string } | { time: Date };

const MAX_DETAIL_KEYS = 16;
const MAX_DETAIL_STRING = 200;

/** `detail` bounded in size: at most 16 keys of at most 64 characters, strings cut at 200. */
function boundedDetail(detail: SecurityEventDetail | undefined): string | null {
  if (!detail) return null;
  const entries = Object.entries(detail)
    .filter(([key]) => key.length <= 64)
    .slice(0, MAX_DETAIL_KEYS)
    .map(([key, value]) => [key, typeof value === 'string' ? value.slice(0, MAX_DETAIL_STRING) : value]);
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

/**
 * A stored event as the bus publishes it; without its `userId`, as its owner reads it (`GET
 * account/events`, the account export). A detail that is not JSON (a row written by hand) reads as
 * `null`, or with `keepText` (the export: everything stored) as `{ text }`.
 */
export function toPublished(row: SecurityEvent, keepText = false): PublishedSecurityEvent {
  return {
    id: row.id,
    type: row.type as PublishedSecurityEvent['type'],
    userId: row.userId,
    method: row.method,
    ip: row.ip,
    userAgent: row.userAgent,
    detail: parseDetail(row.detail, keepText),
    createdAt: row.createdAt,
  };
}

/** {@link toPublished} for the event's owner: without `userId`. */
export function toOwnerEvent(row: SecurityEvent, keepText = false): Omit<PublishedSecurityEvent, 'userId'> {
  const { userId: _owner, ...event } = toPublished(row, keepText);
  return event;
}

function parseDetail(detail: string | null, keepText: boolean): SecurityEventDetail | null {
  if (detail === null) return null;
  try {
    return JSON.parse(detail) as SecurityEventDetail;
  } catch {
    return keepText ? { text: detail } : null;
  }
}

/**
 * The one writer of `security_events`: records what happened to an account (in the caller's
 * transaction when given one), publishes it on the {@link SecurityEventBus} once committed, and
 * lists a user's events newest first.
 *
 * @example await events.record({ type: 'password.changed', userId: user.id, ip }, { manager: tx });
 */
@Injectable()
export class SecurityEventsService {
  private readonly logger = new Logger('ArrafAuth:SecurityEvents');

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: SecurityEventBus,
    private readonly afterCommit: AfterCommit,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Stores an event. With `manager`, the row is written in that transaction and rolled back with
   * it; the bus hears of it only after the commit. Throws on an unknown type or a storage error,
   * having written nothing.
   */
  async record(event: SecurityEventInput, options: { manager?: EntityManager } = {}): Promise<void> {
    if (!(SECURITY_EVENT_TYPES as readonly string[]).includes(event.type)) {
      throw new Error(`Unknown security event type '${String(event.type)}'`);
    }
    const row = Object.assign(new SecurityEvent(), {
      id: randomId(),
      userId: event.userId,
      type: event.type,
      method: event.method?.slice(0, 32) ?? null,
      ip: event.ip?.slice(0, 45) ?? null,
      userAgent: event.userAgent?.slice(0, 512) ?? null,
      detail: boundedDetail(event.detail),
      // Set here, not by the database: the cursor compares exactly what was written.
      createdAt: new Date(),
    });
    const write = (manager: EntityManager) => manager.getRepository(SecurityEvent).insert(row);
    // Without the caller's transaction, one INSERT on its own: atomic as it is. Not a transaction of
    // its own: on SQLite's one connection, parallel failed sign-ins then collided ("cannot start a
    // transaction within a transaction") and waited on the lock with the event loop blocked.
    await write(options.manager ?? this.dataSource.manager);
    await this.afterCommit.run(options.manager, () => this.bus.publish(toPublished(row)));
  }

  /** Runs `work` in `manager`'s transaction when given, else in a new one. */
  transaction<T>(manager: EntityManager | undefined, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.transactions.run(work, { manager });
  }

  /** Like {@link record} outside a transaction, but a storage failure is logged, never thrown (failed sign-ins). */
  async recordQuietly(event: SecurityEventInput): Promise<void> {
    try {
      await this.record(event);
    } catch (error) {
      this.logger.error(`Recording ${event.type} failed: ${errorMessage(error)}`);
    }
  }

  /**
   * The user's events, newest first, `limit` of them, before `cursor` when given. 400
   * `INVALID_INPUT` (`before`) when the cursor names an event that is not the user's.
   */
  async list(userId: string, limit: number, cursor?: SecurityEventCursor): Promise<SecurityEventPage> {
    const repository = this.dataSource.getRepository(SecurityEvent);
    const query = repository.createQueryBuilder('e').where('e.userId = :userId', { userId });
    if (cursor && 'id' in cursor) {
      const from = await repository.findOne({
        select: { id: true, createdAt: true },
        where: { id: cursor.id, userId },
      });
      if (!from) throw new ArrafAuthException('INVALID_INPUT', { field: 'before' });
      query.andWhere(
        new Brackets((where) =>
          where
            .where('e.createdAt < :at', { at: from.createdAt })
            .orWhere('(e.createdAt = :at AND e.id < :id)', { id: from.id }),
        ),
      );
    } else if (cursor) {
      query.andWhere('e.createdAt < :time', { time: cursor.time });
    }
    const rows = await query
      .orderBy('e.createdAt', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit).map((row) => toOwnerEvent(row));
    return { events: page, next: rows.length > limit ? page[page.length - 1].id : null };
  }

  /** Deletes every event of `userId` in `manager`'s transaction (account deletion); returns how many. */
  async deleteForUser(userId: string, manager: EntityManager): Promise<number> {
    return (await manager.getRepository(SecurityEvent).delete({ userId })).affected ?? 0;
  }

  /** Deletes events created before `before`, `batchSize` per statement (retention); returns how many. */
  deleteBefore(before: Date, batchSize: number): Promise<number> {
    const repository = this.dataSource.getRepository(SecurityEvent);
    return inBatches(repository, { createdAt: LessThan(before) }, batchSize, (ids) =>
      repository.delete({ id: In(ids) }),
    );
  }

  /**
   * Erases the IP address and user agent of events created before `before`, `batchSize` per
   * UPDATE (retention); only rows that still hold one are touched, so a second run changes nothing.
   */
  eraseClientDetailsBefore(before: Date, batchSize: number): Promise<number> {
    return eraseClientDetailsBefore(this.dataSource.getRepository(SecurityEvent), 'ip', before, batchSize);
  }
}
