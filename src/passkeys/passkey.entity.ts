import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, type Relation } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import { OwnedBy } from '../entities/user-owned-row.js';

/** Table name of {@link Passkey}. */
export const PASSKEY_TABLE = 'passkeys';

/** Longest credential id accepted, base64url (WebAuthn allows 1023 bytes; authenticators use far fewer). */
export const MAX_CREDENTIAL_ID_LENGTH = 512;

/** The signature counter is an unsigned 32-bit integer: wider than `int`, so `bigint` read back as a number. */
const counterColumn = { to: (value: number) => value, from: (value: string | number) => Number(value) };

/** A WebAuthn credential (passkey) registered by a user. Only the public key is stored. */
@Entity(PASSKEY_TABLE)
export class Passkey {
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_passkeys' })
  id!: string;

  @Index('IDX_passkeys_userId')
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @OwnedBy(USER_TABLE, 'userId', 'FK_passkeys_user')
  user?: Relation<User>;

  /** The credential id, base64url. */
  @Index('UQ_passkeys_credentialId', { unique: true })
  @Column({ type: 'varchar', length: MAX_CREDENTIAL_ID_LENGTH })
  credentialId!: string;

  /** The COSE public key, base64url. */
  @Column({ type: 'text' })
  publicKey!: string;

  /** The last signature counter seen; an assertion must raise it (cloned authenticators). */
  @Column({ type: 'bigint', default: 0, transformer: counterColumn })
  counter!: number;

  /** Comma-separated `AuthenticatorTransport`s reported at registration. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  transports!: string | null;

  /** A name the user chose ("Work laptop"). */
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** `singleDevice` or `multiDevice` (synced). */
  @Column({ type: 'varchar', length: 32 })
  deviceType!: string;

  @Column({ type: 'boolean', default: false })
  backedUp!: boolean;

  @CreateDateColumn()
  createdAt!: Date;

  @Column({ type: Date, nullable: true })
  lastUsedAt!: Date | null;
}
