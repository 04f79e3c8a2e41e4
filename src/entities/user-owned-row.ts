import { Column, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from './user.entity.js';

/**
 * The columns every row that belongs to a user shares (sessions, accounts): a UUID key and the
 * owning user, removed with it. Not an entity itself; TypeORM copies these columns into each table.
 */
export abstract class UserOwnedRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  // Targets the user *table* by name so an application's subclass of User is found too.
  @ManyToOne(USER_TABLE, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: Relation<User>;
}
