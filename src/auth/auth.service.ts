import { HttpException, Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { randomId } from '../crypto/crypto.util.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions, SignInMethod } from '../options/arraf-auth-options.interface.js';
import type { PublicSession, PublicUser } from '../session/session.serializer.js';
import { SessionService } from '../session/session.service.js';

/** What every successful sign-in answers with. */
export interface SignInResult {
  user: PublicUser;
  session: PublicSession;
}

/** Where a sign-in comes from, as plain data (the edge reads it from the request). */
export interface SignInContext {
  ipAddress?: string | null;
  userAgent?: string | null;
  /** The session credential the client already holds: that session ends with this sign-in. */
  replaces?: string;
}

/**
 * Marks the context of a sign-in whose `beforeSignIn` already ran, before its second-factor step
 * (set by the sign-in edge only; not exported from the package, so no caller can skip the hook).
 */
export const BEFORE_SIGN_IN_RAN = Symbol('ARRAF_AUTH:BEFORE_SIGN_IN_RAN');

/** A {@link SignInContext} as the module's own sign-in edge builds it. */
export interface EdgeSignInContext extends SignInContext {
  [BEFORE_SIGN_IN_RAN]?: boolean;
}

/** A completed sign-in: the user, the new session, and the token the client gets for it. */
export interface CompletedSignIn {
  user: User;
  session: Session;
  /** The cookie value (JWT or random token); never stored. */
  token: string;
}

const MAX_USER_AGENT = 512;

/** Whether a database error is a unique-constraint violation (PostgreSQL, MySQL/MariaDB, SQLite). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; driverError?: { code?: unknown; errno?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  const errno = e?.driverError?.errno ?? e?.errno;
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * What all sign-in flows share: finding and creating users, running the hooks in order, and
 * ending a successful flow in a new session (data only: the edge writes the cookie). A hook that throws stops the flow and
 * leaves no session.
 */
@Injectable()
export class AuthService {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly sessions: SessionService,
  ) {}

  /** The user repository, for the application's `User` subclass when it has one. */
  users(manager: EntityManager = this.dataSource.manager) {
    return manager.getRepository<User>(USER_TABLE);
  }

  /** Exact lookup by normalised email. */
  async findUserByEmail(email: string): Promise<User | null> {
    const user = await this.users().findOneBy({ email });
    // Defence in depth against accent- or case-insensitive collations.
    return user && user.email === email ? user : null;
  }

  /** Exact lookup by E.164 phone. */
  async findUserByPhone(phone: string): Promise<User | null> {
    const user = await this.users().findOneBy({ phone });
    return user && user.phone === phone ? user : null;
  }

  /**
   * Stores a new user after `beforeSignUp`, then calls `afterSignUp`. Throws 409
   * `USER_ALREADY_EXISTS` when the email or phone is taken. `beforeInsert` and `afterInsert` run
   * in the insert's transaction (e.g. releasing another account's unverified claim on the phone).
   */
  async createUser(
    fields: Partial<User>,
    method: SignInMethod,
    manager: EntityManager = this.dataSource.manager,
    afterInsert?: (user: User, manager: EntityManager) => Promise<void>,
    beforeInsert?: (user: User, manager: EntityManager) => Promise<void>,
  ): Promise<User> {
    const draft: Partial<User> = {
      emailVerified: false,
      phoneVerified: false,
      email: null,
      phone: null,
      name: null,
      image: null,
      ...fields,
    };
    await this.runHook(this.options.hooks.beforeSignUp, { user: draft, method });
    const repository = this.users(manager);
    const user = repository.create({ ...draft, id: randomId() });
    try {
      await this.transactions.run(
        async (tx) => {
          await beforeInsert?.(user, tx);
          await this.users(tx).insert(user);
          await afterInsert?.(user, tx);
        },
        { manager, savepoint: true },
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ArrafAuthException('USER_ALREADY_EXISTS');
      throw error;
    }
    const saved = (await repository.findOneBy({ id: user.id })) ?? user;
    await this.runHook(this.options.hooks.afterSignUp, { user: saved, method });
    return saved;
  }

  /**
   * Ends a successful sign-in: `beforeSignIn`, a new session (a fresh token every time),
   * `afterSignIn` and `after` (both revoke the new session if they throw), then the end of the
   * session the request already carried (`context.replaces`: no session survives a sign-in on the
   * same client, checklist S3). Returns data; the edge turns `token` into the cookie.
   */
  async completeSignIn(
    user: User,
    method: SignInMethod,
    context: SignInContext = {},
    after?: (session: Session) => Promise<void>,
  ): Promise<CompletedSignIn> {
    if (!(context as EdgeSignInContext)[BEFORE_SIGN_IN_RAN])
      await this.runHook(this.options.hooks.beforeSignIn, { user, method });
    const { session, cookieValue } = await this.sessions.createSession(user, {
      ipAddress: context.ipAddress ?? null,
      userAgent: context.userAgent ? context.userAgent.slice(0, MAX_USER_AGENT) : null,
    });
    try {
      await this.runHook(this.options.hooks.afterSignIn, { user, session, method });
      await after?.(session);
    } catch (error) {
      await this.sessions.revokeSession(session.id);
      throw error;
    }
    if (context.replaces !== undefined) {
      const previous = await this.sessions.getSession(context.replaces);
      if (previous && previous.session.id !== session.id) await this.sessions.revokeSession(previous.session.id);
    }
    return { user, session, token: cookieValue };
  }

  /** Runs a hook; an `HttpException` it throws is answered as is, anything else as 403 `HOOK_REJECTED`. */
  async runHook<T>(hook: ((context: T) => void | Promise<void>) | undefined, context: T): Promise<void> {
    if (!hook) return;
    try {
      await hook(context);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      throw new ArrafAuthException('HOOK_REJECTED', { cause: error });
    }
  }
}
