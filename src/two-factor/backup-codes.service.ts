import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { VerificationCheck } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import {
  BACKUP_CODE_COUNT,
  BACKUP_CODE_POLICY,
  LEGACY_BACKUP_CODE_POLICY,
  twoFactorBudgetScope,
} from './two-factor.constants.js';

/** A typed backup code once spaces and dashes are gone: the slot digit and the code's digits. */
const TYPED_CODE = /^[0-9]+$/;
/** Digits shown per group (`012345-678901-234567`). */
const GROUP = 6;

/**
 * Backup codes, issued and redeemed through the {@link VerificationService} (HMAC at rest, single
 * use, the failure budget shared with TOTP; wrong guesses never use a code up). Each of the ten codes
 * lives in its own slot (`<userId>:<slot>`); the slot is the code's first digit, so a check touches
 * one row and spends one budget slot.
 */
@Injectable()
export class BackupCodesService {
  constructor(private readonly verifications: VerificationService) {}

  /**
   * Issues ten new codes, returned once (`012345-678901-234567`: the slot digit and 17 random digits,
   * 56 bits); each replaces its slot's older code. The caller voids the old set first ({@link revoke}),
   * in the transaction of the change that asks for it.
   */
  async issue(userId: string): Promise<string[]> {
    const codes: string[] = [];
    for (let slot = 0; slot < BACKUP_CODE_COUNT; slot++) {
      await this.verifications.issue(BACKUP_CODE_POLICY, this.subject(userId, slot), {
        deliver: ({ secret }) => void codes.push(grouped(`${slot}${secret}`)),
      });
    }
    return codes;
  }

  /**
   * Checks and consumes one code, spaces and dashes ignored; the verification service's outcome,
   * `invalid` for a malformed code. A code of an earlier build (the slot and ten digits) is checked
   * as one ({@link LEGACY_BACKUP_CODE_POLICY}) until the set is regenerated.
   */
  async redeem(userId: string, typed: string): Promise<VerificationCheck> {
    const code = typed.replace(/[\s-]/g, '');
    const policy =
      code.length === LEGACY_BACKUP_CODE_POLICY.length + 1 ? LEGACY_BACKUP_CODE_POLICY : BACKUP_CODE_POLICY;
    if (!TYPED_CODE.test(code) || code.length !== policy.length + 1) return { ok: false, reason: 'invalid' };
    return this.verifications.redeemCode(policy, this.subject(userId, Number(code[0])), code.slice(1));
  }

  /** Voids every code of the user (second factor disabled, set regenerated); in `manager`'s transaction when given. */
  async revoke(userId: string, manager?: EntityManager): Promise<void> {
    await this.verifications.revoke(BACKUP_CODE_POLICY.type, userId, manager);
  }

  private subject(userId: string, slot: number) {
    return { identifier: `${userId}:${slot}`, budgetScope: twoFactorBudgetScope(userId) };
  }
}

/** `012345678901234567` → `012345-678901-234567`: groups of six, easy to read aloud and copy. */
function grouped(code: string): string {
  const groups: string[] = [];
  for (let i = 0; i < code.length; i += GROUP) groups.push(code.slice(i, i + GROUP));
  return groups.join('-');
}
