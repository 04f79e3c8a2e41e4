import { Inject, Injectable } from '@nestjs/common';
import { DataSource, Not } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { CREDENTIAL_PROVIDER_ID, PasswordCredentials } from '../password/password-credentials.js';
import { PasswordHasher } from '../password/password-hasher.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { MethodEventClient } from './method-event-log.js';
import { SignInMethodReview, type UnrecognisedMethod } from './sign-in-method-review.js';
import { SignInMethodsService } from './sign-in-methods.service.js';

/** What `GET account/methods` answers: every way into the account and its state. */
export interface AccountMethods {
  phone: { value: string; verified: boolean } | null;
  email: { value: string; verified: boolean } | null;
  password: boolean;
  providers: { id: string; providerId: string; linkedAt: Date }[];
  passkeys: number;
  /** Methods added since the email was last proven, flagged by an email-proven reset (see SECURITY.md). */
  unrecognised: UnrecognisedMethod[];
}

/**
 * The signed-in owner's view and control of their sign-in methods: the list, setting and removing
 * a password, unlinking a provider, keeping the methods flagged `unrecognised`. Every change goes through `SignInMethodsService.change`, so the
 * last way in is never removed (409 `LAST_SIGN_IN_METHOD`) and its security event is written with it.
 */
@Injectable()
export class AccountMethodsService {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly methods: SignInMethodsService,
    private readonly review: SignInMethodReview,
    private readonly hasher: PasswordHasher,
    private readonly credentials: PasswordCredentials,
    private readonly limiter: RateLimiter,
  ) {}

  /** The account's methods, as `GET account/methods` answers them. */
  async list(user: User): Promise<AccountMethods> {
    const identities = await this.dataSource.getRepository(Account).find({
      select: { id: true, providerId: true, createdAt: true },
      where: { userId: user.id, providerId: Not(CREDENTIAL_PROVIDER_ID) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const credential = await this.credentials.find(user.id);
    const passkeys =
      this.options.twoFactor.passkeyRpId === undefined
        ? 0
        : await this.dataSource.getRepository(Passkey).countBy({ userId: user.id });
    return {
      phone: user.phone === null ? null : { value: user.phone, verified: user.phoneVerified },
      email: user.email === null ? null : { value: user.email, verified: user.emailVerified },
      password: credential?.password != null,
      providers: identities.map((i) => ({ id: i.id, providerId: i.providerId, linkedAt: i.createdAt })),
      passkeys,
      unrecognised: await this.review.unrecognised(user.id),
    };
  }

  /**
   * Sets a password on an account that has none (409 `PASSWORD_ALREADY_SET` otherwise: change it
   * with `POST change-password`), after the password rules.
   */
  async setPassword(user: User, newPassword: string, client: MethodEventClient = {}): Promise<void> {
    const password = this.hasher.checkNewPassword(newPassword, { email: user.email, name: user.name });
    const hash = await this.hasher.hash(password);
    await this.methods.change(
      user.id,
      async ({ tx, record }) => {
        if ((await this.credentials.find(user.id, tx))?.password != null)
          throw new ArrafAuthException('PASSWORD_ALREADY_SET');
        await this.credentials.save(user.id, hash, tx);
        record({ type: 'password.set', method: 'password' });
      },
      client,
    );
  }

  /**
   * Removes the password after checking it (401 `INVALID_CREDENTIALS`, counted like a password
   * change), unless it is the last way in (409 `LAST_SIGN_IN_METHOD`).
   */
  async removePassword(user: User, currentPassword: string, client: MethodEventClient = {}): Promise<void> {
    const { account, stored } = await this.credentials.checkCurrent(user.id, currentPassword);
    await this.methods.change(
      user.id,
      async ({ tx, record }) => {
        // Only the hash that was checked: a password changed meanwhile stays.
        const removed = await tx.getRepository(Account).delete({ id: account.id, password: stored });
        if (removed.affected !== 1) throw new ArrafAuthException('INVALID_CREDENTIALS');
        record({ type: 'password.removed', method: 'password' });
      },
      client,
    );
  }

  /**
   * Keeps the methods flagged `unrecognised`: clears the flags after checking the password (401
   * `INVALID_CREDENTIALS`, counted like a password change). After an email-proven reset only the
   * email's owner knows it, so whoever added a flagged method cannot clear the flag by signing in with it.
   */
  async acknowledgeUnrecognised(user: User, currentPassword: string): Promise<void> {
    await this.credentials.checkCurrent(user.id, currentPassword);
    await this.review.acknowledge(user.id);
  }

  /** Unlinks the identity `id` of the user (404 `SIGN_IN_METHOD_NOT_FOUND`), unless it is the last way in. */
  async unlinkProvider(user: User, id: string, client: MethodEventClient = {}): Promise<void> {
    await this.methods.change(
      user.id,
      async ({ tx, record }) => {
        const accounts = tx.getRepository(Account);
        const identity = await accounts.findOne({
          select: { id: true, providerId: true },
          where: { id, userId: user.id, providerId: Not(CREDENTIAL_PROVIDER_ID) },
        });
        if (!identity || identity.id !== id) throw new ArrafAuthException('SIGN_IN_METHOD_NOT_FOUND');
        await accounts.delete({ id: identity.id, userId: user.id });
        record({ type: 'method.removed', method: `oauth:${identity.providerId}`, detail: { identityId: identity.id } });
      },
      client,
    );
  }
}
