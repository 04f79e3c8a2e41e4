import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  DataSource,
  type EntityMetadata,
  type EntityTarget,
  In,
  LessThan,
  MoreThan,
  Not,
  type ObjectLiteral,
  QueryFailedError,
} from 'typeorm';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { sha256 } from '../crypto/crypto.util.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { TwoFactor } from '../two-factor/two-factor.entity.js';
import type { SessionLookupKey } from './session-codec.interface.js';
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

type Columns = EntityMetadata['columns'];

interface Queries {
  byTokenHash: string;
  byId: string;
  /** Names of the lookups as PostgreSQL prepared statements, derived from their text. */
  statementNames: Map<string, string>;
  touch: string;
  renew: string;
  userColumns: Columns;
  userPrototype: object;
  sessionColumns: Columns;
  /** Whether the lookups also answer "has a second factor" (`twoFactor.required`). */
  secondFactor: boolean;
}

/**
 * The default {@link SessionStore}: session rows in the application's TypeORM database. A lookup
 * is one SQL join of session and user, hydrated without the ORM's entity builder, and on
 * PostgreSQL a named prepared statement; renewal and activity are one UPDATE each.
 */
@Injectable()
export class TypeOrmSessionStore implements SessionStore {
  private readonly logger = new Logger('ArrafAuth');
  private queries?: Queries;
  /** Whether lookups run as named prepared statements (PostgreSQL); decided on first use. */
  private preparedStatements?: boolean;

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
    const queries = this.lookupQueries();
    const [sql, value] = key.by === 'id' ? [queries.byId, key.sessionId] : [queries.byTokenHash, key.tokenHash];
    return this.lookup(queries, sql, [value]).then((rows) =>
      rows.length === 0 ? null : this.hydrate(rows[0], queries),
    );
  }

  async update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): Promise<void> {
    const queries = this.lookupQueries();
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

  private repository(options: SessionWriteOptions) {
    return (options.manager ?? this.dataSource.manager).getRepository(Session);
  }

  /**
   * Runs a session lookup. On PostgreSQL it is a named prepared statement, so the server parses and
   * plans the join once per connection instead of on every request (about two thirds of the
   * database's CPU per lookup; bench/results.md). It goes through TypeORM's query runner and logger
   * like `dataSource.query` does (logQuery, logQuerySlow, logQueryError, QueryFailedError). Other
   * databases, DataSources with query subscribers, and connection paths that lose prepared statements
   * (transaction pooling) use `dataSource.query`.
   */
  private lookup(queries: Queries, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
    this.preparedStatements ??=
      this.dataSource.driver.options.type === 'postgres' &&
      !this.dataSource.subscribers.some((s) => s.beforeQuery !== undefined || s.afterQuery !== undefined);
    return this.preparedStatements ? this.prepared(queries, sql, parameters) : this.dataSource.query(sql, parameters);
  }

  /** {@link lookup} as a named prepared statement, through TypeORM's query runner and logger. */
  private async prepared(queries: Queries, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
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
        this.preparedStatements = false;
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
  private hydrate(row: Record<string, unknown>, queries: Queries): StoredSession {
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

  /** Builds the SQL once from the entity metadata, so naming strategies and User subclasses are honoured. */
  private lookupQueries(): Queries {
    if (this.queries) return this.queries;
    const driver = this.dataSource.driver;
    const userMetadata = this.dataSource.getMetadata(USER_TABLE);
    const sessionMetadata = this.dataSource.getMetadata(Session);
    const q = (name: string) => driver.escape(name);
    const table = (metadata: EntityMetadata) => metadata.tablePath.split('.').map(q).join('.');
    const col = (metadata: EntityMetadata, property: string) =>
      q(metadata.findColumnWithPropertyName(property)!.databaseName);
    // Plain columns only; `userId` is both a column and a relation's join column and stays.
    const plain = (c: Columns[number]) => !c.isVirtual && c.relationMetadata?.propertyName !== c.propertyName;
    const userColumns = userMetadata.columns.filter(plain);
    const sessionColumns = sessionMetadata.columns.filter(plain);
    const p = (i: number) => driver.createParameter(`p${i}`, i);
    const secondFactor = this.secondFactorColumn();
    const select =
      `SELECT ${sessionColumns.map((c) => `s.${q(c.databaseName)} AS ${q(`s_${c.propertyName}`)}`).join(', ')}, ` +
      `${userColumns.map((c) => `u.${q(c.databaseName)} AS ${q(`u_${c.propertyName}`)}`).join(', ')}` +
      `${secondFactor ?? ''} FROM ${table(sessionMetadata)} s INNER JOIN ${table(userMetadata)} u ` +
      `ON u.${col(userMetadata, 'id')} = s.${col(sessionMetadata, 'userId')}`;
    const sessionTable = table(sessionMetadata);
    const id = col(sessionMetadata, 'id');
    const byTokenHash = `${select} WHERE s.${col(sessionMetadata, 'tokenHash')} = ${p(0)}`;
    const byId = `${select} WHERE s.${id} = ${p(0)}`;
    this.queries = {
      byTokenHash,
      byId,
      // From the text, so a statement name never stands for two different texts on one connection.
      statementNames: new Map([byTokenHash, byId].map((sql) => [sql, `arraf_auth_${sha256(sql).slice(0, 16)}`])),
      renew:
        `UPDATE ${sessionTable} SET ${col(sessionMetadata, 'expiresAt')} = ${p(0)}, ` +
        `${col(sessionMetadata, 'lastActiveAt')} = ${p(1)} WHERE ${id} = ${p(2)}`,
      touch: `UPDATE ${sessionTable} SET ${col(sessionMetadata, 'lastActiveAt')} = ${p(0)} WHERE ${id} = ${p(1)}`,
      userColumns,
      userPrototype: (userMetadata.target as { prototype: object }).prototype,
      sessionColumns,
      secondFactor: secondFactor !== undefined,
    };
    return this.queries;
  }

  /**
   * With `twoFactor.required`, the guard needs "has a second factor" (an active authenticator or a
   * passkey, as `TwoFactorService.hasSecondFactor`) on every request: answered by the lookup itself,
   * as two indexed `EXISTS`, instead of one or two more queries.
   */
  private secondFactorColumn(): string | undefined {
    const ds = this.dataSource;
    if (!this.options?.twoFactor.required || !ds.hasMetadata(TwoFactor) || !ds.hasMetadata(Passkey)) return undefined;
    const q = (name: string) => ds.driver.escape(name);
    const [factors, passkeys] = [ds.getMetadata(TwoFactor), ds.getMetadata(Passkey)];
    const table = (m: EntityMetadata) => m.tablePath.split('.').map(q).join('.');
    const col = (m: EntityMetadata, property: string) => m.findColumnWithPropertyName(property)!;
    const enabled = col(factors, 'enabled');
    const yes = String(ds.driver.preparePersistentValue(true, enabled));
    const userId = q(ds.getMetadata(USER_TABLE).findColumnWithPropertyName('id')!.databaseName);
    const owner = (m: EntityMetadata, alias: string) => `${alias}.${q(col(m, 'userId').databaseName)} = u.${userId}`;
    return (
      `, CASE WHEN EXISTS (SELECT 1 FROM ${table(factors)} f WHERE ${owner(factors, 'f')} ` +
      `AND f.${q(enabled.databaseName)} = ${yes}) OR EXISTS (SELECT 1 FROM ${table(passkeys)} k ` +
      `WHERE ${owner(passkeys, 'k')}) THEN 1 ELSE 0 END AS ${q('x_secondFactor')}`
    );
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
