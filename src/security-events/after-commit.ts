import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { errorMessage } from '../utils/error-message.js';

/** Work to do once committed; a promise is awaited before the next callback (and before the commit returns). */
export type AfterCommitCallback = () => void | Promise<void>;

interface Deferred {
  /** The transaction depth it was queued at: a savepoint rolled back drops what was queued inside it. */
  depth: number;
  run: AfterCommitCallback;
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/**
 * Runs a callback once the caller's transaction has committed (at once when there is none), and
 * never when it rolls back: a TypeORM subscriber on the application's `DataSource` watching
 * commits and rollbacks, savepoints included. The one after-commit queue of the module: security
 * events are published, and session invalidations sent to the other instances, through it.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ArrafAuth');
  private readonly pending = new Map<QueryRunner, Deferred[]>();

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.dataSource.subscribers.push(this);
  }

  onApplicationShutdown(): void {
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  /**
   * Runs `callback` after `manager`'s transaction commits (the commit returns once it has run), or
   * now outside a transaction (the returned promise settles once it has run). A failure is logged.
   */
  async run(manager: EntityManager | undefined, callback: AfterCommitCallback): Promise<void> {
    const runner = manager?.queryRunner;
    if (!runner?.isTransactionActive) return this.safely(callback);
    const list = this.pending.get(runner) ?? [];
    list.push({ depth: depthOf(runner), run: callback });
    this.pending.set(runner, list);
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const runner = event.queryRunner;
    const list = this.pending.get(runner);
    if (!list) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: what it queued now belongs to the enclosing transaction.
      const depth = depthOf(runner);
      for (const deferred of list) deferred.depth = Math.min(deferred.depth, depth);
      return;
    }
    this.pending.delete(runner);
    for (const deferred of list) await this.safely(deferred.run);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const list = this.pending.get(runner);
    if (!list) return;
    const depth = runner.isTransactionActive ? depthOf(runner) : 0;
    const kept = list.filter((deferred) => deferred.depth <= depth);
    if (kept.length > 0) this.pending.set(runner, kept);
    else this.pending.delete(runner);
  }

  private async safely(callback: AfterCommitCallback): Promise<void> {
    try {
      await callback();
    } catch (error) {
      this.logger.error(`An after-commit callback failed: ${errorMessage(error)}`);
    }
  }
}
