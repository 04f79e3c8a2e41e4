import { Injectable, Logger } from '@nestjs/common';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { DataSource, type EntityManager } from 'typeorm';
import { ChangeNotices } from '../accounts/change-notices.js';
import type { RemovedSignInMethod } from '../accounts/sign-in-methods.service.js';
import { isUniqueViolation } from '../auth/auth.service.js';
import { randomId } from '../crypto/crypto.util.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { PasswordHasher } from './password-hasher.js';
import { errorMessage } from '../utils/error-message.js';

/** `providerId` of the account row that holds a user's password hash (its `accountId` is the user id). */
export const CREDENTIAL_PROVIDER_ID = 'credential';

/** The part of a credential account row a password check reads. */
export type CredentialRow = Pick<Account, 'id' | 'password'>;

/**
 * The credential account row that holds a user's password hash: read it, set it (creating the
 * row when there is none), upgrade a weak hash, and tell the application a password changed.
 */
@Injectable()
export class PasswordCredentials {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly limiter: RateLimiter,
    private readonly notices: ChangeNotices,
  ) {}

  /**
   * Checks a signed-in user's current password before a sensitive change (401
   * `INVALID_CREDENTIALS`), counted per account under `change-password:account` so a stolen
   * session cannot guess it faster through one route than another. Returns the row and the hash
   * that was checked, for a change made only over that hash.
   */
  async checkCurrent(userId: string, password: string): Promise<{ account: { id: string }; stored: string }> {
    await this.limiter.consume('change-password:account', userId);
    const account = await this.find(userId);
    const stored = account?.password ?? null;
    // A dummy hash when there is no password: the answer takes as long either way.
    const matches = await this.hasher.verify(stored ?? (await this.hasher.getDummyHash()), password);
    if (!account || stored === null || !matches) throw new ArrafAuthException('INVALID_CREDENTIALS');
    await this.limiter.reset('change-password:account', userId);
    return { account, stored };
  }

  /**
   * The user whose email this is (exactly) and their credential row, in one query: a sign-in for
   * an unknown email does the same database work as one for a known account.
   */
  async findByEmail(email: string): Promise<{ user: User; account: CredentialRow | null } | null> {
    const { entities, raw } = await this.dataSource
      .getRepository<User>(USER_TABLE)
      .createQueryBuilder('user')
      .leftJoin(
        Account,
        'credential',
        'credential.userId = user.id AND credential.providerId = :provider AND credential.accountId = user.id',
        { provider: CREDENTIAL_PROVIDER_ID },
      )
      .addSelect('credential.id', 'credential_id')
      .addSelect('credential.password', 'credential_password')
      .where('user.email = :email', { email })
      .getRawAndEntities<{ credential_id: string | null; credential_password: string | null }>();
    const user = entities[0];
    // Defence in depth against accent- or case-insensitive collations, as AuthService.findUserByEmail.
    if (!user || user.email !== email) return null;
    const { credential_id: id, credential_password: password } = raw[0];
    return { user, account: id === null ? null : { id, password } };
  }

  find(userId: string, manager: EntityManager = this.dataSource.manager): Promise<CredentialRow | null> {
    return manager.getRepository(Account).findOne({
      select: { id: true, password: true },
      where: { userId, providerId: CREDENTIAL_PROVIDER_ID, accountId: userId },
    });
  }

  /**
   * Replaces the hash only where it is still `stored`, so a concurrent change wins and this one
   * reports `false`.
   */
  async replace(accountId: string, stored: string, hash: string, manager: EntityManager): Promise<boolean> {
    const updated = await manager
      .getRepository(Account)
      .update({ id: accountId, password: stored }, { password: hash });
    return updated.affected === 1;
  }

  /** Sets the user's password hash, creating the credential account when there is none. */
  async save(userId: string, hash: string, manager: EntityManager): Promise<void> {
    const accounts = manager.getRepository(Account);
    const where = { providerId: CREDENTIAL_PROVIDER_ID, accountId: userId };
    if ((await accounts.update(where, { password: hash })).affected) return;
    try {
      await accounts.insert(
        accounts.create({
          id: randomId(),
          userId,
          ...where,
          password: hash,
          accessToken: null,
          refreshToken: null,
          idToken: null,
          accessTokenExpiresAt: null,
          scope: null,
        }),
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await accounts.update(where, { password: hash });
    }
  }

  /** Replaces a weaker hash after a successful sign-in; a failure is logged, never fatal. */
  async upgrade(accountId: string, stored: string, password: string): Promise<void> {
    try {
      const upgraded = await this.hasher.hash(password);
      // Only over the hash that was checked, so a password changed meanwhile is not overwritten.
      await this.replace(accountId, stored, upgraded, this.dataSource.manager);
    } catch (error) {
      this.logger.warn(`Upgrading a password hash failed: ${errorMessage(error)}`);
    }
  }

  /** `onPasswordChanged` is a notice after the fact: its failure is logged, the change stands. */
  notifyChanged(user: User, reason: 'change' | 'reset', removedMethods: RemovedSignInMethod[] = []): Promise<void> {
    return this.notices.passwordChanged(user, reason, removedMethods);
  }
}
