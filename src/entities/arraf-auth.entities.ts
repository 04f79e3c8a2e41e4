import { SignInMethodMarks } from '../accounts/sign-in-method-marks.entity.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { SecurityEvent } from '../security-events/security-event.entity.js';
import { TwoFactorProof } from '../two-factor/two-factor-proof.entity.js';
import { TwoFactor } from '../two-factor/two-factor.entity.js';
import { Account } from './account.entity.js';
import { Session } from './session.entity.js';
import { User } from './user.entity.js';
import { Verification } from './verification.entity.js';

export { Account, Session, User, Verification };

/**
 * The entities to list in TypeORM's `entities`, with an application's own subclass of `User`
 * in place of `User` when it has one.
 *
 * @example entities: arrafAuthEntities({ user: AppUser })
 */
export function arrafAuthEntities(custom: { user?: typeof User } = {}): Function[] {
  return [
    custom.user ?? User,
    Session,
    Account,
    Verification,
    TwoFactor,
    TwoFactorProof,
    Passkey,
    SecurityEvent,
    SignInMethodMarks,
  ];
}

/** The library's entities, for TypeORM's `entities` option. */
export const ARRAF_AUTH_ENTITIES: Function[] = arrafAuthEntities();
