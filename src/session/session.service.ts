import { Inject, Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { KeyObject } from 'node:crypto';
import { DataSource, type EntityMetadata, In, LessThan, MoreThan, Not, QueryFailedError } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { hs256Signature, randomId, randomToken, safeEqual, secretKey, sha256 } from '../crypto/crypto.util.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { Verification } from '../entities/verification.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

/** Audience of session JWTs, so no other JWT signed with the same secret passes as a session. */
const SESSION_AUDIENCE = 'arraf-auth:session';
/** Idle-timeout bookkeeping writes at most this often per session. */
const ACTIVITY_WRITE_INTERVAL_MS = 60_000;
const MAX_USER_AGENT = 512;
const MAX_CREDENTIAL_LENGTH = 4096;
/**
 * PostgreSQL errors meaning named prepared statements do not survive between queries on this
 * connection path (a transaction-pooling proxy such as PgBouncer without prepared-statement
 * support): `prepared statement "…" does not exist` and `… already exists`.
 */
const PREPARED_STATEMENT_UNSUPPORTED = new Set(['26000', '42P05']);
/** A compact JWS as jsonwebtoken/jws accept it: base64url header and payload, optional signature. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Where a session is created from: the platform's `request.ip` and the user agent. */
export interface SessionContext {
  ipAddress?: string | null;
  userAgent?: string | null;
}

/** A valid session with its user. `cookieValue` is set when the cookie must be (re-)issued. */
export interface ActiveSession {
  user: User;
  session: Session;
  cookieValue?: string;
}

/** A freshly created session and the credential for its cookie (JWT or random token). */
export interface CreatedSession {
  session: Session;
  cookieValue: string;
}

/** A session as listed to its owner: no token or hash. */
export interface SessionSummary {
  id: string;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
  expiresAt: Date;
  current: boolean;
}

interface SessionJwtPayload {
  sub: string;
  sid: string;
  email: string | null;
}

/** The part of a node-postgres client the lookup uses. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

interface LookupQueries {
  byTokenHash: string;
  byId: string;
  /** Names of the lookups as PostgreSQL prepared statements, derived from their text. */
  statementNames: Map<string, string>;
  touch: string;
  renew: string;
  userColumns: EntityMetadata['columns'];
  userPrototype: object;
  sessionColumns: EntityMetadata['columns'];
}

