import { Injectable, Logger } from '@nestjs/common';
import { SignInMethodsService } from '../accounts/sign-in-methods.service.js';
import type { MethodEventClient } from '../accounts/method-event-log.js';
import { isUniqueViolation } from '../auth/auth.service.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { OAuthAccounts } from './oauth-accounts.js';
import type { TokenResponse } from './oauth-client.js';
import type { OAuthProfile, OAuthProviderConfig } from './oauth-provider.interface.js';

/**
 * Links a provider identity to the signed-in user who started `GET link/:provider` (the callback
 * of the same state/PKCE/nonce flow as a sign-in). The provider's email decides nothing. An
 * identity that already belongs to another user is refused (409 `OAUTH_ACCOUNT_IN_USE`): no
 * takeover, no move. Linking an identity the user already has changes nothing.
 */
@Injectable()
export class OAuthLink {
  private readonly logger = new Logger('ArrafAuth:OAuth');

  constructor(
    private readonly identities: OAuthAccounts,
    private readonly methods: SignInMethodsService,
  ) {}

  /** Links the identity to `userId` and returns the user. */
  async link(
    userId: string,
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
    client: MethodEventClient = {},
  ): Promise<User> {
    try {
      return await this.methods.change(
        userId,
        async ({ tx, user, record }) => {
          const owner = await this.identities.ownerOf(provider.id, profile.id, tx);
          if (owner) {
            if (owner.userId !== userId) throw this.inUse(provider, userId);
            return user;
          }
          const row = this.identities.accountRow(provider, userId, profile, tokens);
          await tx.getRepository(Account).insert(row);
          record({ type: 'method.added', method: `oauth:${provider.id}`, detail: { identityId: row.id } });
          return user;
        },
        client,
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A parallel callback stored the same identity first: fine if it was for this user.
      const owner = await this.identities.ownerOf(provider.id, profile.id);
      if (owner?.userId === userId) return (await this.methods.change(userId, async ({ user }) => user)) as User;
      throw this.inUse(provider, userId);
    }
  }

  private inUse(provider: OAuthProviderConfig, userId: string): ArrafAuthException {
    this.logger.warn(`${provider.id}: user ${userId} tried to link an identity that belongs to another user`);
    return new ArrafAuthException('OAUTH_ACCOUNT_IN_USE');
  }
}
