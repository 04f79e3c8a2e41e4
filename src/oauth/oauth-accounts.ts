import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuthService, isUniqueViolation } from '../auth/auth.service.js';
import { randomId } from '../crypto/crypto.util.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { TokenResponse } from './oauth-client.js';
import type { OAuthProfile, OAuthProviderConfig } from './oauth-provider.interface.js';

const MAX_SCOPE_LENGTH = 1024;

/**
 * The identities (`accounts` rows of OAuth providers) behind a callback: the user an identity
 * belongs to, a new user for a new identity, and the row a sign-in or a link writes. Identities are
 * keyed by (provider id, subject). A new identity is linked to an existing user by email only when
 * the provider asserts `email_verified === true` AND the user's email is verified; otherwise 409
 * `OAUTH_ACCOUNT_NOT_LINKED`, never a silent link. A new user is stored without an email the
 * provider did not verify, so that address stays free for its owner.
 */
@Injectable()
export class OAuthAccounts {
  constructor(
    private readonly dataSource: DataSource,
    private readonly auth: AuthService,
  ) {}

  /**
   * The user of this identity: the linked one (even when the provider's email changed since), an
   * existing user with the same email when both sides verified it, or a new user, who gets the
   * provider's email only when the provider verified it (otherwise none).
   */
  async findOrCreateUser(
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
  ): Promise<{ user: User; isNewUser: boolean }> {
    const linked = await this.findLinkedUser(provider, profile, tokens);
    if (linked) return { user: linked, isNewUser: false };
    if (profile.email !== null) {
      const existing = await this.auth.findUserByEmail(profile.email);
      if (existing) return { user: await this.linkByEmail(existing, provider, profile, tokens), isNewUser: false };
    }
    // An address the provider did not verify is only a claim: stored, it would refuse its real owner's
    // sign-up (409) and route their password reset into an account this identity controls.
    const verifiedEmail = profile.emailVerified === true ? profile.email : null;
    try {
      const user = await this.auth.createUser(
        { email: verifiedEmail, emailVerified: verifiedEmail !== null, name: profile.name, image: profile.image },
        'oauth',
        undefined,
        async (created: User, manager: EntityManager) => {
          await manager.getRepository(Account).insert(this.accountRow(provider, created.id, profile, tokens));
        },
      );
      return { user, isNewUser: true };
    } catch (error) {
      if (!(error instanceof ArrafAuthException) || error.code !== 'USER_ALREADY_EXISTS') throw error;
      const raced = await this.findLinkedUser(provider, profile, tokens);
      if (raced) return { user: raced, isNewUser: false };
      // The email belongs to someone (a collation-equal address, or a parallel sign-up): never link silently.
      throw new ArrafAuthException('OAUTH_ACCOUNT_NOT_LINKED');
    }
  }

  /**
   * The id of the user this identity is linked to, or `null`, read through `manager`. Exact match:
   * MySQL's default collation would also match a subject differing in case.
   */
  async ownerOf(providerId: string, subject: string, manager: EntityManager = this.dataSource.manager) {
    const account = await manager.getRepository(Account).findOneBy({ providerId, accountId: subject });
    if (!account || account.accountId !== subject || account.providerId !== providerId) return null;
    return account;
  }

  /** The `accounts` row of a new identity of `userId`. */
  accountRow(provider: OAuthProviderConfig, userId: string, profile: OAuthProfile, tokens: TokenResponse) {
    return {
      id: randomId(),
      userId,
      providerId: provider.id,
      accountId: profile.id,
      password: null,
      ...this.tokenColumns(provider, tokens),
    };
  }

  private async linkByEmail(
    existing: User,
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
  ): Promise<User> {
    if (profile.emailVerified !== true || existing.emailVerified !== true) {
      throw new ArrafAuthException('OAUTH_ACCOUNT_NOT_LINKED');
    }
    try {
      await this.dataSource.getRepository(Account).insert(this.accountRow(provider, existing.id, profile, tokens));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // The same identity finished a parallel callback first.
      const raced = await this.findLinkedUser(provider, profile, tokens);
      if (raced) return raced;
      throw error;
    }
    return existing;
  }

  private async findLinkedUser(
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
  ): Promise<User | null> {
    const account = await this.ownerOf(provider.id, profile.id);
    if (!account) return null;
    const user = await this.auth.users().findOneBy({ id: account.userId });
    if (!user) return null;
    const columns = this.tokenColumns(provider, tokens);
    const stale =
      !provider.storeTokens &&
      (account.accessToken !== null || account.refreshToken !== null || account.idToken !== null);
    if (provider.storeTokens || stale) {
      // Keep a refresh token the provider did not send again (many send it only on first consent).
      if (provider.storeTokens && columns.refreshToken === null)
        delete (columns as Partial<typeof columns>).refreshToken;
      await this.dataSource.getRepository(Account).update({ id: account.id }, columns);
    }
    return user;
  }

  private tokenColumns(provider: OAuthProviderConfig, tokens: TokenResponse) {
    if (!provider.storeTokens) {
      return { accessToken: null, refreshToken: null, idToken: null, accessTokenExpiresAt: null, scope: null };
    }
    const expiresIn = tokens.expiresIn();
    return {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? null,
      idToken: tokens.id_token ?? null,
      accessTokenExpiresAt: expiresIn === undefined ? null : new Date(Date.now() + expiresIn * 1000),
      scope: typeof tokens.scope === 'string' ? tokens.scope.slice(0, MAX_SCOPE_LENGTH) : null,
    };
  }
}
