import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';

interface Deferred {
  /** The transaction depth it was queued at: a savepoint rolled back drops what was queued inside it. */
  depth: number;
  run: () => void;
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/**
 * Runs a callback once the caller's transaction has committed (at once when there is none), and
 * never when it rolls back: a TypeORM subscriber on the application's `DataSource` watching
 * commits and rollbacks, savepoints included.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ArrafAuth:SecurityEvents');
  private readonly pending = new Map<QueryRunner, Deferred[]>();

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.dataSource.subscribers.push(this);
  }

  onApplicationShutdown(): void {
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  /** Runs `callback` after `manager`'s transaction commits, or now outside a transaction. */
  run(manager: EntityManager | undefined, callback: () => void): void {
    const runner = manager?.queryRunner;
    if (!runner?.isTransactionActive) return this.safely(callback);
    const list = this.pending.get(runner) ?? [];
    list.push({ depth: depthOf(runner), run: callback });
    this.pending.set(runner, list);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
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
    for (const deferred of list) this.safely(deferred.run);
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

  private safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.error(`An after-commit callback failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
