import { Inject, Injectable, Logger } from '@nestjs/common';
import argon2 from 'argon2';
import { DataSource, type EntityManager, Not } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { normalizeEmail } from '../auth/email.util.js';
import { AuthService, isUniqueViolation } from '../auth/auth.service.js';
import { type RemovedSignInMethod, SignInMethodsService } from '../accounts/sign-in-methods.service.js';
import { randomId, randomToken, safeEqual, sha256 } from '../crypto/crypto.util.js';
import { Account } from '../entities/account.entity.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions, VerificationDelivery } from '../options/arraf-auth-options.interface.js';
import { OtpService } from '../otp/otp.service.js';
import { parsePhone } from '../phone/normalize-phone.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import {
  type EmailTokenPurpose,
  emailSecretPolicy,
  emailSubject,
  parseEmailBinding,
} from '../verification/email-secrets.js';
import { VERIFICATION_TYPES } from '../verification/verification.constants.js';
import type { IssuedSecret, VerificationMatch } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import type {
  ChangePasswordInput,
  DeliveryMode,
  ForgotPasswordInput,
  ResetPasswordInput,
  SignUpInput,
  VerifyEmailInput,
} from './password-input.js';
import { contextWords, findPasswordProblem, maxPasswordBytes } from './password-policy.js';
import { TimingEqualizer } from './timing-equalizer.js';

/** argon2id with the OWASP parameters: 19 MiB of memory, 2 iterations, 1 lane. */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** `providerId` of the account row that holds a user's password hash (its `accountId` is the user id). */
export const CREDENTIAL_PROVIDER_ID = 'credential';

/** What OtpService throws for a code that does not work; a reset answers all of them `INVALID_TOKEN`. */
const OTP_FAILURES: ReadonlySet<string> = new Set(['OTP_INVALID', 'OTP_EXPIRED', 'OTP_TOO_MANY_ATTEMPTS']);

/**
 * What proving an email by a reset or a verification did beyond that: `removedMethods` when OAuth
 * identities its owner never proved were taken off the account (absent when none were).
 */
export interface ProvenEmailOutcome {
  removedMethods?: RemovedSignInMethod[];
}

/** Languages an SMS can be written in. */
export type MessageLocale = 'ar' | 'en';

/** The `$argon2…$v=…$m=…,t=…,p=…$` head of a PHC string, parameters in any order. */
const PHC_HEAD = /^\$(argon2id|argon2i|argon2d)\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/;

/**
 * Email + password accounts: argon2id hashing (in libuv's thread pool, off the event loop) of the
 * NFKC form of a password, the password rules, and the flows behind the routes (sign-up, sign-in,
 * change, forgot and reset, email verification). Every password is checked against the rules
 * before any hashing, and its raw size is capped so a huge input costs nothing.
 *
 * @example const hash = await passwords.hash('correct horse battery staple');
 *          await passwords.verify(hash, 'correct horse battery staple'); // true
 */
