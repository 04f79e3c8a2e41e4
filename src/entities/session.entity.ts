import { Column, CreateDateColumn, Entity, Index } from 'typeorm';
import { SESSION_TABLE } from '../arraf-auth.constants.js';
import { ClientIpColumn, UserAgentColumn } from './client-columns.js';
import { UserOwnedRow } from './user-owned-row.js';

/**
 * A signed-in device. Only the SHA-256 of the session token is stored; the token itself lives in
 * the cookie (inside a JWT for the `jwt` strategy).
 */
@Entity(SESSION_TABLE)
export class Session extends UserOwnedRow {
  /** Hex SHA-256 of the session token. */
  @Column({ type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Index()
  @Column({ type: Date })
  expiresAt!: Date;

  /** Last request seen, written at most once a minute; drives `idleTimeout`. */
  @Column({ type: Date })
  lastActiveAt!: Date;

  @ClientIpColumn()
  ipAddress!: string | null;

  @UserAgentColumn()
  userAgent!: string | null;

  /** When the user signed in; drives `freshAge`. */
  @CreateDateColumn()
  createdAt!: Date;
}
