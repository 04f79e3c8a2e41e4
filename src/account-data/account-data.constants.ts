import type { User } from '../entities/user.entity.js';

/** `deriveKey` purpose of the key that turns a deleted user's id into its pseudonym. */
export const DELETED_USER_KEY_PURPOSE = 'account-deletion-pseudonym';

/** Prefix of a deleted user's pseudonym in `security_events.userId` (36 characters in all). */
export const DELETED_USER_PREFIX = 'deleted:';

/**
 * The `verifications` identifiers that name a user directly: its phone number (phone codes) and its
 * email address. Secrets bound to the account itself use `<userId>:…` and are matched by prefix.
 */
export function boundIdentifiers(user: Pick<User, 'id' | 'phone' | 'email'>): string[] {
  return [user.id, user.phone, user.email].filter((value): value is string => typeof value === 'string');
}
