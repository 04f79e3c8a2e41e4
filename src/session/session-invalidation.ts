import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  type InsertEvent,
  type QueryRunner,
  type RemoveEvent,
  type SoftRemoveEvent,
  type UpdateEvent,
} from 'typeorm';
import { randomId } from '../crypto/crypto.util.js';
import { ARRAF_AUTH_OPTIONS, SESSION_TABLE, USER_TABLE } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { AfterCommit } from '../security-events/after-commit.js';
import { PASSKEY_TABLE } from '../passkeys/passkey.entity.js';
import { TWO_FACTOR_TABLE } from '../two-factor/two-factor.constants.js';
import type { InvalidationChannel } from './invalidation-channel.js';
import { SESSION_CACHE, SESSION_CACHE_SETTINGS, SESSION_INVALIDATION_CHANNEL } from './session-cache.constants.js';
import type { ResolvedSessionCacheOptions } from './session-cache.options.js';
import type { SessionCache } from './session-cache.js';

/** What changed: one session, every session of a user, or anything (a write we cannot attribute). */
export type Invalidation = { type: 'session'; id: string } | { type: 'user'; id: string } | { type: 'all' };

interface Message {
  /** The publishing instance. */
  o: string;
  t: 's' | 'u' | 'a' | 'h';
  id?: string;
  /** Heartbeat: when it was sent (ms). */
  at?: number;
}

/** Marks the session layer's own writes, which invalidate precisely, so the subscriber below skips them. */
export const sessionLayerWrite = new AsyncLocalStorage<true>();

const PUBLISH_RETRIES = 3;

/**
 * Keeps every instance's session cache exact. An invalidation is applied here at once and sent to
 * the other instances through the channel; inside a transaction it is applied again and sent once
 * the transaction commits, so no instance keeps what it read before the commit.
 *
 * The channel is trusted only while it proves itself: a heartbeat goes out every
 * `heartbeatInterval` and must come back within `maxLag`. Otherwise, and as soon as the
 * subscription drops, the cache is emptied and switched off (every check reads the database)
 * until heartbeats come back in time. Writes to `users` and `sessions` that do not go through the
 * session layer (the application's own repository calls) are caught by a TypeORM subscriber.
 */
