import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  DataSource,
  type EntityTarget,
  In,
  LessThan,
  MoreThan,
  Not,
  type ObjectLiteral,
  QueryFailedError,
} from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { SqliteTransactionQueue, sqliteTransactionQueue } from '../database/sqlite-transaction-queue.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { SessionLookupKey } from './session-codec.interface.js';
import { buildSessionQueries, type SessionQueries } from './session-queries.js';
import type { SessionStore, SessionWriteOptions, StoredSession } from './session-store.interface.js';

/**
 * PostgreSQL errors meaning named prepared statements do not survive between queries on this
 * connection path (a transaction-pooling proxy such as PgBouncer without prepared-statement
 * support): `prepared statement "…" does not exist` and `… already exists`.
 */
const PREPARED_STATEMENT_UNSUPPORTED = new Set(['26000', '42P05']);

/** The part of a node-postgres client the lookup uses. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

/** The part of a better-sqlite3 database and statement the lookup uses. */
interface SqliteStatement {
  all(...parameters: unknown[]): Record<string, unknown>[];
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

/**
 * The default {@link SessionStore}: session rows in the application's TypeORM database. A lookup
 * is one SQL join of session and user, hydrated without the ORM's entity builder, and on
 * PostgreSQL a named prepared statement; renewal and activity are one UPDATE each.
 */
@Injectable()
export class TypeOrmSessionStore implements SessionStore {
  private readonly logger = new Logger('ArrafAuth');
  private queries?: SessionQueries;
  /** How lookups run (see {@link choosePath}); decided on first use. */
  private lookupPath?: 'prepared' | 'sqlite' | 'query';
  /** better-sqlite3 statements of the lookups, per connection (a re-initialised DataSource has a new one). */
  private readonly sqliteStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

  constructor(
    private readonly dataSource: DataSource,
    // Optional so `new TypeOrmSessionStore(dataSource)` keeps working; the module provides it.
    @Optional() @Inject(ARRAF_AUTH_OPTIONS) private readonly options?: ResolvedArrafAuthOptions,
  ) {}

  async insert(session: Session): Promise<void> {
    await this.dataSource.getRepository(Session).insert(session);
  }

  // Promise chains rather than `async`: no extra turns of the microtask queue on the guard's path.
  find(key: SessionLookupKey): Promise<StoredSession | null> {
    const queries = this.sessionQueries();
    const [sql, value] = key.by === 'id' ? [queries.byId, key.sessionId] : [queries.byTokenHash, key.tokenHash];
    return this.lookup(queries, sql, [value]).then((rows) =>
      rows.length === 0 ? null : this.hydrate(rows[0], queries),
    );
  }

  async update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): Promise<void> {
    const queries = this.sessionQueries();
    const driver = this.dataSource.driver;
    const persist = (value: Date, name: string) =>
      driver.preparePersistentValue(
        value,
        queries.sessionColumns.find((c) => c.propertyName === name)!,
      );
    const lastActiveAt = persist(changes.lastActiveAt, 'lastActiveAt');
    await (changes.expiresAt === undefined
      ? this.dataSource.query(queries.touch, [lastActiveAt, sessionId])
      : this.dataSource.query(queries.renew, [persist(changes.expiresAt, 'expiresAt'), lastActiveAt, sessionId]));
  }

  async delete(sessionId: string, options: SessionWriteOptions & { userId?: string } = {}): Promise<boolean> {
    const where = options.userId === undefined ? { id: sessionId } : { id: sessionId, userId: options.userId };
    const result = await this.repository(options).delete(where);
    return (result.affected ?? 0) > 0;
  }

  async deleteByUser(
    userId: string,
    options: SessionWriteOptions & { exceptSessionId?: string } = {},
  ): Promise<number> {
    const { exceptSessionId } = options;
    const where = exceptSessionId === undefined ? { userId } : { userId, id: Not(exceptSessionId) };
    return (await this.repository(options).delete(where)).affected ?? 0;
  }

