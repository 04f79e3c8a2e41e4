import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, Like, MoreThan, Not } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import {
  deriveKey,
  hmacSha256,
  randomDigits,
  randomId,
  randomToken,
  safeEqual,
  sha256,
} from '../crypto/crypto.util.js';
import { Verification } from '../entities/verification.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { deleteExpiredInBatches } from '../session/typeorm-session.store.js';
import { admitGuess, resetGuesses } from './guess-limits.js';
import { failureBudgetKey, VERIFICATION_CODE_KEY_PURPOSE, type VerificationType } from './verification.constants.js';
import type {
  CheckOptions,
  IssueOptions,
  IssuedSecret,
  VerificationCheck,
  VerificationMatch,
  VerificationPolicy,
  VerificationSubject,
} from './verification.interfaces.js';

const INVALID: VerificationCheck = { ok: false, reason: 'invalid' };

/**
 * The one owner of one-time secrets in the `verifications` table (SMS codes, emailed codes and
 * links) and its only writer: issuing, storage (codes as HMAC-SHA-256 over type, identifier and
 * code under a key derived from the secret for this purpose; links as SHA-256), the attempt counter
 * (incremented atomically in the database before any comparison), the guess bounds across resends,
 * key rotation, single use (a conditional DELETE that exactly one request wins) and the sweep of
 * expired rows. Callers turn its results into their own error codes.
 *
 * @example const issued = await verifications.issue(policy, { identifier: '+966551234567' }, { deliver });
 */