@Injectable()
export class SessionInvalidation implements EntitySubscriberInterface, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ArrafAuth:SessionCache');
  private readonly instanceId = randomId();
  private heartbeat?: NodeJS.Timeout;
  private lastEchoAt = 0;
  private downAt = 0;

  constructor(
    @Inject(SESSION_CACHE_SETTINGS) private readonly settings: ResolvedSessionCacheOptions,
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSION_INVALIDATION_CHANNEL) private readonly channel: InvalidationChannel,
    private readonly dataSource: DataSource,
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly afterCommit: AfterCommit,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.settings.enabled) return;
    this.dataSource.subscribers.push(this);
    await this.channel.start({ message: (payload) => this.receive(payload), down: (reason) => this.down(reason) });
    if (this.channel.kind === 'local') {
      this.cache.setAvailable(true);
      return;
    }
    this.heartbeat = setInterval(() => void this.beat(), this.settings.heartbeatInterval);
    this.heartbeat.unref();
    void this.beat();
    this.logger.log(`Session cache on; invalidation through ${this.channel.kind}`);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
    this.cache.setAvailable(false);
    await this.channel.close();
  }

  /**
   * Applies an invalidation here, then on every other instance. With `manager` inside a
   * transaction, it is applied again and sent once the transaction commits (`AfterCommit`).
   */
  async invalidate(invalidation: Invalidation, manager?: EntityManager): Promise<void> {
    this.apply(invalidation);
    const deferred = manager?.queryRunner?.isTransactionActive === true;
    await this.afterCommit.run(manager, async () => {
      // What was read between the write and the commit is dropped too.
      if (deferred) this.apply(invalidation);
      await this.send(invalidation);
    });
  }

  // TypeORM subscriber: writes to users and sessions made outside the session layer.

  afterInsert(event: InsertEvent<Record<string, unknown>>): Promise<void> {
    return this.onFactorWrite(event.metadata.tableName, 'insert', event.queryRunner, event.entity);
  }

  afterUpdate(event: UpdateEvent<Record<string, unknown>>): Promise<void> {
    const entity = event.entity ?? undefined;
    if (event.metadata.tableName !== USER_TABLE && event.metadata.tableName !== SESSION_TABLE) {
      return this.onFactorWrite(event.metadata.tableName, 'update', event.queryRunner, entity, event.databaseEntity);
    }
    return this.onForeignWrite(
      event.metadata.tableName,
      event.queryRunner,
      event.entity?.id ?? event.databaseEntity?.id,
    );
  }

  afterRemove(event: RemoveEvent<Record<string, unknown>>): Promise<void> {
    const table = event.metadata.tableName;
    if (table !== USER_TABLE && table !== SESSION_TABLE) {
      return this.onFactorWrite(table, 'remove', event.queryRunner, event.entity, event.databaseEntity);
    }
    return this.onForeignWrite(table, event.queryRunner, event.entity?.id ?? event.entityId);
  }

  afterSoftRemove(event: SoftRemoveEvent<Record<string, unknown>>): Promise<void> {
    return this.onForeignWrite(event.metadata.tableName, event.queryRunner, event.entity?.id ?? event.entityId);
  }

  private onForeignWrite(table: string, runner: QueryRunner, id: unknown): Promise<void> {
    if ((table !== USER_TABLE && table !== SESSION_TABLE) || sessionLayerWrite.getStore()) return Promise.resolve();
    // A bulk write (update or delete by criteria) does not say which rows: forget everything.
    const invalidation: Invalidation =
      typeof id !== 'string' ? { type: 'all' } : table === USER_TABLE ? { type: 'user', id } : { type: 'session', id };
    return this.invalidate(invalidation, runner.manager);
  }

  /**
   * With `twoFactor.required` the cached sessions carry "has a second factor": enabling or disabling
   * an authenticator and adding or removing a passkey drop the owner's entries (everyone's when the
   * write does not say whose row it was). Other writes there (a code's step, a passkey's counter) do not.
   */
  private onFactorWrite(
    table: string,
    kind: 'insert' | 'update' | 'remove',
    runner: QueryRunner,
    entity?: Record<string, unknown>,
    before?: Record<string, unknown>,
  ): Promise<void> {
    if (!this.options.twoFactor.required) return Promise.resolve();
    const relevant =
      table === TWO_FACTOR_TABLE
        ? kind === 'remove' || !entity || 'enabled' in entity
        : table === PASSKEY_TABLE && kind !== 'update';
    if (!relevant) return Promise.resolve();
    const userId = entity?.userId ?? before?.userId;
    return this.invalidate(typeof userId === 'string' ? { type: 'user', id: userId } : { type: 'all' }, runner.manager);
  }

  private apply(invalidation: Invalidation): void {
    if (invalidation.type === 'session') this.cache.invalidateSession(invalidation.id);
    else if (invalidation.type === 'user') this.cache.invalidateUser(invalidation.id);
    else this.cache.clear();
  }

  private async send(invalidation: Invalidation): Promise<void> {
    if (this.channel.kind === 'local') return;
    const t = invalidation.type === 'session' ? 's' : invalidation.type === 'user' ? 'u' : 'a';
    const payload = JSON.stringify({ o: this.instanceId, t, id: 'id' in invalidation ? invalidation.id : undefined });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.channel.publish(payload);
        return;
      } catch (error) {
        // Whoever cannot publish probably cannot hear either: stop trusting the cache here too.
        this.down(`publishing an invalidation failed: ${error instanceof Error ? error.message : String(error)}`);
        if (attempt >= PUBLISH_RETRIES) {
          this.logger.error(`Session invalidation not delivered to other instances: ${payload}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  private receive(payload: string): void {
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (message.t === 'h') return this.echo(message);
    if (message.o === this.instanceId) return;
    if (message.t === 's' && typeof message.id === 'string') this.cache.invalidateSession(message.id);
    else if (message.t === 'u' && typeof message.id === 'string') this.cache.invalidateUser(message.id);
    else this.cache.clear();
  }

  /** Our own heartbeat came back: the channel carries messages, and this fast. */
  private echo(message: Message): void {
    if (message.o !== this.instanceId || typeof message.at !== 'number' || message.at <= this.downAt) return;
    const now = Date.now();
    if (now - message.at > this.settings.maxLag) return;
    this.lastEchoAt = Math.max(this.lastEchoAt, message.at);
    if (!this.cache.isAvailable()) {
      this.cache.setAvailable(true);
      this.logger.log(`Invalidation channel (${this.channel.kind}) is back: session cache on, emptied`);
    }
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    if (this.cache.isAvailable() && now - this.lastEchoAt > this.settings.maxLag) {
      this.down(`no heartbeat back within ${this.settings.maxLag} ms`);
    }
    try {
      await this.channel.publish(JSON.stringify({ o: this.instanceId, t: 'h', at: now }));
    } catch {
      // Counted by the missing echo.
    }
  }

  private down(reason: string): void {
    this.downAt = Date.now();
    if (!this.cache.isAvailable()) return;
    this.cache.setAvailable(false);
    this.logger.warn(`Session cache off until the invalidation channel (${this.channel.kind}) is back: ${reason}`);
  }
}
