import { Column, CreateDateColumn, Entity, Unique, UpdateDateColumn } from 'typeorm';
import { ACCOUNT_TABLE } from '../arraf-auth.constants.js';
import { UserOwnedRow } from './user-owned-row.js';

/**
 * A way a user signs in: an OAuth identity keyed by (providerId, accountId), never by email, or
 * the `credential` account that holds the argon2id password hash.
 */
@Entity(ACCOUNT_TABLE)
@Unique('UQ_accounts_provider_account', ['providerId', 'accountId'])
export class Account extends UserOwnedRow {
  /** `credential`, `google`, `github`, `oidc`, ... */
  @Column({ type: 'varchar', length: 64 })
  providerId!: string;

  /** The provider's subject (`sub`), or the user id for `credential`. */
  @Column({ type: 'varchar', length: 255 })
  accountId!: string;

  /** argon2id PHC string, for `credential` accounts only. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  password!: string | null;

  @Column({ type: 'text', nullable: true })
  accessToken!: string | null;

  @Column({ type: 'text', nullable: true })
  refreshToken!: string | null;

  @Column({ type: 'text', nullable: true })
  idToken!: string | null;

  @Column({ type: Date, nullable: true })
  accessTokenExpiresAt!: Date | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  scope!: string | null;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
