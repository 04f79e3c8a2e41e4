import { Logger } from '@nestjs/common';
import { type DataSource, LessThan, Like, MoreThan, Not } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { hmacSha256, randomDigits, randomId, randomToken, safeEqual, sha256 } from '../crypto/crypto.util.js';
import type { User } from '../entities/user.entity.js';
import { Verification } from '../entities/verification.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.interface.js';
import type { DeliveryMode } from './password-input.js';

/** What an emailed secret may be used for: a `reset-password` secret cannot verify an email, and back. */
export type EmailTokenPurpose = 'reset-password' | 'verify-email';

/** Lifetime of an emailed code or link. */
export const EMAIL_TOKEN_TTL_SECONDS = 15 * 60;
/** Digits of an emailed code. */
export const EMAIL_CODE_LENGTH = 6;
/** Guesses per address per hour across new codes: this many times `otp.maxAttempts`. */
const FAILURE_BUDGET_FACTOR = 3;
const FAILURE_WINDOW_SECONDS = 3600;

/** A freshly issued secret, handed to the delivery callback and never stored. */
export interface IssuedEmailToken {
  mode: DeliveryMode;
  code?: string;
  token?: string;
  expiresAt: Date;
}

/** A live link row and the account it is bound to. */
export interface LinkTokenMatch {
  row: Verification;
  user: User;
}

/**
 * Emailed codes and links for password resets and email verification, in the `verifications`
 * table. A row is bound to the purpose (`type`) and to the account and address: its identifier is
 * `<userId>:<sha256(email)>`, so a secret stops working when the account's address changes.
 * Codes (6 digits) are stored as HMAC-SHA-256 under the secret, with an attempt counter that is
 * incremented atomically before each comparison; links (32 random bytes) as SHA-256. Every secret
 * is single use (a conditional DELETE that one request wins) and expires after 15 minutes; a new one
 * replaces the older ones only once it has been delivered.
 */
