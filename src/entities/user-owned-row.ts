import { Column, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from './user.entity.js';

/**
 * The owner of a row, held in `column` and removed with the row (`ON DELETE CASCADE`). Targets the
 * owner's *table* by name so an application's subclass of the entity is found too.
 */
export function OwnedBy(table: string, column: string, foreignKeyConstraintName?: string): PropertyDecorator {
  const relation = ManyToOne(table, { onDelete: 'CASCADE' });
  const join = JoinColumn(foreignKeyConstraintName ? { name: column, foreignKeyConstraintName } : { name: column });
  return (target, property) => {
    join(target, property);
    relation(target, property);
  };
}

/**
 * The key of a row that is one-to-one with its owner (a user's second factor, a session's proof):
 * the owner's id, a UUID, and the owner itself as the `relation` property (declared without a
 * decorator), removed with it. The constraints are named after the row's `table`:
 * `PK_<table>` and `FK_<table>_<relation>`.
 */
export function OwnerKey(table: string, ownerTable: string, relation: string): PropertyDecorator {
  const key = PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: `PK_${table}` });
  return (target, property) => {
    key(target, property);
    OwnedBy(ownerTable, String(property), `FK_${table}_${relation}`)(target, relation);
  };
}

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

  @OwnedBy(USER_TABLE, 'userId')
  user?: Relation<User>;
}
