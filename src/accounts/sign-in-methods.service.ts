import { Injectable, Logger } from '@nestjs/common';
import { type EntityManager, In, Not } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';

/** A way to sign in that was taken off an account because its owner never proved it. */
export interface RemovedSignInMethod {
  type: 'oauth';
  /** The provider id (`google`, `github`, `oidc`, ...) of the removed identity. */
  providerId: string;
}

// The `providerId` of the password row (CREDENTIAL_PROVIDER_ID in password.service.ts). Not imported
// from there: password.service.ts imports this file, and a cycle would break decorator metadata.
const PASSWORD_PROVIDER_ID = 'credential';

/**
 * Which sign-in methods an account keeps when its owner proves the email address.
 *
 * An account whose email was never verified may hold identities added by someone who only
 * claimed the address at a provider (OAuth account pre-hijacking). Whoever proves the address
 * (a reset code or link, an email verification) is its owner; identities the owner never proved
 * go. The password stays: a reset replaces it, and on verification it was set by the person who
 * asked for the code. A verified phone stays: it was proven by its own SMS code, and may be the
 * owner's only other way in (see SECURITY.md, residual risk).
 */
@Injectable()
export class SignInMethodsService {
  private readonly logger = new Logger('ArrafAuth:Accounts');

  /**
   * Deletes the OAuth identities of `userId` through `manager` (the transaction that marks the
   * email verified, so both happen or neither) and returns what was removed, by provider id.
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
    const owner = await manager.getRepository<User>(USER_TABLE).findOne({
      select: { id: true, phoneVerified: true },
      where: { id: userId },
    });
    this.logger.warn(
      `Email proven for user ${userId}: removed sign-in methods the owner had not proven ` +
        `(${removed.map((m) => `${m.type}:${m.providerId}`).join(', ')})` +
        (owner?.phoneVerified ? '; a verified phone number remains on the account' : ''),
    );
    return removed;
  }
}
