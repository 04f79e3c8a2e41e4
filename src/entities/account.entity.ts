import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { ACCOUNT_TABLE, USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from './user.entity.js';

/**
 * A way a user signs in: an OAuth identity keyed by (providerId, accountId), never by email, or
 * the `credential` account that holds the argon2id password hash.
 */
@Entity(ACCOUNT_TABLE)
@Unique('UQ_accounts_provider_account', ['providerId', 'accountId'])
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @ManyToOne(USER_TABLE, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: Relation<User>;

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