@Injectable()
export class VerificationService {
  /** HMAC keys of codes, one per configured secret (the first signs): never the raw secret. */
  private readonly codeKeys: readonly Buffer[];

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly limiter: RateLimiter,
  ) {
    this.codeKeys = options.secrets.map((secret) => deriveKey(secret, VERIFICATION_CODE_KEY_PURPOSE));
  }

  /**
   * Stores a new secret for `subject` and hands it to `deliver`. When delivery throws, the new row
   * is deleted and the error rethrown, so no secret outlives a failed delivery.
   */
  async issue(policy: VerificationPolicy, subject: VerificationSubject, options: IssueOptions): Promise<IssuedSecret> {
    const { identifier } = subject;
    const now = Date.now();
    const secret = policy.kind === 'code' ? randomDigits(policy.length) : randomToken(policy.length);
    const issued: IssuedSecret = { secret, expiresAt: new Date(now + policy.ttlSeconds * 1000) };
    const repository = this.dataSource.getRepository(Verification);
    const replace = options.replaceOlder ?? 'before-delivery';
    const row = repository.create({
      id: randomId(),
      identifier,
      type: policy.type,
      valueHash: this.storedHash(policy, identifier, secret, this.codeKeys[0]),
      expiresAt: issued.expiresAt,
      attempts: 0,
      createdAt: new Date(now),
    });
    if (replace === 'before-delivery') await this.deleteOlder(policy.type, identifier, options.replaceScope);
    await repository.insert(row);
    try {
      await options.deliver(issued);
    } catch (error) {
      await repository.delete({ id: row.id });
      throw error;
    }
    if (replace === 'after-delivery') await this.deleteOlder(policy.type, identifier, options.replaceScope, row.id);
    return issued;
  }

  /**
   * Checks `code` against the latest code of `subject` and consumes it. Every call takes a guess slot
   * first, known recipient or not, so the answers cannot tell the two apart: with `guessLimits`, the
   * per-client, long-term and consecutive bounds (a refused call compares nothing); otherwise the
   * subject's failure budget. The row's attempt counter is raised in one conditional UPDATE before
   * the comparison, so parallel guesses never compare more than `maxAttempts` times.
   */
  async redeemCode(
    policy: VerificationPolicy,
    subject: VerificationSubject,
    code: string,
    options: CheckOptions = {},
  ): Promise<VerificationCheck> {
    if (policy.kind !== 'code' || !isDigits(code, policy.length)) return INVALID;
    const scope = subject.budgetScope ?? subject.identifier;
    const client = subject.client ?? 'unknown';
    let budgetResetAt: number | undefined;
    if (policy.guessLimits) {
      const admission = await admitGuess(this.limiter, policy.guessLimits, scope, client);
      if (!admission.ok) return { ok: false, reason: 'budget', retryAt: admission.retryAt };
    } else if (policy.budget) {
      const slot = await this.limiter.hitKey(failureBudgetKey(scope), policy.budget.windowSeconds);
      if (slot.count > policy.budget.limit) budgetResetAt = slot.resetAt;
    }
    const check = await this.checkLatest(policy, subject.identifier, code, budgetResetAt, options);
    // A store failure here must not undo a sign-in whose code is already consumed; the counts just
    // stay higher, the safe side (the limiter has logged the failure).
    if (check.ok && policy.guessLimits) await resetGuesses(this.limiter, scope, client).catch(() => undefined);
    return check;
  }

  /**
   * Whether `secret`, issued to `subject` under `policy`, is still the one that works: the latest
   * secret of that type and identifier, not consumed, not expired, not used up. Answers a yes or no
   * only (a late resend of the same code asks it); nothing is counted, consumed or returned.
   */
  async isPending(policy: VerificationPolicy, subject: VerificationSubject, secret: string): Promise<boolean> {
    const { identifier } = subject;
    const row = await this.dataSource.getRepository(Verification).findOne({
      where: { identifier, type: policy.type },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    if (!row || row.expiresAt.getTime() <= Date.now()) return false;
    if (policy.kind === 'code' && row.attempts >= policy.maxAttempts) return false;
    if (policy.kind === 'link') return safeEqual(sha256(secret), row.valueHash);
    return this.codeMatches(policy, identifier, secret, row.valueHash);
  }

  /**
   * Deletes expired secrets in batches of `batchSize`, so concurrent requests keep being served.
   * Returns how many rows were deleted.
   */
  async deleteExpired(now = new Date(), batchSize = 1000): Promise<number> {
    return deleteExpiredInBatches(this.dataSource, Verification, now, batchSize);
  }

  /** Compares `code` with the latest row; `budgetResetAt` set means the legacy budget is spent. */
  private async checkLatest(
    policy: VerificationPolicy,
    identifier: string,
    code: string,
    budgetResetAt: number | undefined,
    options: CheckOptions,
  ): Promise<VerificationCheck> {
    const overBudget = budgetResetAt !== undefined;
    const budget: VerificationCheck = { ok: false, reason: 'budget', retryAt: budgetResetAt ?? 0 };
    const repository = this.dataSource.getRepository(Verification);
    const row = await repository.findOne({
      where: { identifier, type: policy.type },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    if (!row) return overBudget ? budget : INVALID;
    if (row.expiresAt.getTime() <= Date.now()) {
      if (overBudget) return budget;
      await repository.delete({ id: row.id });
      return { ok: false, reason: 'expired' };
    }
    // A used-up code says so before the budget does: a new code is the way out, not waiting an hour.
    if (row.attempts >= policy.maxAttempts)
      return { ok: false, reason: 'exhausted', ...(overBudget ? { budgetResetAt } : {}) };
    if (overBudget) return budget;

    const counted = await repository
      .createQueryBuilder()
      .update(Verification)
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND attempts < :max', { id: row.id, max: policy.maxAttempts })
      .execute();
    if (counted.affected !== 1) return { ok: false, reason: 'exhausted' };
    if (!this.codeMatches(policy, identifier, code, row.valueHash)) return INVALID;
    await options.beforeConsume?.();
    return (await this.consume(row)) ? { ok: true, match: pick(row) } : INVALID;
  }

  /**
   * The live link of `policy.type` whose token is `token`, not consumed (so the caller can check
   * what the link is for first), or `null`. Only rows of this type are looked at: an OAuth state or
   * a link of another purpose never matches.
   */
  async findLink(policy: VerificationPolicy, token: string): Promise<VerificationMatch | null> {
    if (policy.kind !== 'link' || typeof token !== 'string' || token.length === 0 || token.length > 512) return null;
    const row = await this.dataSource.getRepository(Verification).findOne({
      where: { valueHash: sha256(token), type: policy.type, expiresAt: MoreThan(new Date()) },
    });
    return row ? pick(row) : null;
  }

  /** Deletes a matched secret; `true` for the one request that did, under any concurrency. */
  async consume(match: VerificationMatch): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(Verification)
      .delete({ id: match.id, valueHash: match.valueHash });
    return result.affected === 1;
  }

  /**
   * Deletes every outstanding secret of `type` for `scope`: the identifier itself and identifiers
   * `<scope>:…` (all the addresses of an account). Joins `manager`'s transaction when given.
   */
  async revoke(type: VerificationType, scope: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const repository = manager.getRepository(Verification);
    await repository.delete({ identifier: scope, type });
    await repository.delete({ identifier: Like(`${literalScope(scope)}:%`), type });
  }

  /**
   * Every secret, of any type, bound to one of `identifiers` or to `<scope>:…` (an account's codes
   * and links, backup codes, pending second factors): type and expiry only, never the hash.
   */
  async listBound(identifiers: string[], scope: string): Promise<{ type: string; expiresAt: Date }[]> {
    const rows = await this.dataSource.getRepository(Verification).find({
      select: { type: true, expiresAt: true },
      where: boundTo(identifiers, scope),
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(({ type, expiresAt }) => ({ type, expiresAt }));
  }

  /** Deletes every secret {@link listBound} would list, in `manager`'s transaction (account deletion). */
  async revokeBound(identifiers: string[], scope: string, manager: EntityManager): Promise<number> {
    return (await manager.getRepository(Verification).delete(boundTo(identifiers, scope))).affected ?? 0;
  }

  private async deleteOlder(type: string, identifier: string, scope: string | undefined, keep?: string): Promise<void> {
    const repository = this.dataSource.getRepository(Verification);
    const others = keep === undefined ? {} : { id: Not(keep) };
    await repository.delete({ identifier, type, ...others });
    if (scope !== undefined) await repository.delete({ identifier: Like(`${literalScope(scope)}:%`), type, ...others });
  }

  private codeMatches(policy: VerificationPolicy, identifier: string, code: string, stored: string): boolean {
    // Every configured secret's key is tried (rotation), without stopping at the first match.
    let matches = false;
    for (const key of this.codeKeys) {
      matches = safeEqual(this.storedHash(policy, identifier, code, key), stored) || matches;
    }
    return matches;
  }

  /** What is stored for a secret: codes are low-entropy, so keyed and bound to type and recipient. */
  private storedHash(policy: VerificationPolicy, identifier: string, secret: string, key: Buffer): string {
    return policy.kind === 'code'
      ? hmacSha256(key, `arraf-auth:verification|${policy.type}|${identifier}|${secret}`)
      : sha256(secret);
  }
}

function pick(row: Verification): VerificationMatch {
  return { id: row.id, identifier: row.identifier, valueHash: row.valueHash };
}

/** Rows bound to one of `identifiers` or to an identifier `<scope>:…`. */
function boundTo(identifiers: string[], scope: string) {
  return [...identifiers.map((identifier) => ({ identifier })), { identifier: Like(`${literalScope(scope)}:%`) }];
}

function isDigits(code: unknown, length: number): code is string {
  return typeof code === 'string' && code.length === length && /^[0-9]+$/.test(code);
}

/**
 * A scope for a prefix match. Scopes are ours (user ids, E.164 numbers); a wildcard in one would be
 * a bug, and databases disagree on LIKE escapes (SQLite has none by default), so it is refused.
 */
function literalScope(value: string): string {
  if (/[\\%_]/.test(value)) throw new Error(`Verification scope with a LIKE wildcard: ${JSON.stringify(value)}`);
  return value;
}
