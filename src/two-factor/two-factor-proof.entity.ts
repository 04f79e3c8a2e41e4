import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { SESSION_TABLE } from '../arraf-auth.constants.js';
import type { Session } from '../entities/session.entity.js';
import { TWO_FACTOR_PROOF_TABLE } from './two-factor.constants.js';

/**
 * When a session last passed a second factor (sign-in through `two-factor/verify`, a passkey, a
 * confirmed enrolment or a step-up). `@RequireTwoFactor()` reads it; it dies with its session.
 */
@Entity(TWO_FACTOR_PROOF_TABLE)
export class TwoFactorProof {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_two_factor_proofs' })
  sessionId!: string;

  @ManyToOne(SESSION_TABLE, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'sessionId', foreignKeyConstraintName: 'FK_two_factor_proofs_session' })
  session?: Relation<Session>;

  @Column({ type: Date })
  verifiedAt!: Date;
}
