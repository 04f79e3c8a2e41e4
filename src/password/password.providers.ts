import type { Provider } from '@nestjs/common';
import { EmailSecretMailer } from './email-secret-mailer.js';
import { EmailVerification } from './email-verification.js';
import { PasswordCredentials } from './password-credentials.js';
import { PasswordHasher } from './password-hasher.js';
import { PasswordRecovery } from './password-recovery.js';
import { DeliveryTimings } from './timing-equalizer.js';

/** What `PasswordService` is built from; internal, so not exported from the package. */
export const PASSWORD_PROVIDERS: Provider[] = [
  PasswordHasher,
  PasswordCredentials,
  EmailSecretMailer,
  PasswordRecovery,
  EmailVerification,
  DeliveryTimings,
];