export class EmailTokenStore {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ResolvedArrafAuthOptions,
    private readonly limits: RateLimitStore,
  ) {}

  /**
   * Stores a new code or link for `user` at `email` and hands it to `deliver`. If `deliver` throws,
   * the new row is deleted (older ones stay valid) and 502 `DELIVERY_FAILED` is thrown; once it
   * succeeds, older secrets of the same purpose are deleted.
   */
  async issue(
    user: User,
    email: string,
    purpose: EmailTokenPurpose,
    mode: DeliveryMode,
    deliver: (issued: IssuedEmailToken) => void | Promise<void>,
  ): Promise<void> {
    const identifier = bindingOf(user.id, email);
    const now = Date.now();
    const expiresAt = new Date(now + EMAIL_TOKEN_TTL_SECONDS * 1000);
    const issued: IssuedEmailToken = { mode, expiresAt };
    let valueHash: string;
    if (mode === 'otp') {
      issued.code = randomDigits(EMAIL_CODE_LENGTH);
      valueHash = this.codeHash(this.options.secrets[0], purpose, identifier, issued.code);
    } else {
      issued.token = randomToken(32);
      valueHash = sha256(issued.token);
    }
    const repository = this.dataSource.getRepository(Verification);
    const row = repository.create({
      id: randomId(),
      identifier,
      type: purpose,
      valueHash,
      expiresAt,
      attempts: 0,
      createdAt: new Date(now),
    });
    await repository.insert(row);
    try {
      await deliver(issued);
    } catch (error) {
      await repository.delete({ id: row.id });
      this.logger.error(
        `Delivering the ${purpose} ${mode} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new ArrafAuthException('DELIVERY_FAILED', { cause: error });
    }
    await repository.delete({ identifier: Like(`${user.id}:%`), type: purpose, id: Not(row.id) });
  }

  /**
   * Checks a code against the latest live one of the account `user` (or of nobody: an unknown
   * address takes the same path) at `email`, and consumes it. Throws 400 `INVALID_TOKEN` for a
   * wrong, expired, used-up or already used code, and 429 `RATE_LIMITED` once the address has had
   * 3 × `otp.maxAttempts` guesses in the hour, whatever the number of new codes.
   */
  async redeemCode(user: User | null, email: string, purpose: EmailTokenPurpose, code: string): Promise<void> {
    const { maxAttempts } = this.options.otp;
    // Every guess takes a slot of the address's hourly budget before anything is compared, so
    // parallel guesses across new codes cannot exceed it either (an honest person uses one per code).
    const slot = await this.limits.hit(`email-code:${purpose}:${sha256(email)}`, FAILURE_WINDOW_SECONDS);
    if (slot.count > FAILURE_BUDGET_FACTOR * maxAttempts) throw tooManyAttempts(slot.resetAt);

    const identifier = user ? bindingOf(user.id, email) : `none:${sha256(email)}`;
    const repository = this.dataSource.getRepository(Verification);
    const row = await repository.findOne({
      where: { identifier, type: purpose, expiresAt: MoreThan(new Date()) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    if (!row) throw new ArrafAuthException('INVALID_TOKEN');
    // Count the guess in the database before comparing, in one conditional statement: parallel
    // guesses serialise on the row and no more than maxAttempts of them are ever compared.
    const counted = await repository
      .createQueryBuilder()
      .update(Verification)
      .set({ attempts: () => 'attempts + 1' })
      .where({ id: row.id, attempts: LessThan(maxAttempts) })
      .execute();
    if (counted.affected !== 1) throw new ArrafAuthException('INVALID_TOKEN');
    if (!this.codeMatches(row.valueHash, purpose, identifier, code)) throw new ArrafAuthException('INVALID_TOKEN');
    if (!(await this.consume(row))) throw new ArrafAuthException('INVALID_TOKEN');
  }

  /**
   * The live link row for `token` and the account it belongs to, without consuming it (so a new
   * password can be checked first). `null` when unknown, expired, or bound to an address the
   * account no longer has.
   */
  async findLink(token: string, purpose: EmailTokenPurpose): Promise<LinkTokenMatch | null> {
    const repository = this.dataSource.getRepository(Verification);
    const row = await repository.findOne({
      where: { valueHash: sha256(token), type: purpose, expiresAt: MoreThan(new Date()) },
    });
    if (!row) return null;
    const [userId, emailTag] = row.identifier.split(':');
    const user = await this.dataSource.getRepository<User>(USER_TABLE).findOneBy({ id: userId });
    if (!user?.email || !safeEqual(sha256(user.email), emailTag ?? '')) return null;
    return { row, user };
  }

  /** Deletes `row` if it is still there; `true` for the one request that did. */
  async consume(row: Pick<Verification, 'id' | 'valueHash'>): Promise<boolean> {
    const result = await this.dataSource.getRepository(Verification).delete({ id: row.id, valueHash: row.valueHash });
    return result.affected === 1;
  }

  /** Deletes every outstanding secret of `purpose` for the account. */
  async revokeAll(userId: string, purpose: EmailTokenPurpose, manager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(Verification).delete({ identifier: Like(`${userId}:%`), type: purpose });
  }

  private codeMatches(valueHash: string, purpose: EmailTokenPurpose, identifier: string, code: string): boolean {
    // Every configured secret is tried (rotation), without stopping at the first match.
    let matches = false;
    for (const secret of this.options.secrets) {
      matches = safeEqual(this.codeHash(secret, purpose, identifier, code), valueHash) || matches;
    }
    return matches;
  }

  private codeHash(secret: string, purpose: EmailTokenPurpose, identifier: string, code: string): string {
    return hmacSha256(secret, `arraf-auth:email-code|${purpose}|${identifier}|${code}`);
  }
}

/** The identifier a secret is bound to: the account, and the address it was sent to. */
function bindingOf(userId: string, email: string): string {
  return `${userId}:${sha256(email)}`;
}

function tooManyAttempts(resetAt: number): ArrafAuthException {
  const seconds = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
  return new ArrafAuthException('RATE_LIMITED', { headers: { 'Retry-After': String(seconds) } });
}