/**
 * Creates, checks, renews, lists and revokes sessions for both strategies. Checking a session is
 * one SQL join of session and user (two statements only when it renews); any database error fails
 * closed with 503.
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger('ArrafAuth');
  private readonly settings: ResolvedArrafAuthOptions['session'];
  /** Signing key first; all keys by id for verification (rotation). */
  private readonly keys: { id: string; key: KeyObject }[];
  private queries?: LookupQueries;
  /** Whether lookups run as named prepared statements (PostgreSQL); decided on first use. */
  private preparedStatements?: boolean;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly jwt: JwtService,
  ) {
    this.settings = options.session;
    this.keys = options.secrets.map((secret) => ({
      id: sha256(`arraf-auth:kid:${secret}`).slice(0, 16),
      key: secretKey(secret),
    }));
  }

  /** Creates a session for `user` with a new random token (never reuses one: no fixation). */
  async createSession(user: Pick<User, 'id' | 'email'>, context: SessionContext = {}): Promise<CreatedSession> {
    const token = randomToken(32);
    const now = new Date();
    const session = this.dataSource.getRepository(Session).create({
      id: randomId(),
      userId: user.id,
      tokenHash: sha256(token),
      expiresAt: new Date(now.getTime() + this.settings.expiresIn * 1000),
      lastActiveAt: now,
      createdAt: now,
      ipAddress: context.ipAddress?.slice(0, 45) ?? null,
      userAgent: context.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    });
    await this.dataSource.getRepository(Session).insert(session);
    return { session, cookieValue: this.cookieValueFor(session, user.email, token) };
  }

  /**
   * Resolves a cookie or Bearer credential to its session and user, or `null` for anything
   * invalid, expired, idle or revoked. Expired and idle rows are deleted. Renews the session
   * (and sets `cookieValue`) when it is older than `updateAge` since its last renewal.
   * Throws 503 `SERVICE_UNAVAILABLE` when the database fails.
   */
  async getSession(credential: string | undefined): Promise<ActiveSession | null> {
    if (!credential || credential.length > MAX_CREDENTIAL_LENGTH) return null;
    let payload: SessionJwtPayload | null = null;
    if (this.settings.strategy === 'jwt') {
      payload = this.verifyJwt(credential);
      if (!payload) return null;
    }

    try {
      const queries = this.lookupQueries();
      const rows = await this.lookup(queries, payload ? queries.byId : queries.byTokenHash, [
        payload ? payload.sid : sha256(credential),
      ]);
      if (rows.length === 0) return null;
      const { user, session } = this.hydrate(rows[0], queries);
      if (payload && payload.sub !== session.userId) return null;
      const now = Date.now();
      const idle = this.settings.idleTimeout;
      if (
        session.expiresAt.getTime() <= now ||
        (idle !== undefined && now - session.lastActiveAt.getTime() >= idle * 1000)
      ) {
        await this.dataSource.getRepository(Session).delete({ id: session.id });
        return null;
      }
      return { user, session, cookieValue: await this.renewIfDue(session, user, now, credential) };
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Revokes one session. With `userId`, only if it belongs to that user. Returns whether it existed. */
  async revokeSession(sessionId: string, userId?: string): Promise<boolean> {
    const result = await this.failClosed(() =>
      this.dataSource
        .getRepository(Session)
        .delete(userId === undefined ? { id: sessionId } : { id: sessionId, userId }),
    );
    return (result.affected ?? 0) > 0;
  }

  /** Revokes every session of a user ("log out everywhere", password reset). Returns the count. */
  async revokeUserSessions(userId: string): Promise<number> {
    const result = await this.failClosed(() => this.dataSource.getRepository(Session).delete({ userId }));
    return result.affected ?? 0;
  }

  /** Revokes every session of a user except `currentSessionId`. Returns the count. */
  async revokeOtherSessions(userId: string, currentSessionId: string): Promise<number> {
    const result = await this.failClosed(() =>
      this.dataSource.getRepository(Session).delete({ userId, id: Not(currentSessionId) }),
    );
    return result.affected ?? 0;
  }

  /** The user's unexpired sessions, newest first, without secrets. */
  async listSessions(userId: string, currentSessionId?: string): Promise<SessionSummary[]> {
    const sessions = await this.failClosed(() =>
      this.dataSource.getRepository(Session).find({
        where: { userId, expiresAt: MoreThan(new Date()) },
        order: { createdAt: 'DESC' },
      }),
    );
    return sessions.map((s) => ({
      id: s.id,
      ipAddress: s.ipAddress,
      userAgent: s.userAgent,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      current: s.id === currentSessionId,
    }));
  }

  /** Whether the sign-in behind `session` is recent enough for sensitive actions (`freshAge`). */
  isFresh(session: Pick<Session, 'createdAt'>): boolean {
    return Date.now() - session.createdAt.getTime() <= this.settings.freshAge * 1000;
  }

  /**
   * Deletes expired sessions and verifications in batches of `batchSize`, so concurrent requests
   * keep being served. Returns how many rows were deleted.
   */
  async deleteExpired(batchSize = 1000): Promise<{ sessions: number; verifications: number }> {
    const now = new Date();
    return {
      sessions: await this.deleteInBatches(Session, now, batchSize),
      verifications: await this.deleteInBatches(Verification, now, batchSize),
    };
  }

  /** `Max-Age` for a cookie carrying this session. */
  cookieMaxAge(session: Pick<Session, 'expiresAt'>): number {
    return Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
  }

  private async deleteInBatches(
    entity: typeof Session | typeof Verification,
    now: Date,
    batchSize: number,
  ): Promise<number> {
    const repository = this.dataSource.getRepository<Session | Verification>(entity);
    let total = 0;
    for (;;) {
      const batch = await repository.find({
        select: { id: true },
        where: { expiresAt: LessThan(now) },
        take: batchSize,
      });
      if (batch.length === 0) return total;
      const result = await repository.delete({ id: In(batch.map((row) => row.id)) });
      total += result.affected ?? batch.length;
      if (batch.length < batchSize) return total;
    }
  }

  private cookieValueFor(session: Session, email: string | null | undefined, token: string): string {
    if (this.settings.strategy === 'database') return token;
    const payload: SessionJwtPayload & { exp: number } = {
      sub: session.userId,
      sid: session.id,
      email: email ?? null,
      exp: Math.floor(session.expiresAt.getTime() / 1000),
    };
    const [signing] = this.keys;
    return this.jwt.sign(payload, {
      secret: signing.key as unknown as string,
      algorithm: 'HS256',
      audience: SESSION_AUDIENCE,
      header: { alg: 'HS256', typ: 'JWT', kid: signing.id },
    });
  }

  /**
   * Verifies a session JWT: HS256 only, the key chosen by `kid` from the local keyring, a
   * constant-time signature comparison, then `nbf`, `exp` and the audience. The same checks, in the
   * same order, as `jsonwebtoken.verify(token, key, { algorithms: ['HS256'], audience })`, without
   * its per-call option handling, which cost more than the HMAC itself on the hot path
   * (bench/results.md). `exp` is also required: every session JWT carries one.
   */
  private verifyJwt(token: string): SessionJwtPayload | null {
    if (!COMPACT_JWS.test(token)) return null;
    const headerEnd = token.indexOf('.');
    const payloadEnd = token.indexOf('.', headerEnd + 1);
    const header = parseJsonPart(token.slice(0, headerEnd));
    if (!header || header.alg !== 'HS256') return null;
    const entry = this.keys.find((k) => k.id === header.kid);
    if (!entry) return null;
    const expected = hs256Signature(entry.key, token.slice(0, payloadEnd));
    if (!safeEqual(token.slice(payloadEnd + 1), expected)) return null;
    const payload = parseJsonPart(token.slice(headerEnd + 1, payloadEnd));
    if (!payload) return null;
    const now = Math.floor(Date.now() / 1000);
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) return null;
    if (typeof payload.exp !== 'number' || now >= payload.exp) return null;
    const audience = payload.aud;
    if (!(Array.isArray(audience) ? audience.includes(SESSION_AUDIENCE) : audience === SESSION_AUDIENCE)) return null;
    return typeof payload.sid === 'string' && typeof payload.sub === 'string'
      ? (payload as unknown as SessionJwtPayload)
      : null;
  }

  private async renewIfDue(session: Session, user: User, now: number, credential: string): Promise<string | undefined> {
    const { expiresIn, updateAge, idleTimeout } = this.settings;
    const renewedAt = session.expiresAt.getTime() - expiresIn * 1000;
    const queries = this.lookupQueries();
    const driver = this.dataSource.driver;
    const dateColumn = (name: string) => queries.sessionColumns.find((c) => c.propertyName === name)!;
    if (now - renewedAt >= updateAge * 1000) {
      session.expiresAt = new Date(now + expiresIn * 1000);
      session.lastActiveAt = new Date(now);
      await this.dataSource.query(queries.renew, [
        driver.preparePersistentValue(session.expiresAt, dateColumn('expiresAt')),
        driver.preparePersistentValue(session.lastActiveAt, dateColumn('lastActiveAt')),
        session.id,
      ]);
      // The database strategy's token never changes; the JWT carries the new `exp`.
      return this.settings.strategy === 'database' ? credential : this.cookieValueFor(session, user.email, '');
    }
    if (idleTimeout !== undefined && now - session.lastActiveAt.getTime() >= ACTIVITY_WRITE_INTERVAL_MS) {
      session.lastActiveAt = new Date(now);
      await this.dataSource.query(queries.touch, [
        driver.preparePersistentValue(session.lastActiveAt, dateColumn('lastActiveAt')),
        session.id,
      ]);
    }
    return undefined;
  }

  /**
   * Runs a session lookup. On PostgreSQL it is a named prepared statement, so the server parses and
   * plans the join once per connection instead of on every request (about two thirds of the
   * database's CPU per lookup; bench/results.md). It goes through TypeORM's query runner and logger
   * like `dataSource.query` does (logQuery, logQuerySlow, logQueryError, QueryFailedError). Other
   * databases, DataSources with query subscribers, and connection paths that lose prepared statements
   * (transaction pooling) use `dataSource.query`.
   */
  private async lookup(queries: LookupQueries, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
    this.preparedStatements ??=
      this.dataSource.driver.options.type === 'postgres' &&
      !this.dataSource.subscribers.some((s) => s.beforeQuery !== undefined || s.afterQuery !== undefined);
    if (!this.preparedStatements) return this.dataSource.query(sql, parameters);
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

  private hydrate(row: Record<string, unknown>, queries: LookupQueries): { user: User; session: Session } {
    const driver = this.dataSource.driver;
    const user = Object.create(queries.userPrototype) as Record<string, unknown>;
    for (const column of queries.userColumns) {
      user[column.propertyName] = driver.prepareHydratedValue(row[`u_${column.propertyName}`], column);
    }
    const session = Object.create(Session.prototype) as Record<string, unknown>;
    for (const column of queries.sessionColumns) {
      session[column.propertyName] = driver.prepareHydratedValue(row[`s_${column.propertyName}`], column);
    }
    return { user: user as unknown as User, session: session as unknown as Session };
  }

  /** Builds the lookup SQL once from the entity metadata, so naming strategies and User subclasses are honoured. */
  private lookupQueries(): LookupQueries {
    if (this.queries) return this.queries;
    const driver = this.dataSource.driver;
    const userMetadata = this.dataSource.getMetadata(USER_TABLE);
    const sessionMetadata = this.dataSource.getMetadata(Session);
    const q = (name: string) => driver.escape(name);
    const table = (metadata: EntityMetadata) => metadata.tablePath.split('.').map(q).join('.');
    const col = (metadata: EntityMetadata, property: string) =>
      metadata.findColumnWithPropertyName(property)!.databaseName;
    // Plain columns only; `userId` is both a column and a relation's join column and stays.
    const plain = (c: EntityMetadata['columns'][number]) =>
      !c.isVirtual && c.relationMetadata?.propertyName !== c.propertyName;
    const userColumns = userMetadata.columns.filter(plain);
    const sessionColumns = sessionMetadata.columns.filter(plain);
    const p = (i: number) => driver.createParameter(`p${i}`, i);
    const select =
      `SELECT ${sessionColumns.map((c) => `s.${q(c.databaseName)} AS ${q(`s_${c.propertyName}`)}`).join(', ')}, ` +
      `${userColumns.map((c) => `u.${q(c.databaseName)} AS ${q(`u_${c.propertyName}`)}`).join(', ')} ` +
      `FROM ${table(sessionMetadata)} s INNER JOIN ${table(userMetadata)} u ` +
      `ON u.${q(col(userMetadata, 'id'))} = s.${q(col(sessionMetadata, 'userId'))}`;
    const sessionTable = table(sessionMetadata);
    const id = q(col(sessionMetadata, 'id'));
    const byTokenHash = `${select} WHERE s.${q(col(sessionMetadata, 'tokenHash'))} = ${p(0)}`;
    const byId = `${select} WHERE s.${id} = ${p(0)}`;
    this.queries = {
      byTokenHash,
      byId,
      // From the text, so a statement name never stands for two different texts on one connection.
      statementNames: new Map([byTokenHash, byId].map((sql) => [sql, `arraf_auth_${sha256(sql).slice(0, 16)}`])),
      renew:
        `UPDATE ${sessionTable} SET ${q(col(sessionMetadata, 'expiresAt'))} = ${p(0)}, ` +
        `${q(col(sessionMetadata, 'lastActiveAt'))} = ${p(1)} WHERE ${id} = ${p(2)}`,
      touch: `UPDATE ${sessionTable} SET ${q(col(sessionMetadata, 'lastActiveAt'))} = ${p(0)} WHERE ${id} = ${p(1)}`,
      userColumns,
      userPrototype: (userMetadata.target as { prototype: object }).prototype,
      sessionColumns,
    };
    return this.queries;
  }

  /** Runs a database operation; any failure is 503 `SERVICE_UNAVAILABLE`, on any route, never a 500. */
  private async failClosed<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): ArrafAuthException {
    if (error instanceof ArrafAuthException) return error;
    this.logger.error(`Session check failed closed: ${error instanceof Error ? error.message : String(error)}`);
    return new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
  }
}

/** A base64url JSON object of a JWS, or `null` when it does not decode to one. */
function parseJsonPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
