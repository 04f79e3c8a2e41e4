import { Column, Entity, type Relation } from 'typeorm';
import { SESSION_TABLE } from '../arraf-auth.constants.js';
import type { Session } from '../entities/session.entity.js';
import { OwnerKey } from '../entities/user-owned-row.js';
import { TWO_FACTOR_PROOF_TABLE } from './two-factor.constants.js';

/**
 * When a session last passed a second factor (sign-in through `two-factor/verify`, a passkey, a
 * confirmed enrolment or a step-up). `@RequireTwoFactor()` reads it; it dies with its session.
 */
@Entity(TWO_FACTOR_PROOF_TABLE)
export class TwoFactorProof {
  @OwnerKey(TWO_FACTOR_PROOF_TABLE, SESSION_TABLE, 'session')
  sessionId!: string;

  /** Joined on `sessionId` by {@link OwnerKey}. */
  session?: Relation<Session>;

  @Column({ type: Date })
  verifiedAt!: Date;
}
