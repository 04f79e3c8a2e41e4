import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { VerificationCheck } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import { BACKUP_CODE_COUNT, BACKUP_CODE_POLICY, twoFactorBudgetScope } from './two-factor.constants.js';

/** A typed backup code: the slot digit and ten digits, spaces and dashes ignored. */
const TYPED_CODE = /^[0-9]{11}$/;

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
   * Issues ten new codes, returned once (`01234-567890`); each replaces its slot's older code. The
   * caller voids the old set first ({@link revoke}), in the transaction of the change that asks for it.
   */
  async issue(userId: string): Promise<string[]> {
    const codes: string[] = [];
    for (let slot = 0; slot < BACKUP_CODE_COUNT; slot++) {
      await this.verifications.issue(BACKUP_CODE_POLICY, this.subject(userId, slot), {
        deliver: ({ secret }) => {
          const typed = `${slot}${secret}`;
          codes.push(`${typed.slice(0, 5)}-${typed.slice(5)}`);
        },
      });
    }
    return codes;
  }

  /** Checks and consumes one code; the verification service's outcome, `invalid` for a malformed code. */
  async redeem(userId: string, typed: string): Promise<VerificationCheck> {
    const code = typed.replace(/[\s-]/g, '');
    if (!TYPED_CODE.test(code)) return { ok: false, reason: 'invalid' };
    return this.verifications.redeemCode(BACKUP_CODE_POLICY, this.subject(userId, Number(code[0])), code.slice(1));
  }

  /** Voids every code of the user (second factor disabled, set regenerated); in `manager`'s transaction when given. */
  async revoke(userId: string, manager?: EntityManager): Promise<void> {
    await this.verifications.revoke(BACKUP_CODE_POLICY.type, userId, manager);
  }

  private subject(userId: string, slot: number) {
    return { identifier: `${userId}:${slot}`, budgetScope: twoFactorBudgetScope(userId) };
  }
}
