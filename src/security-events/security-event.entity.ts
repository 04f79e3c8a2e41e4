import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { ClientIpColumn, UserAgentColumn } from '../entities/client-columns.js';
import { SECURITY_EVENT_TABLE } from './security-event.types.js';

/**
 * Something that happened to an account: a sign-in, a sign-out, a changed password or second
 * factor. No foreign key to `users`: a deleted account's last event stays, pseudonymous. `detail`
 * is JSON text and never holds a secret; a failed sign-in for an unknown account stores no
 * identifier at all.
 */
@Entity(SECURITY_EVENT_TABLE)
@Index('IDX_security_events_userId_createdAt', ['userId', 'createdAt'])
export class SecurityEvent {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_security_events' })
  id!: string;

  @Column({ type: 'varchar', length: 36, nullable: true })
  userId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  method!: string | null;

  @ClientIpColumn()
  ip!: string | null;

  @UserAgentColumn()
  userAgent!: string | null;

  /** JSON of a {@link SecurityEventDetail}. */
  @Column({ type: 'text', nullable: true })
  detail!: string | null;

  @CreateDateColumn()
  createdAt!: Date;
}
