import { Inject, Injectable, Logger } from '@nestjs/common';
import QRCode from 'qrcode';
import { DataSource, type EntityManager, In, LessThan, MoreThan } from 'typeorm';
import { Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { SecurityEventClient } from '../security-events/security-event.types.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { SessionService } from '../session/session.service.js';
import { failureBudgetKey } from '../verification/verification.constants.js';
import { BackupCodesService } from './backup-codes.service.js';
import { TotpSecretCipher } from './totp-secret.cipher.js';
import { matchingTotpStep, newTotpSecret, totpUri } from './totp.js';
import { TwoFactorProof } from './two-factor-proof.entity.js';
import { TWO_FACTOR_FAILURE_BUDGET, type TwoFactorMethod, twoFactorBudgetScope } from './two-factor.constants.js';
import { TwoFactor } from './two-factor.entity.js';

/** A second factor as the user sends it: an authenticator code or a backup code. */
export interface SecondFactorInput {
  code?: string;
  backupCode?: string;
}

/** What enrolment returns, shown once. */
export interface TwoFactorEnrolment {
  totpUri: string;
  /** The URI as a PNG data URL. */
  qrCode: string;
  backupCodes: string[];
}

/** What a change of second factor also does when its owner asks, and who asked (recorded with its event). */
export interface FactorChangeOptions extends SecurityEventClient {
  /** Revokes every other session of the user in the same transaction as the change; this one stays. */
  revokeOtherSessionsExcept?: string;
}

const TOTP_CODE = /^[0-9]{6}$/;

/**
 * TOTP second factors (RFC 6238 with otpauth): enrolment, confirmation, disabling, backup codes,
 * which second factors (authenticator app, passkeys) a user has, and {@link requireValid}, the one place a second factor is checked and its failures counted. Also the
 * session proofs that `@RequireTwoFactor()` reads. Returns data; throws `ArrafAuthException`s.
 */
@Injectable()
export class TwoFactorService {
  private readonly logger = new Logger('ArrafAuth:TwoFactor');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly cipher: TotpSecretCipher,
    private readonly backupCodes: BackupCodesService,
    private readonly limiter: RateLimiter,
    private readonly sessions: SessionService,
    private readonly events: SecurityEventsService,
  ) {}

  /**
   * The second factors of this user, which are also the methods that complete a pending sign-in:
   * `totp` and `backup_code` with an active authenticator app, `passkey` with at least one passkey.
   * Empty when the user has no second factor (a first factor then signs in on its own).
   */
  async methodsOf(userId: string): Promise<TwoFactorMethod[]> {
    // One query, two indexed EXISTS: asked on every `GET session` and every first factor.
    const query = this.dataSource.createQueryBuilder().from(USER_TABLE, 'u').where('u.id = :userId', { userId });
    const totp = query.subQuery().select('1').from(TwoFactor, 'f').where('f.userId = u.id AND f.enabled = :on');
    const passkey = query.subQuery().select('1').from(Passkey, 'k').where('k.userId = u.id');
    const row = await query
      .select(`CASE WHEN EXISTS ${totp.getQuery()} THEN 1 ELSE 0 END`, 'totp')
      .addSelect(`CASE WHEN EXISTS ${passkey.getQuery()} THEN 1 ELSE 0 END`, 'passkey')
      .setParameter('on', true)
      .getRawOne<{ totp: number | string; passkey: number | string }>();
    const methods: TwoFactorMethod[] = Number(row?.totp) === 1 ? ['totp', 'backup_code'] : [];
    return Number(row?.passkey) === 1 ? [...methods, 'passkey'] : methods;
  }

  /** Whether the user has any second factor: an active authenticator app or a passkey. */
  async hasSecondFactor(userId: string): Promise<boolean> {
    return (await this.methodsOf(userId)).length > 0;
  }

  /** Starts enrolment: a new secret (not active until {@link confirm}) and a new set of backup codes. */
  async enable(user: User): Promise<TwoFactorEnrolment> {
    if (await this.totps().existsBy({ userId: user.id, enabled: true })) {
      throw new ArrafAuthException('TWO_FACTOR_ALREADY_ENABLED');
    }
    const secret = newTotpSecret();
    await this.transactions.run(async (tx) => {
      await tx.getRepository(TwoFactor).delete({ userId: user.id, enabled: false });
      await this.backupCodes.revoke(user.id, tx);
      await tx.getRepository(TwoFactor).insert({
        userId: user.id,
        secret: this.cipher.seal(secret, user.id),
        enabled: false,
        lastUsedStep: 0,
      });
    });
    const uri = totpUri(secret, this.options.appName, user.email ?? user.phone ?? user.id);
    const qrCode = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2 });
    return { totpUri: uri, qrCode, backupCodes: await this.backupCodes.issue(user.id) };
  }

  /**
   * Activates the authenticator once the user proves a code from it (`two_factor.enabled` recorded in
   * the same transaction). Returns how many other sessions were revoked (see {@link FactorChangeOptions}).
   */
  async confirm(userId: string, code: string, options: FactorChangeOptions = {}): Promise<number> {
    const row = await this.totps().findOneBy({ userId });
    if (!row) throw new ArrafAuthException('TWO_FACTOR_NOT_ENABLED');
    if (row.enabled) throw new ArrafAuthException('TWO_FACTOR_ALREADY_ENABLED');
    await this.requireTotp(row, code);
    const revoked = await this.change(userId, 'two_factor.enabled', options, async (tx) => {
      // Only the secret the code was checked against: an `enable` in between replaced it, unproven.
      const updated = await tx
        .getRepository(TwoFactor)
        .update({ userId, enabled: false, secret: row.secret }, { enabled: true });
      if (updated.affected !== 1) throw new ArrafAuthException('TWO_FACTOR_INVALID');
    });
    this.logger.log(`two-factor enabled for user ${userId}`);
    return revoked;
  }

  /**
   * Turns the second factor off after one more proof; the backup codes die with it
   * (`two_factor.disabled` recorded in the same transaction). Returns the sessions revoked.
   */
  async disable(userId: string, input: SecondFactorInput, options: FactorChangeOptions = {}): Promise<number> {
    const { revokeOtherSessionsExcept, ...client } = options;
    await this.requireValid(userId, input, client);
    const revoked = await this.change(userId, 'two_factor.disabled', options, async (tx) => {
      await tx.getRepository(TwoFactor).delete({ userId });
      await this.backupCodes.revoke(userId, tx);
    });
    this.logger.log(`two-factor disabled for user ${userId}`);
    return revoked;
  }

  /**
   * A new set of ten backup codes; the old set stops working. The old set is voided (and other
   * sessions revoked, when asked) in one transaction before the new codes are issued.
   */
  async regenerateBackupCodes(
    userId: string,
    options: FactorChangeOptions = {},
  ): Promise<{ backupCodes: string[]; revoked: number }> {
    if (!(await this.totps().existsBy({ userId, enabled: true })))
      throw new ArrafAuthException('TWO_FACTOR_NOT_ENABLED');
    const { revokeOtherSessionsExcept, ...client } = options;
    const revoked = await this.transactions.run(async (tx) => {
      await this.backupCodes.revoke(userId, tx);
      return this.revokeOtherSessions(userId, revokeOtherSessionsExcept, tx);
    });
    const backupCodes = await this.backupCodes.issue(userId);
    // The codes are issued one by one by the verification service: recorded after, never losing the new set.
    await this.events.recordQuietly({ type: 'two_factor.backup_codes_regenerated', userId, ...client });
    this.logger.log(`backup codes regenerated for user ${userId}`);
    return { backupCodes, revoked };
  }

  /**
   * Checks an authenticator or backup code of a user whose authenticator app is active; throws
   * `TWO_FACTOR_INVALID`, `TWO_FACTOR_NOT_ENABLED` (no active app, a passkey-only account included)
   * or `TWO_FACTOR_TOO_MANY_ATTEMPTS` (with `Retry-After`). Every check reserves a slot of the user's
   * failure budget before comparing (parallel guesses never exceed it); a right code gives it back.
   */
  async requireValid(userId: string, input: SecondFactorInput, client: SecurityEventClient = {}): Promise<void> {
    const row = await this.totps().findOneBy({ userId, enabled: true });
    if (!row) throw new ArrafAuthException('TWO_FACTOR_NOT_ENABLED');
    if (input.backupCode !== undefined) {
      const result = await this.backupCodes.redeem(userId, input.backupCode);
      if (result.ok) {
        await this.releaseBudgetSlot(userId);
        this.logger.warn(`backup code used by user ${userId}`);
        // Spent atomically by the verification service: recorded after, never costing the code.
        const event = { type: 'two_factor.backup_code_used', userId, method: 'backup_code', ...client } as const;
        await this.events.recordQuietly(event);
        return;
      }
      if (result.reason === 'budget') throw tooManyAttempts(result.retryAt);
      throw new ArrafAuthException('TWO_FACTOR_INVALID');
    }
    await this.requireTotp(row, input.code ?? '');
  }

  /** Records that a session just passed a second factor (for `@RequireTwoFactor()`). */
  async recordProof(sessionId: string): Promise<void> {
    await this.dataSource.getRepository(TwoFactorProof).upsert({ sessionId, verifiedAt: new Date() }, ['sessionId']);
  }

  /**
   * Deletes the user's authenticator and the second-factor proofs of `sessionIds` (its sessions)
   * in `manager`'s transaction (account deletion).
   */
  async deleteForUser(userId: string, sessionIds: string[], manager: EntityManager): Promise<void> {
    if (sessionIds.length > 0) await manager.getRepository(TwoFactorProof).delete({ sessionId: In(sessionIds) });
    await manager.getRepository(TwoFactor).delete({ userId });
  }

  /** Whether a session passed a second factor within `twoFactor.freshAge`. */
  async hasFreshProof(sessionId: string): Promise<boolean> {
    const since = new Date(Date.now() - this.options.twoFactor.freshAge * 1000);
    return this.dataSource.getRepository(TwoFactorProof).existsBy({ sessionId, verifiedAt: MoreThan(since) });
  }

  /**
   * One change of the authenticator in one transaction: the change, its event and, when asked, the
   * revocation of the other sessions; any failure rolls all three back. Returns the sessions revoked.
   */
  private async change(
    userId: string,
    type: 'two_factor.enabled' | 'two_factor.disabled',
    { revokeOtherSessionsExcept, ...client }: FactorChangeOptions,
    apply: (tx: EntityManager) => Promise<void>,
  ): Promise<number> {
    return this.transactions.run(async (tx) => {
      await apply(tx);
      await this.events.record({ type, userId, method: 'totp', ...client }, { manager: tx });
      return this.revokeOtherSessions(userId, revokeOtherSessionsExcept, tx);
    });
  }

  private async revokeOtherSessions(userId: string, keep: string | undefined, tx: EntityManager): Promise<number> {
    return keep === undefined ? 0 : this.sessions.revokeOtherSessions(userId, keep, { manager: tx });
  }

  /**
   * Throws `TWO_FACTOR_INVALID` unless `code` is the authenticator's. A budget slot is reserved first,
   * so parallel wrong codes never compare more than the budget allows; a right code gives it back:
   * the budget counts failures only.
   */
  private async requireTotp(row: TwoFactor, code: string): Promise<void> {
    const { limit, windowSeconds } = TWO_FACTOR_FAILURE_BUDGET;
    const slot = await this.limiter.hitKey(budgetKey(row.userId), windowSeconds);
    if (slot.count > limit) throw tooManyAttempts(slot.resetAt);
    if (!(await this.acceptTotp(row, code))) throw new ArrafAuthException('TWO_FACTOR_INVALID');
    await this.releaseBudgetSlot(row.userId);
  }

  /** Gives back the slot a right code reserved (the verification service reserves backup codes' own). */
  private async releaseBudgetSlot(userId: string): Promise<void> {
    await this.limiter.releaseKey(budgetKey(userId));
  }

  /**
   * Whether `code` is the authenticator's code for a step not used before. The step is claimed with
   * one conditional UPDATE, so a code replayed (or sent twice in parallel) in its window passes once.
   */
  private async acceptTotp(row: TwoFactor, code: string): Promise<boolean> {
    if (!TOTP_CODE.test(code)) return false;
    const opened = this.cipher.open(row.secret, row.userId);
    if (!opened) {
      this.logger.error(`TOTP secret of user ${row.userId} opens under no configured secret`);
      return false;
    }
    const step = matchingTotpStep(opened.plaintext, code);
    if (step === null) return false;
    const claimed = await this.totps()
      .createQueryBuilder()
      .update(TwoFactor)
      .set({ lastUsedStep: step, ...(opened.stale ? { secret: this.cipher.seal(opened.plaintext, row.userId) } : {}) })
      .where({ userId: row.userId, lastUsedStep: LessThan(step) })
      .execute();
    return claimed.affected === 1;
  }

  private totps() {
    return this.dataSource.getRepository(TwoFactor);
  }
}

function budgetKey(userId: string): string {
  return failureBudgetKey(twoFactorBudgetScope(userId));
}

function tooManyAttempts(retryAt: number): ArrafAuthException {
  const seconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
  return new ArrafAuthException('TWO_FACTOR_TOO_MANY_ATTEMPTS', { headers: { 'Retry-After': String(seconds) } });
}
