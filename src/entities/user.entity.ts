import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';

/**
 * A person who can sign in. Extend it to add columns: declare `@Entity('users') class AppUser
 * extends User { ... }` and list `arrafAuthEntities({ user: AppUser })` in TypeORM's `entities`.
 */
@Entity(USER_TABLE)
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Lower-cased, NFKC-normalised email address, unique when present. */
  @Column({ type: 'varchar', length: 254, nullable: true, unique: true })
  email!: string | null;

  @Column({ type: 'boolean', default: false })
  emailVerified!: boolean;

  /** E.164 phone number, unique when present. */
  @Column({ type: 'varchar', length: 20, nullable: true, unique: true })
  phone!: string | null;

  @Column({ type: 'boolean', default: false })
  phoneVerified!: boolean;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  image!: string | null;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
