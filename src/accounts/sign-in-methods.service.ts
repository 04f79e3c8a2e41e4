import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager, In, Not } from 'typeorm';
import { isSqlite, Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { MethodEventLog, type MethodEvent, type MethodEventClient } from './method-event-log.js';

/** A way to sign in that was taken off an account because its owner never proved it. */
export interface RemovedSignInMethod {
  type: 'oauth';
  /** The provider id (`google`, `github`, `oidc`, ...) of the removed identity. */
  providerId: string;
}

/** What a change of sign-in methods works with: its transaction, the locked user, and its events. */
export interface MethodChange {
  /** The transaction: every write of the change goes through it. */
  tx: EntityManager;
  /** The user as locked at the start of the change. */
  user: User;
  /** Records a security event in the same transaction (written once the change passed its checks). */
  record(event: MethodEvent): void;
}

// The `providerId` of the password row (CREDENTIAL_PROVIDER_ID in password.service.ts). Not imported
// from there: password.service.ts imports this file, and a cycle would break decorator metadata.
const PASSWORD_PROVIDER_ID = 'credential';

/**
 * The one place that knows which ways into an account exist and keeps the last one:
 *
 * - the ways in: a verified phone (a code signs it in), the password when the account has an email
 *   to sign in with, each identity of a configured OAuth provider, each passkey (when passkeys are on);
 * - {@link change}: every add, change or removal of a sign-in method runs in one transaction that
 *   first locks the user row (`SELECT ... FOR UPDATE` on PostgreSQL and MariaDB/MySQL; on SQLite,
 *   whose one connection does not isolate concurrent transactions, changes run one at a time) and,
 *   after the change, counts the ways in again: none left where there were some is 409
 *   `LAST_SIGN_IN_METHOD` and nothing is changed. Two parallel removals of the last two methods
 *   are serialised by the lock, so the second sees one method left and is refused.
 * - which methods a proven email removes ({@link removeUnprovenMethods}).
 */
@Injectable()
export class SignInMethodsService {
  private readonly logger = new Logger('ArrafAuth:Accounts');
  /** The configured providers: an identity counts as a way in only while its provider is one of them. */
  private readonly providerIds: ReadonlySet<string>;
  /** Whether passkeys are on (`twoFactor.passkeyRpId` resolved): only then is each passkey a way in. */
  private readonly passkeysOn: boolean;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly events: MethodEventLog,
    private readonly transactions: Transactions,
  ) {
    this.providerIds = new Set(options.providers.map((provider) => provider.id));
    this.passkeysOn = options.twoFactor.passkeyRpId !== undefined;
  }

  /**
   * Runs `work` as one change of `userId`'s sign-in methods (see the class): locked, recounted,
   * refused with 409 `LAST_SIGN_IN_METHOD` when it would leave no way in, its events written in
   * the same transaction. 401 `UNAUTHENTICATED` when the user no longer exists.
   *
   * @example await methods.change(user.id, async ({ tx }) => tx.getRepository(Account).delete({ id, userId: user.id }));
   */
  change<T>(userId: string, work: (change: MethodChange) => Promise<T>, client: MethodEventClient = {}): Promise<T> {
    return this.transactions.run(async (tx) => {
      const user = await this.lockUser(userId, tx);
      if (!user) throw new ArrafAuthException('UNAUTHENTICATED');
      const before = await this.countWaysIn(user, tx);
      const recorded: MethodEvent[] = [];
      const result = await work({ tx, user, record: (event) => recorded.push(event) });
      const after = await this.countWaysIn((await this.findUser(userId, tx)) ?? user, tx);
      if (after === 0 && after < before) throw new ArrafAuthException('LAST_SIGN_IN_METHOD');
      for (const event of recorded) await this.events.record(userId, event, client, tx);
      return result;
    });
  }

  /** How many ways into the account `user` has (see the class), read through `manager`. */
  private async countWaysIn(user: User, manager: EntityManager): Promise<number> {
    let count = user.phone !== null && user.phoneVerified ? 1 : 0;
    const accounts = await manager.getRepository(Account).find({
      select: { id: true, providerId: true, password: true },
      where: { userId: user.id },
    });
    for (const account of accounts) {
      if (account.providerId === PASSWORD_PROVIDER_ID) {
        if (account.password !== null && user.email !== null) count += 1;
      } else if (this.providerIds.has(account.providerId)) count += 1;
    }
    if (this.passkeysOn) count += await manager.getRepository(Passkey).countBy({ userId: user.id });
    return count;
  }

  /**
   * Deletes the OAuth identities of `userId` through `manager` (the transaction that marks the
   * email verified, so both happen or neither) and returns what was removed, by provider id.
   *
   * An account whose email was never verified may hold identities added by someone who only
   * claimed the address at a provider (OAuth account pre-hijacking). Whoever proves the address
   * (a reset code or link, an email verification) is its owner; identities the owner never proved
   * go. The password stays: a reset replaces it, and on verification it was set by the person who
   * asked for the code. A verified phone stays, flagged `unrecognised` after a reset (see
   * `SignInMethodReview`).
   *
   * @example const removed = await methods.removeUnprovenMethods(user.id, tx); // [{ type: 'oauth', providerId: 'oidc' }]
   */
  async removeUnprovenMethods(userId: string, manager: EntityManager): Promise<RemovedSignInMethod[]> {
    const accounts = manager.getRepository(Account);
    const identities = await accounts.find({
      select: { id: true, providerId: true },
      where: { userId, providerId: Not(PASSWORD_PROVIDER_ID) },
    });
    if (identities.length === 0) return [];
    // By id: an identity linked after this read (only possible once the email is verified) stays.
    await accounts.delete({ id: In(identities.map((identity) => identity.id)) });
    const removed = identities
      .map((identity): RemovedSignInMethod => ({ type: 'oauth', providerId: identity.providerId }))
      .sort((a, b) => a.providerId.localeCompare(b.providerId));
    const owner = await this.findUser(userId, manager);
    this.logger.warn(
      `Email proven for user ${userId}: removed sign-in methods the owner had not proven ` +
        `(${removed.map((m) => `${m.type}:${m.providerId}`).join(', ')})` +
        (owner?.phoneVerified ? '; a verified phone number remains on the account' : ''),
    );
    return removed;
  }

  private findUser(userId: string, manager: EntityManager): Promise<User | null> {
    return manager.getRepository<User>(USER_TABLE).findOneBy({ id: userId });
  }

  /** The user row, locked until the transaction ends (SQLite: the module's transactions run one at a time instead). */
  private lockUser(userId: string, tx: EntityManager): Promise<User | null> {
    if (isSqlite(this.dataSource)) return this.findUser(userId, tx);
    return tx
      .getRepository<User>(USER_TABLE)
      .createQueryBuilder('user')
      .setLock('pessimistic_write')
      .where('user.id = :id', { id: userId })
      .getOne();
  }
}
