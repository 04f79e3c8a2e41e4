import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { VERIFICATION_TABLE } from '../arraf-auth.constants.js';

/**
 * A one-time secret bound to an identifier (E.164 phone or email) and a purpose (`type`):
 * OTP codes, email verification and password reset tokens. Only an HMAC/hash is stored.
 */
@Entity(VERIFICATION_TABLE)
@Index('IDX_verifications_identifier_type', ['identifier', 'type'])
// Link tokens are looked up by hash (and purpose); OAuth state rows are swept by purpose and expiry.
@Index('IDX_verifications_valueHash_type', ['valueHash', 'type'])
@Index('IDX_verifications_type_expiresAt', ['type', 'expiresAt'])
export class Verification {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  identifier!: string;

  /** The purpose the secret is bound to, e.g. `sign-in`, `reset-password`, `verify-email`. */
  @Column({ type: 'varchar', length: 64 })
  type!: string;

  /** Hex HMAC-SHA-256 (codes) or SHA-256 (random tokens) of the secret. */
  @Column({ type: 'varchar', length: 64 })
  valueHash!: string;

  @Index()
  @Column({ type: Date })
  expiresAt!: Date;

  /** Wrong guesses so far, incremented atomically before each comparison. */
  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @CreateDateColumn()
  createdAt!: Date;
}
