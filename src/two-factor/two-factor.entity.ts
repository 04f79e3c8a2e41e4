import { Column, CreateDateColumn, Entity, type Relation } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { OwnerKey } from '../entities/user-owned-row.js';
import type { User } from '../entities/user.entity.js';
import { TWO_FACTOR_TABLE } from './two-factor.constants.js';

/**
 * A user's TOTP authenticator. The secret is stored encrypted (AES-256-GCM under a key derived
 * from the module secret); `enabled` turns true once the user proved a first code.
 */
@Entity(TWO_FACTOR_TABLE)
export class TwoFactor {
  @OwnerKey(TWO_FACTOR_TABLE, USER_TABLE, 'user')
  userId!: string;

  /** Joined on `userId` by {@link OwnerKey}. */
  user?: Relation<User>;

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url) of the base32 TOTP secret. */
  @Column({ type: 'varchar', length: 255 })
  secret!: string;

  @Column({ type: 'boolean', default: false })
  enabled!: boolean;

  /** The last TOTP time step accepted: a code is accepted once (conditional UPDATE). */
  @Column({ type: 'int', default: 0 })
  lastUsedStep!: number;

  @CreateDateColumn()
  createdAt!: Date;
}
