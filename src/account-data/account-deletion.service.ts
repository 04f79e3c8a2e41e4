import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { deriveKey, hmacSha256 } from '../crypto/crypto.util.js';
import { SignInMethodReview } from '../accounts/sign-in-method-review.js';
import { Account } from '../entities/account.entity.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { OtpService, type OtpSent } from '../otp/otp.service.js';
import { PasskeyService } from '../passkeys/passkey.service.js';
import { PasswordCredentials } from '../password/password-credentials.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { SessionService } from '../session/session.service.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { VerificationService } from '../verification/verification.service.js';
import { boundIdentifiers, DELETED_USER_KEY_PURPOSE, DELETED_USER_PREFIX } from './account-data.constants.js';

/** What proves the owner asks for the deletion: the current password, or a code sent to the verified phone. */
export type AccountDeletionProof = { password: string } | { otp: string };

/** Where the request comes from (the platform's `request.ip`), for the phone code's limits. */
export interface AccountDeletionClient {
  ip?: string;
}

/**
 * Deletes an account on its owner's request (Saudi PDPL right to erasure): the user row and every
 * row that references it (sessions and their second-factor proofs, sign-in methods, passkeys, the
 * authenticator, one-time secrets bound to the user, its phone or its email, its security events),
 * in one transaction, with every session ended at once (the session cache of every instance too).
 * What stays is one `account.deleted` security event under a pseudonym: a keyed hash of the id.
 */
@Injectable()
export class AccountDeletionService {
  private readonly logger = new Logger('ArrafAuth:Accounts');
  private readonly pseudonymKey: Buffer;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly transactions: Transactions,
    private readonly sessions: SessionService,
    private readonly verifications: VerificationService,
    private readonly credentials: PasswordCredentials,
    private readonly otp: OtpService,
    private readonly events: SecurityEventsService,
    private readonly passkeys: PasskeyService,
    private readonly twoFactor: TwoFactorService,
    private readonly review: SignInMethodReview,
  ) {
    this.pseudonymKey = deriveKey(options.secrets[0], DELETED_USER_KEY_PURPOSE);
  }

  /**
   * Sends the code that confirms a deletion to the user's verified phone (purpose `account-delete`,
   * so no sign-in or reset code can delete an account), bound to the account: a code sent for
   * another account that had or has the same number deletes nothing here. 400 `PHONE_NOT_VERIFIED`
   * without one.
   */
  sendCode(user: User, locale: 'ar' | 'en', client: AccountDeletionClient = {}): Promise<OtpSent> {
    if (user.phone === null || !user.phoneVerified) throw new ArrafAuthException('PHONE_NOT_VERIFIED');
    return this.otp.send(user.phone, 'account-delete', locale, { ip: client.ip, account: user.id });
  }

  /**
   * Checks `proof` (401 `INVALID_CREDENTIALS` for a wrong password or code, and nothing changes),
   * then deletes the account in one transaction.
   */
  async deleteAccount(user: User, proof: AccountDeletionProof, client: AccountDeletionClient = {}): Promise<void> {
    await this.checkProof(user, proof, client);
    await this.transactions.run(async (manager) => {
      await this.erase(user, manager);
      // No address or user agent: nothing left here may point back at the person.
      const method = 'password' in proof ? 'password' : 'phone';
      await this.events.record({ type: 'account.deleted', userId: this.pseudonym(user.id), method }, { manager });
    });
    this.logger.log(`Account deleted on its owner's request: ${this.pseudonym(user.id)}`);
  }

  /** The pseudonym a deleted user's id is recorded under: stable for one secret, not reversible. */
  pseudonym(userId: string): string {
    return DELETED_USER_PREFIX + hmacSha256(this.pseudonymKey, userId).slice(0, 36 - DELETED_USER_PREFIX.length);
  }

  private async checkProof(user: User, proof: AccountDeletionProof, client: AccountDeletionClient): Promise<void> {
    if ('password' in proof) {
      await this.credentials.checkCurrent(user.id, proof.password);
      return;
    }
    if (user.phone === null || !user.phoneVerified) throw new ArrafAuthException('INVALID_CREDENTIALS');
    try {
      await this.otp.verify(user.phone, 'account-delete', proof.otp, { ip: client.ip, account: user.id });
    } catch (error) {
      if (error instanceof ArrafAuthException && ['OTP_INVALID', 'INVALID_INPUT'].includes(error.code))
        throw new ArrafAuthException('INVALID_CREDENTIALS');
      throw error;
    }
  }

  /** Every row of the user, then the user, inside `manager`'s transaction, each through its table's owner. */
  private async erase(user: User, manager: EntityManager): Promise<void> {
    const userId = user.id;
    // Sessions stay SessionService's: their ids are read here only to find the second-factor proofs.
    const sessionIds = (await manager.getRepository(Session).find({ select: { id: true }, where: { userId } })).map(
      (session) => session.id,
    );
    await this.twoFactor.deleteForUser(userId, sessionIds, manager);
    await this.sessions.revokeUserSessions(userId, { manager });
    await this.verifications.revokeBound(boundIdentifiers(user), userId, manager);
    await this.passkeys.deleteForUser(userId, manager);
    await this.review.forget(userId, manager);
    // Security events have no foreign key (the pseudonymous record below must outlive the user).
    await this.events.deleteForUser(userId, manager);
    // Password and provider rows (two owners: PasswordCredentials and the OAuth accounts); their key
    // cascades, and deleting explicitly keeps a database without it just as clean.
    await manager.getRepository(Account).delete({ userId });
    await manager.getRepository<User>(USER_TABLE).delete({ id: userId });
    await this.sessions.forgetUser(userId, { manager });
  }
}
