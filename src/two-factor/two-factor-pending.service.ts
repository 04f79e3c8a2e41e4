import { Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { SecurityEventClient } from '../security-events/security-event.types.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { AuthService } from '../auth/auth.service.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions, SignInMethod } from '../options/arraf-auth-options.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { VerificationMatch } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import {
  PENDING_MAX_ATTEMPTS,
  PENDING_POLICY,
  PENDING_TTL_SECONDS,
  pendingAttemptsKey,
  type TwoFactorMethod,
} from './two-factor.constants.js';
import { type SecondFactorInput, TwoFactorService } from './two-factor.service.js';

const METHODS: readonly SignInMethod[] = ['phone', 'email', 'oauth', 'passkey'];

/** A sign-in waiting for its second factor: the token for the pending cookie, never a session. */
export interface PendingSignIn {
  token: string;
  expiresAt: Date;
  methods: TwoFactorMethod[];
}

/** A pending sign-in completed: the user, the first factor they signed in with, and the second that completed it. */
export interface CompletedSignIn {
  user: User;
  method: SignInMethod;
  secondFactor: TwoFactorMethod;
}

interface FoundPending {
  match: VerificationMatch;
  userId: string;
  method: SignInMethod;
}

/**
 * The state between a first factor and the second: a 256-bit token stored (as SHA-256) by the
 * verification service for five minutes, bound to the user and the first factor. It allows
 * {@link PENDING_MAX_ATTEMPTS} codes, counted atomically in the rate-limit store before any
 * comparison, and dies after them, after its time, or when it completes.
 */
@Injectable()
export class TwoFactorPendingService {
  constructor(
    private readonly verifications: VerificationService,
    private readonly twoFactor: TwoFactorService,
    private readonly limiter: RateLimiter,
    private readonly auth: AuthService,
    private readonly events: SecurityEventsService,
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
  ) {}

  /**
   * A pending sign-in when the user has a second factor (an active authenticator app or a passkey),
   * else `null` (sign the user in). `methods` lists what completes it. `beforeSignIn` runs first: a
   * user the application refuses never reaches the second factor; it does not run again on completion.
   */
  async start(user: User, method: SignInMethod): Promise<PendingSignIn | null> {
    const methods = await this.twoFactor.methodsOf(user.id);
    if (methods.length === 0) return null;
    await this.auth.runHook(this.options.hooks.beforeSignIn, { user, method });
    let token = '';
    const issued = await this.verifications.issue(
      PENDING_POLICY,
      { identifier: `${user.id}:${method}` },
      { deliver: ({ secret }) => (token = secret), replaceScope: user.id },
    );
    return { token, expiresAt: issued.expiresAt, methods };
  }

  /**
   * Checks a code or backup code against the pending sign-in `token`; the user and first factor when
   * it passes. An account without an authenticator app (passkey only) is refused with
   * `TWO_FACTOR_NOT_ENABLED`, and the attempt counts: it completes with a passkey instead.
   */
  async complete(token: string, input: SecondFactorInput, client: SecurityEventClient = {}): Promise<CompletedSignIn> {
    const pending = await this.find(token);
    if (!pending) throw new ArrafAuthException('TWO_FACTOR_PENDING_EXPIRED');
    const { match, userId } = pending;
    const secondFactor = input.backupCode === undefined ? 'totp' : 'backup_code';
    const attempt = await this.limiter.hitKey(pendingAttemptsKey(match.id), PENDING_TTL_SECONDS);
    if (attempt.count > PENDING_MAX_ATTEMPTS) {
      await this.verifications.consume(match);
      throw new ArrafAuthException('TWO_FACTOR_TOO_MANY_ATTEMPTS');
    }
    try {
      await this.twoFactor.requireValid(userId, input, client);
    } catch (error) {
      await this.recordFailure(userId, secondFactor, error, client);
      // The last allowed attempt failed: the pending sign-in dies with it.
      if (attempt.count >= PENDING_MAX_ATTEMPTS) await this.verifications.consume(match);
      throw error;
    }
    return this.finish(pending, secondFactor);
  }

  /**
   * Completes the pending sign-in `token` with a passkey `userId` has just proven (a passkey counts
   * as both factors). `null` when `token` is not pending any more (the passkey signs in on its own).
   * A passkey of another user than the pending sign-in's is refused with `PASSKEY_INVALID`, and the
   * pending sign-in ends: whoever holds it presented a proof that is not its account's.
   */
  async completeWithPasskey(
    token: string,
    userId: string,
    client: SecurityEventClient = {},
  ): Promise<CompletedSignIn | null> {
    const pending = await this.find(token);
    if (!pending) return null;
    if (pending.userId !== userId) {
      await this.verifications.consume(pending.match);
      const refused = new ArrafAuthException('PASSKEY_INVALID');
      await this.recordFailure(pending.userId, 'passkey', refused, client);
      throw refused;
    }
    return this.finish(pending, 'passkey');
  }

  /** `sign_in.failed` for the pending sign-in's account: a wrong second factor (never fails the answer). */
  private async recordFailure(
    userId: string,
    method: TwoFactorMethod,
    error: unknown,
    client: SecurityEventClient,
  ): Promise<void> {
    const reason = error instanceof ArrafAuthException ? error.code : 'error';
    await this.events.recordQuietly({ type: 'sign_in.failed', userId, method, ...client, detail: { reason } });
  }

  private async find(token: string): Promise<FoundPending | undefined> {
    const match = await this.verifications.findLink(PENDING_POLICY, token);
    const [userId, method] = match?.identifier.split(':') ?? [];
    if (!match || !userId || !METHODS.includes(method as SignInMethod)) return undefined;
    return { match, userId, method: method as SignInMethod };
  }

  private async finish(
    { match, userId, method }: FoundPending,
    secondFactor: TwoFactorMethod,
  ): Promise<CompletedSignIn> {
    const user = await this.auth.users().findOneBy({ id: userId });
    // Single use: of two parallel right answers, one wins.
    if (!user || !(await this.verifications.consume(match))) throw new ArrafAuthException('TWO_FACTOR_PENDING_EXPIRED');
    return { user, method, secondFactor };
  }
}