@Injectable()
export class PasswordService {
  private readonly logger = new Logger('ArrafAuth');
  private readonly emailResetTiming = new TimingEqualizer();
  private readonly phoneResetTiming = new TimingEqualizer();
  private dummyHash?: Promise<string>;
  /** Longest raw password (UTF-8 bytes) that is ever normalised or hashed. */
  readonly maxPasswordBytes: number;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly auth: AuthService,
    private readonly otp: OtpService,
    private readonly limiter: RateLimiter,
    private readonly verifications: VerificationService,
    private readonly methods: SignInMethodsService,
  ) {
    this.maxPasswordBytes = maxPasswordBytes(options.password.maxLength);
  }

  /** Hashes the NFKC form of `password` with argon2id (19 MiB, t=2, p=1) into a PHC string. */
  async hash(password: string): Promise<string> {
    return argon2.hash(this.normalize(password), PASSWORD_HASH_OPTIONS);
  }

  /**
   * Whether `password` (NFKC) matches the PHC string `hash`, in constant time. A malformed hash
   * is `false`, never an exception.
   */
  async verify(hash: string, password: string): Promise<boolean> {
    const normalized = this.normalize(password);
    try {
      return await argon2.verify(hash, normalized);
    } catch (error) {
      this.logger.error(
        `A stored password hash could not be read: ${error instanceof Error ? error.message : String(error)}`,
      );
      return false;
    }
  }

  /**
   * Whether `hash` is weaker than the current parameters (not argon2id, an older version, or less
   * memory × iterations) and should be replaced at the next successful sign-in. Stronger hashes
   * are kept as they are.
   */
  needsRehash(hash: string): boolean {
    const head = PHC_HEAD.exec(hash);
    if (!head || head[1] !== 'argon2id' || Number(head[2]) < 0x13) return true;
    const params = Object.fromEntries(head[3].split(',').map((pair) => pair.split('=')));
    const memory = Number(params.m);
    const iterations = Number(params.t);
    if (!(memory > 0 && iterations > 0)) return true;
    return memory * iterations < PASSWORD_HASH_OPTIONS.memoryCost * PASSWORD_HASH_OPTIONS.timeCost;
  }

  /**
   * The NFKC form of a new password, or a 400 naming the rule it breaks: `PASSWORD_TOO_SHORT` /
   * `PASSWORD_TOO_LONG` (code points, `password.minLength`–`maxLength`), `PASSWORD_TOO_COMMON`
   * (a common password, also with digits or symbols around it), `PASSWORD_TOO_PREDICTABLE`
   * (repetition, a sequence, or built on the email, name or app name).
   */
  checkNewPassword(password: unknown, context: { email?: string | null; name?: string | null } = {}): string {
    if (typeof password !== 'string' || password.length === 0) throw new ArrafAuthException('INVALID_INPUT');
    if (Buffer.byteLength(password, 'utf8') > this.maxPasswordBytes) throw new ArrafAuthException('PASSWORD_TOO_LONG');
    const normalized = password.normalize('NFKC');
    const words = contextWords({ appName: this.options.appName, ...context });
    const problem = findPasswordProblem(normalized, this.options.password, words);
    if (problem) throw new ArrafAuthException(problem);
    return normalized;
  }

  /**
   * Creates a user from a sign-up (`emailVerified`/`phoneVerified` false) with a credential
   * account when a password is given. 409 `USER_ALREADY_EXISTS` when the email or phone is taken.
   */
  async signUp(input: SignUpInput): Promise<User> {
    const email = input.email === undefined ? null : normalizeEmail(input.email);
    const phone = input.phone === undefined ? null : this.allowedPhone(input.phone);
    const password =
      input.password === undefined ? undefined : this.checkNewPassword(input.password, { email, name: input.name });
    const passwordHash = password === undefined ? undefined : await this.hash(password);
    return this.auth.createUser(
      { email, phone, name: input.name },
      email ? 'email' : 'phone',
      undefined,
      passwordHash === undefined ? undefined : (user, tx) => this.saveCredential(user.id, passwordHash, tx),
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
    const user = await this.auth.findUserByEmail(address);
    const account = user ? await this.findCredential(user.id) : null;
    const stored = account?.password ?? null;
    const matches = await this.verify(stored ?? (await this.getDummyHash()), password);
    if (!user || !account || stored === null || !matches) throw new ArrafAuthException('INVALID_CREDENTIALS');
    if (this.needsRehash(stored)) await this.upgradeHash(account.id, stored, password);
    await this.limiter.reset('sign-in:account', address);
    return user;
  }

  /**
   * Changes the password of the signed-in `user` after checking the current one (401
   * `INVALID_CREDENTIALS` otherwise). Unless `revokeOtherSessions` is false, every other session
   * of the user is revoked, in the same transaction; the current one stays. Outstanding reset
   * codes and links stop working. Returns how many sessions were revoked.
   */
  async changePassword(user: User, currentSessionId: string, input: ChangePasswordInput): Promise<number> {
    const next = this.checkNewPassword(input.newPassword, { email: user.email, name: user.name });
    // A stolen session must not become an oracle for the current password.
    await this.limiter.consume('change-password:account', user.id);
    const account = await this.findCredential(user.id);
    const stored = account?.password ?? null;
    const matches = await this.verify(stored ?? (await this.getDummyHash()), input.currentPassword);
    if (!account || stored === null || !matches) throw new ArrafAuthException('INVALID_CREDENTIALS');
    const hash = await this.hash(next);
    let revoked = 0;
    await this.dataSource.transaction(async (tx) => {
      // Only over the hash that was checked: a concurrent change wins, this one fails.
      const updated = await tx.getRepository(Account).update({ id: account.id, password: stored }, { password: hash });
      if (updated.affected !== 1) throw new ArrafAuthException('INVALID_CREDENTIALS');
      await this.verifications.revoke(VERIFICATION_TYPES.emailResetPassword, user.id, tx);
      if (input.revokeOtherSessions) {
        revoked =
          (await tx.getRepository(Session).delete({ userId: user.id, id: Not(currentSessionId) })).affected ?? 0;
      }
    });
    await this.limiter.reset('change-password:account', user.id);
    await this.notifyPasswordChanged(user, 'change');
    return revoked;
  }

  /**
   * Starts a password reset. Email: a 6-digit code (`otp`) or a link token (`link`) valid 15
   * minutes goes to `callbacks.onForgotPassword`. Phone: an SMS code through OtpService, only to a
   * verified number. An unknown account gets the same answer, nothing is sent, and the call takes
   * about as long as a real delivery. A delivery failure is 502 (`DELIVERY_FAILED` /
   * `SMS_FAILED`) and leaves no usable code.
   */
  async requestPasswordReset(input: ForgotPasswordInput, locale?: MessageLocale): Promise<void> {
    if (input.method === 'phone') {
      const phone = this.allowedPhone(input.phone);
      const user = await this.auth.findUserByPhone(phone);
      // An unverified number is only a claim: its owner must not be able to take the account.
      if (!user?.phoneVerified) return this.phoneResetTiming.pad();
      try {
        await this.phoneResetTiming.measure(() => this.otp.send(phone, 'reset-password', locale));
      } catch (error) {
        // A resend limit only ever shows for existing accounts: answering it would tell them apart.
        if (error instanceof ArrafAuthException && error.code === 'RATE_LIMITED') return;
        throw error;
      }
      return;
    }

    const email = normalizeEmail(input.email);
    const user = await this.auth.findUserByEmail(email);
    const deliver = this.options.callbacks.onForgotPassword;
    if (!user) return this.emailResetTiming.pad();
    if (!deliver) {
      this.logger.error('A password reset was requested but callbacks.onForgotPassword is not set: nothing was sent');
      return this.emailResetTiming.pad();
    }
    await this.emailResetTiming.measure(() =>
      this.issueEmailSecret(user, email, 'reset-password', input.mode, deliver),
    );
  }

  /**
   * Sets a new password with a reset code or link (single use; 400 `INVALID_TOKEN` when wrong,
   * expired or used, and for an unknown account alike). The code is checked first (spending an
   * attempt); only a matching code lets the password rules run with the account's email and name,
   * so their answer cannot tell accounts apart, and a weak new password leaves the code usable for
   * a better one. The credential account is created when the user had none; the email (or phone)
   * the code went to is marked verified; every session of the user is revoked.
   */
  async resetPassword(input: ResetPasswordInput): Promise<ProvenEmailOutcome> {
    if (input.method === 'phone') return this.resetWithPhoneCode(input.phone, input.otp, input.newPassword);
    if ('token' in input) {
      const link = await this.findEmailLink('reset-password', input.token);
      if (!link) throw new ArrafAuthException('INVALID_TOKEN');
      const { user } = link;
      if (input.email !== undefined && normalizeEmail(input.email) !== user.email)
        throw new ArrafAuthException('INVALID_TOKEN');
      const password = this.checkNewPassword(input.newPassword, { email: user.email, name: user.name });
      if (!(await this.verifications.consume(link.match))) throw new ArrafAuthException('INVALID_TOKEN');
      return this.finishReset(user, password, { emailVerified: true });
    }

    const email = normalizeEmail(input.email);
    const user = await this.auth.findUserByEmail(email);
    let password = '';
    await this.redeemEmailCode(user, email, 'reset-password', input.otp, () => {
      password = this.checkNewPassword(input.newPassword, { email, name: user?.name });
    });
    return this.finishReset(user!, password, { emailVerified: true });
  }

  private async resetWithPhoneCode(input: string, code: string, newPassword: string): Promise<ProvenEmailOutcome> {
    const phone = this.allowedPhone(input);
    const user = await this.auth.findUserByPhone(phone);
    let password = '';
    try {
      await this.otp.verify(phone, 'reset-password', code, {
        beforeConsume: () => {
          // An unverified number is only a claim; without an account there is nothing to reset.
          if (!user?.phoneVerified || user.phone !== phone) throw new ArrafAuthException('INVALID_TOKEN');
          password = this.checkNewPassword(newPassword, { email: user.email, name: user.name });
        },
      });
    } catch (error) {
      // One answer for wrong, expired and used-up codes: a number without an account never has a
      // code to use up, so a distinct "too many attempts" would tell the two apart.
      if (error instanceof ArrafAuthException && OTP_FAILURES.has(error.code))
        throw new ArrafAuthException('INVALID_TOKEN');
      throw error;
    }
    return this.finishReset(user!, password, { phoneVerified: true });
  }

  /**
   * Sends the signed-in user's email address a verification code or link through
   * `callbacks.onVerifyEmail`. Nothing is sent when it is already verified. 400 `EMAIL_REQUIRED`
   * without an address; 502 `DELIVERY_FAILED` when the callback fails or is not configured.
   */
  async sendEmailVerification(user: User, mode: DeliveryMode): Promise<void> {
    const email = user.email;
    if (!email) throw new ArrafAuthException('EMAIL_REQUIRED');
    if (user.emailVerified) return;
    const deliver = this.options.callbacks.onVerifyEmail;
    if (!deliver) {
      this.logger.error('An email verification was requested but callbacks.onVerifyEmail is not set');
      throw new ArrafAuthException('DELIVERY_FAILED');
    }
    await this.issueEmailSecret(user, email, 'verify-email', mode, deliver);
  }

  /**
   * Marks an email verified with its code or link (single use; 400 `INVALID_TOKEN` otherwise). When
   * it was not verified before, the OAuth identities its owner never proved are removed and, if
   * any were, every session of the user ends, in the same transaction.
   */
  async verifyEmail(input: VerifyEmailInput): Promise<ProvenEmailOutcome> {
    let user: User;
    let email: string;
    if ('token' in input) {
      const link = await this.findEmailLink('verify-email', input.token);
      if (!link || !(await this.verifications.consume(link.match))) throw new ArrafAuthException('INVALID_TOKEN');
      user = link.user;
      email = link.user.email!;
    } else {
      email = normalizeEmail(input.email);
      const found = await this.auth.findUserByEmail(email);
      await this.redeemEmailCode(found, email, 'verify-email', input.otp);
      user = found!;
    }
    const removedMethods = await this.dataSource.transaction(async (tx) => {
      await this.auth.users(tx).update({ id: user.id, email }, { emailVerified: true });
      if (user.emailVerified) return [];
      const removed = await this.methods.removeUnprovenMethods(user.id, tx);
      // A removed identity must not stay signed in through the sessions it opened.
      if (removed.length > 0) await tx.getRepository(Session).delete({ userId: user.id });
      return removed;
    });
    return removedMethods.length > 0 ? { removedMethods } : {};
  }

  /** The argon2id hash compared against when there is no real one: created once, on first use. */
  private getDummyHash(): Promise<string> {
    this.dummyHash ??= this.hash(randomToken(32)).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    return this.dummyHash;
  }

  /** NFKC form of a password, refusing inputs over the byte cap before any work. */
  private normalize(password: string): string {
    if (typeof password !== 'string' || Buffer.byteLength(password, 'utf8') > this.maxPasswordBytes) {
      throw new ArrafAuthException('INVALID_INPUT');
    }
    return password.normalize('NFKC');
  }

  private async findCredential(userId: string): Promise<Pick<Account, 'id' | 'password'> | null> {
    return this.dataSource.getRepository(Account).findOne({
      select: { id: true, password: true },
      where: { userId, providerId: CREDENTIAL_PROVIDER_ID, accountId: userId },
    });
  }

  /** Sets the user's password hash, creating the credential account when there is none. */
  private async saveCredential(userId: string, hash: string, manager: EntityManager): Promise<void> {
    const accounts = manager.getRepository(Account);
    const where = { providerId: CREDENTIAL_PROVIDER_ID, accountId: userId };
    if ((await accounts.update(where, { password: hash })).affected) return;
    try {
      await accounts.insert(
        accounts.create({
          id: randomId(),
          userId,
          ...where,
          password: hash,
          accessToken: null,
          refreshToken: null,
          idToken: null,
          accessTokenExpiresAt: null,
          scope: null,
        }),
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await accounts.update(where, { password: hash });
    }
  }

  /** Replaces a weaker hash after a successful sign-in; a failure is logged, never fatal. */
  private async upgradeHash(accountId: string, stored: string, password: string): Promise<void> {
    try {
      const upgraded = await this.hash(password);
      // Only over the hash that was checked, so a password changed meanwhile is not overwritten.
      await this.dataSource.getRepository(Account).update({ id: accountId, password: stored }, { password: upgraded });
    } catch (error) {
      this.logger.warn(`Upgrading a password hash failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async finishReset(
    user: User,
    password: string,
    verified: Partial<Pick<User, 'emailVerified' | 'phoneVerified'>>,
  ): Promise<ProvenEmailOutcome> {
    const hash = await this.hash(password);
    const provesEmail = verified.emailVerified === true && !user.emailVerified;
    let removedMethods: RemovedSignInMethod[] = [];
    await this.dataSource.transaction(async (tx) => {
      await this.saveCredential(user.id, hash, tx);
      await this.auth.users(tx).update({ id: user.id }, verified);
      if (provesEmail) removedMethods = await this.methods.removeUnprovenMethods(user.id, tx);
      await tx.getRepository(Session).delete({ userId: user.id });
      await this.verifications.revoke(VERIFICATION_TYPES.emailResetPassword, user.id, tx);
    });
    Object.assign(user, verified);
    // Recovery ends a lockout: the new password works at once, from any address.
    if (user.email) await this.limiter.reset('sign-in:account', user.email);
    await this.limiter.reset('change-password:account', user.id);
    await this.notifyPasswordChanged(user, 'reset', removedMethods);
    return removedMethods.length > 0 ? { removedMethods } : {};
  }

  /** `onPasswordChanged` is a notice after the fact: its failure is logged, the change stands. */
  private async notifyPasswordChanged(
    user: User,
    reason: 'change' | 'reset',
    removedMethods: RemovedSignInMethod[] = [],
  ): Promise<void> {
    try {
      await this.options.callbacks.onPasswordChanged?.({ user, reason, removedMethods });
    } catch (error) {
      this.logger.error(
        `callbacks.onPasswordChanged failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /**
   * Issues a code or link for `user` at `email` and hands it to `deliver`. A failed delivery is 502
   * `DELIVERY_FAILED` and deletes the new secret (older ones stay valid); once it succeeds, older
   * secrets of the purpose stop working, for every address of the account.
   */
  private async issueEmailSecret(
    user: User,
    email: string,
    purpose: EmailTokenPurpose,
    mode: DeliveryMode,
    deliver: (delivery: VerificationDelivery) => unknown,
  ): Promise<void> {
    const policy = emailSecretPolicy(purpose, mode, this.options.otp.maxAttempts);
    try {
      await this.verifications.issue(policy, emailSubject(user.id, email, purpose), {
        replaceOlder: 'after-delivery',
        replaceScope: user.id,
        deliver: async (issued) => {
          try {
            await deliver(this.delivery(user, email, mode, issued, purpose));
          } catch (error) {
            throw new DeliveryFailure(error);
          }
        },
      });
    } catch (error) {
      if (!(error instanceof DeliveryFailure)) throw error;
      this.logger.error(`Delivering the ${purpose} ${mode} failed: ${describe(error.cause)}`);
      throw new ArrafAuthException('DELIVERY_FAILED', { cause: error.cause });
    }
  }

  /**
   * Checks an emailed code for the account `user` (or nobody: an unknown address takes the same
   * path and budget) at `email`, then consumes it. 400 `INVALID_TOKEN` for a wrong, expired,
   * used-up or used code; 429 `RATE_LIMITED` once the address has had 3 × `otp.maxAttempts`
   * guesses in the hour, whatever the number of new codes.
   */
  private async redeemEmailCode(
    user: User | null,
    email: string,
    purpose: EmailTokenPurpose,
    code: string,
    beforeConsume?: () => void,
  ): Promise<void> {
    const policy = emailSecretPolicy(purpose, 'otp', this.options.otp.maxAttempts);
    const check = await this.verifications.redeemCode(policy, emailSubject(user?.id, email, purpose), code, {
      beforeConsume,
    });
    if (check.ok) return;
    if (check.reason === 'budget') throw tooManyRequests('RATE_LIMITED', check.retryAt);
    if (check.reason === 'exhausted' && check.budgetResetAt !== undefined)
      throw tooManyRequests('RATE_LIMITED', check.budgetResetAt);
    throw new ArrafAuthException('INVALID_TOKEN');
  }

  /** The live link for `token` and its account, or `null` when it is bound to an address the account no longer has. */
  private async findEmailLink(
    purpose: EmailTokenPurpose,
    token: string,
  ): Promise<{ match: VerificationMatch; user: User } | null> {
    const match = await this.verifications.findLink(emailSecretPolicy(purpose, 'link', 1), token);
    const binding = match ? parseEmailBinding(match.identifier) : null;
    if (!match || !binding) return null;
    const user = await this.auth.users().findOneBy({ id: binding.userId });
    if (!user?.email || !safeEqual(sha256(user.email), binding.emailTag)) return null;
    return { match, user };
  }

  private delivery(
    user: User,
    email: string,
    mode: DeliveryMode,
    issued: IssuedSecret,
    purpose: EmailTokenPurpose,
  ): VerificationDelivery {
    const { secret, expiresAt } = issued;
    if (mode === 'otp') return { user, identifier: email, mode, code: secret, expiresAt };
    const delivery: VerificationDelivery = { user, identifier: email, mode, token: secret, expiresAt };
    if (this.options.appUrl !== undefined) delivery.url = `${this.options.appUrl}/${purpose}?token=${secret}`;
    return delivery;
  }

  /** E.164 of a phone number of an allowed country, or 400 (`INVALID_PHONE` / `PHONE_NOT_ALLOWED`). */
  private allowedPhone(input: string): string {
    const { e164, country } = parsePhone(input, this.options.phone.defaultCountry);
    const allowed = this.options.phone.allowedCountries;
    if (allowed && (country === undefined || !allowed.includes(country)))
      throw new ArrafAuthException('PHONE_NOT_ALLOWED');
    return e164;
  }
}

/** `a***@example.com`: enough to recognise an address in a log line, not to harvest it. */
function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${[...address.slice(0, at)][0] ?? ''}***${address.slice(at)}`;
}

/** A delivery callback that threw; kept apart from database errors, which are not a 502. */
class DeliveryFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('delivery failed');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