  listByUser(userId: string, now: Date): Promise<Session[]> {
    return this.dataSource.getRepository(Session).find({
      where: { userId, expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }

  deleteExpired(now: Date, batchSize: number): Promise<number> {
    return deleteExpiredInBatches(this.dataSource, Session, now, batchSize);
  }

  private sessionQueries(): SessionQueries {
    return (this.queries ??= buildSessionQueries(this.dataSource, this.options?.twoFactor.required ?? false));
  }

  private repository(options: SessionWriteOptions) {
    return (options.manager ?? this.dataSource.manager).getRepository(Session);
  }

  /**
   * Runs a session lookup. On PostgreSQL it is a named prepared statement, so the server parses and
   * plans the join once per connection instead of on every request (about two thirds of the
   * database's CPU per lookup; bench/results.md). On better-sqlite3 it is the driver's statement,
   * called directly. Both go through TypeORM's logger like `dataSource.query` does (logQuery,
   * logQueryError, QueryFailedError; logQuerySlow on PostgreSQL). Other databases, DataSources with
   * query subscribers, and connection paths that lose prepared statements use `dataSource.query`.
   */
  private lookup(queries: SessionQueries, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
    this.lookupPath ??= this.choosePath();
    if (this.lookupPath === 'sqlite') {
      // Never inside another request's open transaction: wait for its end, as `dataSource.query` would.
      const waiting = sqliteTransactionQueue(this.dataSource).beforeQuery();
      return waiting ? waiting.then(() => this.sqlite(sql, parameters)) : this.sqlite(sql, parameters);
    }
    return this.lookupPath === 'prepared'
      ? this.prepared(queries, sql, parameters)
      : this.dataSource.query(sql, parameters);
  }

  /**
   * PostgreSQL: named prepared statements. better-sqlite3: the driver's own statement, run directly
   * (TypeORM's query runner adds a query runner, two broadcasts and three awaits around the same
   * synchronous call), after the module's own SQLite transaction queue (asked directly). DataSources
   * with other query subscribers keep `dataSource.query`, which calls them.
   */
  private choosePath(): 'prepared' | 'sqlite' | 'query' {
    const subscribed = this.dataSource.subscribers.some(
      (s) => !(s instanceof SqliteTransactionQueue) && (s.beforeQuery !== undefined || s.afterQuery !== undefined),
    );
    const type = this.dataSource.driver.options.type;
    if (subscribed) return 'query';
    return type === 'postgres' ? 'prepared' : type === 'better-sqlite3' ? 'sqlite' : 'query';
  }

  /** {@link lookup} on better-sqlite3: a statement prepared once per connection, through TypeORM's logger. */
  private sqlite(sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
    const connection = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    let statements = this.sqliteStatements.get(connection);
    if (!statements) this.sqliteStatements.set(connection, (statements = new Map()));
    const logger = this.dataSource.logger;
    logger.logQuery(sql, parameters);
    try {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = connection.prepare(sql)));
      return Promise.resolve(statement.all(...parameters));
    } catch (error) {
      logger.logQueryError(error as Error, sql, parameters);
      return Promise.reject(new QueryFailedError(sql, parameters, error as Error));
    }
  }

  /** {@link lookup} as a named prepared statement, through TypeORM's query runner and logger. */
  private async prepared(
    queries: SessionQueries,
    sql: string,
    parameters: unknown[],
  ): Promise<Record<string, unknown>[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PgClient;
      const logger = this.dataSource.logger;
      logger.logQuery(sql, parameters, runner);
      const started = Date.now();
      try {
        const { rows } = await client.query({ name: queries.statementNames.get(sql)!, text: sql, values: parameters });
        const elapsed = Date.now() - started;
        const slow = this.dataSource.driver.options.maxQueryExecutionTime;
        if (slow && elapsed > slow) logger.logQuerySlow(elapsed, sql, parameters, runner);
        return rows;
      } catch (error) {
        if (!PREPARED_STATEMENT_UNSUPPORTED.has((error as { code?: string }).code ?? '')) {
          logger.logQueryError(error as Error, sql, parameters, runner);
          throw new QueryFailedError(sql, parameters, error as Error);
        }
        this.lookupPath = 'query';
        this.logger.warn(
          'Prepared statements are not kept on this PostgreSQL connection path; session lookups use plain queries',
        );
      }
    } finally {
      await runner.release();
    }
    return this.dataSource.query(sql, parameters);
  }

  /** Builds the entities from one joined row with the driver's own conversions, skipping the ORM's builder. */
  private hydrate(row: Record<string, unknown>, queries: SessionQueries): StoredSession {
    const driver = this.dataSource.driver;
    const user = Object.create(queries.userPrototype) as Record<string, unknown>;
    for (const column of queries.userColumns) {
      user[column.propertyName] = driver.prepareHydratedValue(row[`u_${column.propertyName}`], column);
    }
    const session = Object.create(Session.prototype) as Record<string, unknown>;
    for (const column of queries.sessionColumns) {
      session[column.propertyName] = driver.prepareHydratedValue(row[`s_${column.propertyName}`], column);
    }
    const stored: StoredSession = { user: user as unknown as User, session: session as unknown as Session };
    if (queries.secondFactor) stored.secondFactor = Number(row.x_secondFactor) === 1;
    return stored;
  }
}

/**
 * Deletes rows of `entity` whose `expiresAt` is before `now`, `batchSize` at a time, so concurrent
 * requests keep being served. Returns how many rows were deleted.
 */
export async function deleteExpiredInBatches<T extends ObjectLiteral & { id: string; expiresAt: Date }>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  now: Date,
  batchSize: number,
): Promise<number> {
  const repository = dataSource.getRepository<{ id: string; expiresAt: Date }>(entity as EntityTarget<never>);
  let total = 0;
  for (;;) {
    const batch = await repository.find({ select: { id: true }, where: { expiresAt: LessThan(now) }, take: batchSize });
    if (batch.length === 0) return total;
    const result = await repository.delete({ id: In(batch.map((row) => row.id)) });
    total += result.affected ?? batch.length;
    if (batch.length < batchSize) return total;
  }
}
