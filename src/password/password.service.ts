import { Inject, Injectable, Logger } from '@nestjs/common';
import { Transactions } from '../database/transactions.js';
import { normalizeEmail } from '../auth/email.util.js';
import { AuthService } from '../auth/auth.service.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { OtpService } from '../otp/otp.service.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { SessionService } from '../session/session.service.js';
import { VERIFICATION_TYPES } from '../verification/verification.constants.js';
import type { SecurityEventClient } from '../security-events/security-event.types.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { VerificationService } from '../verification/verification.service.js';
import { allowedPhone } from './allowed-phone.js';
import { EmailVerification } from './email-verification.js';
import type { ChangePasswordInput, DeliveryMode, ForgotPasswordInput } from './password-input.js';
import type { ResetPasswordInput, SignUpInput, VerifyEmailInput } from './password-input.js';
import { PasswordCredentials } from './password-credentials.js';
import { PasswordHasher } from './password-hasher.js';
import { type MessageLocale, type OtpClient, PasswordRecovery, type ProvenEmailOutcome } from './password-recovery.js';

export { PASSWORD_HASH_OPTIONS } from './password-hasher.js';
export { CREDENTIAL_PROVIDER_ID } from './password-credentials.js';
export type { MessageLocale, OtpClient, ProvenEmailOutcome } from './password-recovery.js';

/**
 * Email + password accounts: the password rules and argon2id hashing (`PasswordHasher`), and the
 * flows behind the routes: sign-up, sign-in and change here; forgot and reset in
 * `PasswordRecovery`; email verification in `EmailVerification`. Every password is checked
 * against the rules before any hashing, and its raw size is capped so a huge input costs nothing.
 *
 * @example const hash = await passwords.hash('correct horse battery staple');
 *          await passwords.verify(hash, 'correct horse battery staple'); // true
 */
