import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { sqliteTransactionQueue } from './sqlite-transaction-queue.js';

const SQLITE_TYPES = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'react-native', 'expo']);

/** Whether `dataSource` is SQLite: one connection, no row locks. */
export function isSqlite(dataSource: DataSource): boolean {
  return SQLITE_TYPES.has(dataSource.driver.options.type);
}

/** How {@link Transactions.run} runs its work. */
export interface TransactionOptions {
  /** The caller's manager: when it is in a transaction, the work joins it instead of starting one. */
  manager?: EntityManager;
  /** When joining the caller's transaction, run the work in a savepoint of it (a failure undoes only the work). */
  savepoint?: boolean;
}

/**
 * Every transaction of the module starts here. On PostgreSQL and MariaDB/MySQL it is
 * `dataSource.transaction` (a connection of its own, row locks order the writers). On SQLite, whose
 * one connection cannot hold two transactions, the module's transactions run one at a time, and a
 * statement from outside the open one waits for its end (see {@link sqliteTransactionQueue}).
 */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in the caller's transaction (`options.manager`, when it is in one), else in a new one.
   *
   * @example await this.transactions.run(async (tx) => tx.getRepository(Session).delete({ userId }), { manager });
   */
  run<T>(work: (manager: EntityManager) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const { manager } = options;
    if (manager?.queryRunner?.isTransactionActive) return options.savepoint ? manager.transaction(work) : work(manager);
    if (isSqlite(this.dataSource)) return sqliteTransactionQueue(this.dataSource).run(work);
    return (manager ?? this.dataSource.manager).transaction(work);
  }
}
