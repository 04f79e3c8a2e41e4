import type { Provider } from '@nestjs/common';
import { OAuthAccounts } from './oauth-accounts.js';
import { OAuthCheck } from './oauth-check.js';
import { OAuthClient } from './oauth-client.js';
import { OAuthLink } from './oauth-link.js';

/** What `OAuthService` is built from; internal, so not exported from the package. */
export const OAUTH_PROVIDERS: Provider[] = [OAuthAccounts, OAuthCheck, OAuthClient, OAuthLink];