@Injectable()
export class PasswordService {
  private readonly logger = new Logger('ArrafAuth');
  /** Longest raw password (UTF-8 bytes) that is ever normalised or hashed. */
  readonly maxPasswordBytes: number;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly transactions: Transactions,
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
    private readonly verifications: VerificationService,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly credentials: PasswordCredentials,
    private readonly recovery: PasswordRecovery,
    private readonly emailVerification: EmailVerification,
    private readonly otp: OtpService,
    private readonly events: SecurityEventsService,
  ) {
    this.maxPasswordBytes = hasher.maxPasswordBytes;
  }

  /** Hashes the NFKC form of `password` with argon2id (19 MiB, t=2, p=1) into a PHC string. */
  hash(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  /**
   * Whether `password` (NFKC) matches the PHC string `hash`, in constant time. A malformed hash
   * is `false`, never an exception.
   */
  verify(hash: string, password: string): Promise<boolean> {
    return this.hasher.verify(hash, password);
  }

  /**
   * Whether `hash` is weaker than the current parameters (not argon2id, an older version, or less
   * memory × iterations) and should be replaced at the next successful sign-in. Stronger hashes
   * are kept as they are.
   */
  needsRehash(hash: string): boolean {
    return this.hasher.needsRehash(hash);
  }

  /**
   * The NFKC form of a new password, or a 400 naming the rule it breaks: `PASSWORD_TOO_SHORT` /
   * `PASSWORD_TOO_LONG` (code points, `password.minLength`–`maxLength`), `PASSWORD_TOO_COMMON`
   * (a common password, also with digits or symbols around it), `PASSWORD_TOO_PREDICTABLE`
   * (repetition, a sequence, or built on the email, name or app name).
   */
  checkNewPassword(password: unknown, context: { email?: string | null; name?: string | null } = {}): string {
    return this.hasher.checkNewPassword(password, context);
  }

  /**
   * Creates a user from a sign-up (`emailVerified` false) with a credential account when a password
   * is given. A phone comes with the sign-in code sent to it (`POST otp/send`), checked and spent
   * here (the client's `ip` counts for the code limits), and is stored verified. 409
   * `USER_ALREADY_EXISTS` when the email or phone is taken.
   */
  async signUp(input: SignUpInput, client: OtpClient = {}): Promise<User> {
    const email = input.email === undefined ? null : normalizeEmail(input.email);
    let phone = input.phone === undefined ? null : allowedPhone(input.phone, this.options.phone);
    const password =
      input.password === undefined ? undefined : this.checkNewPassword(input.password, { email, name: input.name });
    const passwordHash = password === undefined ? undefined : await this.hash(password);
    // A phone enters an account only through the code sent to it: never as an unproven claim that
    // a later phone sign-in would have to work around.
    if (phone !== null) {
      if (input.otp === undefined) throw new ArrafAuthException('INVALID_INPUT', { field: 'otp' });
      phone = await this.otp.verify(phone, 'sign-in', input.otp, {
        ip: client.ip,
        // A number that already has its account keeps the code: the answer is 409, nothing spent.
        beforeConsume: async (e164) => {
          if (await this.auth.findUserByPhone(e164)) throw new ArrafAuthException('USER_ALREADY_EXISTS');
        },
      });
    }
    return this.auth.createUser(
      { email, phone, phoneVerified: phone !== null, name: input.name },
      email ? 'email' : 'phone',
      undefined,
      passwordHash === undefined
        ? undefined
        : async (user, tx) => {
            await this.credentials.save(user.id, passwordHash, tx);
            const { ip, userAgent } = client;
            await this.events.record({ type: 'password.set', userId: user.id, ip, userAgent }, { manager: tx });
          },
    );
  }

  /**
   * The user whose email and password these are, or 401 `INVALID_CREDENTIALS`: the same error
   * and the same work (one argon2 verification, against a dummy hash when there is no account or
   * no password) for an unknown email, an account without a password, and a wrong password.
   * A hash with weaker parameters is replaced after a successful check.
   *
   * Each attempt first takes a slot of the address's `rateLimit.limits['sign-in:account']` window
   * (100 an hour by default), whatever the client address and whether the account exists: past it,
   * 429 `RATE_LIMITED` with Retry-After and no password is checked. A successful sign-in or a
   * password reset clears the window, so the owner is never locked out of recovery.
   */
  async authenticate(email: unknown, password: string): Promise<User> {
    const address = normalizeEmail(email);
    await this.limiter.consume('sign-in:account', address, (hit) =>
      this.logger.warn(
        `Sign-in locked for ${maskEmail(address)} after ${this.limiter.limitOf('sign-in:account')} failed attempts; ` +
          `it unlocks in ${Math.ceil((hit.resetAt - Date.now()) / 1000)} s or when the password is reset`,
      ),
    );
    const found = await this.credentials.findByEmail(address);
    const account = found?.account ?? null;
    const stored = account?.password ?? null;
    const matches = await this.verify(stored ?? (await this.hasher.getDummyHash()), password);
    if (!found || !account || stored === null || !matches) throw new ArrafAuthException('INVALID_CREDENTIALS');
    if (this.needsRehash(stored)) await this.credentials.upgrade(account.id, stored, password);
    await this.limiter.reset('sign-in:account', address);
    return found.user;
  }

  /**
   * Changes the password of the signed-in `user` after checking the current one (401
   * `INVALID_CREDENTIALS` otherwise). Unless `revokeOtherSessions` is false, every other session
   * of the user is revoked, in the same transaction; the current one stays. Outstanding reset
   * codes and links stop working. Returns how many sessions were revoked.
   */
  async changePassword(
    user: User,
    currentSessionId: string,
    input: ChangePasswordInput,
    client: SecurityEventClient = {},
  ): Promise<number> {
    const next = this.checkNewPassword(input.newPassword, { email: user.email, name: user.name });
    // A stolen session must not become an oracle for the current password.
    await this.limiter.consume('change-password:account', user.id);
    const account = await this.credentials.find(user.id);
    const stored = account?.password ?? null;
    const matches = await this.verify(stored ?? (await this.hasher.getDummyHash()), input.currentPassword);
    if (!account || stored === null || !matches) throw new ArrafAuthException('INVALID_CREDENTIALS');
    const hash = await this.hash(next);
    const revoked = await this.transactions.run(async (tx) => {
      // Only over the hash that was checked: a concurrent change wins, this one fails.
      if (!(await this.credentials.replace(account.id, stored, hash, tx)))
        throw new ArrafAuthException('INVALID_CREDENTIALS');
      const count = input.revokeOtherSessions
        ? await this.sessions.revokeOtherSessions(user.id, currentSessionId, { manager: tx })
        : 0;
      await this.verifications.revoke(VERIFICATION_TYPES.emailResetPassword, user.id, tx);
      const detail = { revokedSessions: count };
      await this.events.record({ type: 'password.changed', userId: user.id, ...client, detail }, { manager: tx });
      return count;
    });
    await this.limiter.reset('change-password:account', user.id);
    await this.credentials.notifyChanged(user, 'change');
    return revoked;
  }

  /**
   * Starts a password reset. Email: a 6-digit code (`otp`) or a link token (`link`) valid 15
   * minutes goes to `callbacks.onForgotPassword`. Phone: an SMS code through OtpService, only to a
   * verified number. An unknown account gets the same answer, nothing is sent, and the call takes
   * about as long as a real delivery. A delivery failure is 502 (`DELIVERY_FAILED` /
   * `SMS_FAILED`) and leaves no usable code.
   */
  requestPasswordReset(input: ForgotPasswordInput, locale?: MessageLocale, client: OtpClient = {}): Promise<void> {
    return this.recovery.request(input, locale, client);
  }

  /**
   * Sets a new password with a reset code or link (single use; 400 `INVALID_TOKEN` when wrong,
   * expired or used, and for an unknown account alike). The code is checked first (spending an
   * attempt); only a matching code lets the password rules run with the account's email and name,
   * so their answer cannot tell accounts apart, and a weak new password leaves the code usable for
   * a better one. The credential account is created when the user had none; the email (or phone)
   * the code went to is marked verified; every session of the user is revoked, in the same
   * transaction as the new password.
   */
  resetPassword(input: ResetPasswordInput, client: OtpClient = {}): Promise<ProvenEmailOutcome> {
    return this.recovery.reset(input, client);
  }

  /**
   * Sends the signed-in user's email address a verification code or link through
   * `callbacks.onVerifyEmail`. Nothing is sent when it is already verified. 400 `EMAIL_REQUIRED`
   * without an address; 502 `DELIVERY_FAILED` when the callback fails or is not configured.
   */
  sendEmailVerification(user: User, mode: DeliveryMode): Promise<void> {
    return this.emailVerification.send(user, mode);
  }

  /**
   * Marks an email verified with its code or link (single use; 400 `INVALID_TOKEN` otherwise). When
   * it was not verified before, the OAuth identities its owner never proved are removed and, if
   * any were, every session of the user ends, in the same transaction.
   */
  verifyEmail(input: VerifyEmailInput): Promise<ProvenEmailOutcome> {
    return this.emailVerification.verify(input);
  }
}

/** `a***@example.com`: enough to recognise an address in a log line, not to harvest it. */
function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${[...address.slice(0, at)][0] ?? ''}***${address.slice(at)}`;
}
