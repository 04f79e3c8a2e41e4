import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { SESSION_TABLE, USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from './user.entity.js';

/**
 * A signed-in device. Only the SHA-256 of the session token is stored; the token itself lives in
 * the cookie (inside a JWT for the `jwt` strategy).
 */
@Entity(SESSION_TABLE)
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  // Targets the user *table* by name so an application's subclass of User is found too.
  @ManyToOne(USER_TABLE, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: Relation<User>;

  /** Hex SHA-256 of the session token. */
  @Column({ type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Index()
  @Column({ type: Date })
  expiresAt!: Date;

  /** Last request seen, written at most once a minute; drives `idleTimeout`. */
  @Column({ type: Date })
  lastActiveAt!: Date;

  @Column({ type: 'varchar', length: 45, nullable: true })
  ipAddress!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  /** When the user signed in; drives `freshAge`. */
  @CreateDateColumn()
  createdAt!: Date;
}
