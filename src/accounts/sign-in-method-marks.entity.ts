import { Column, Entity, type Relation } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import { OwnerKey } from '../entities/user-owned-row.js';

/** Table of {@link SignInMethodMarks}. */
export const SIGN_IN_METHOD_MARKS_TABLE = 'sign_in_method_marks';

/**
 * When a user's sign-in methods changed, for flagging the ones the email's owner may not recognise
 * after an email-proven password reset. One row per user, written only by `SignInMethodsService`;
 * a missing row means "never": the phone then counts as added with the account. Linked providers
 * and passkeys carry their own `createdAt`.
 */
@Entity(SIGN_IN_METHOD_MARKS_TABLE)
export class SignInMethodMarks {
  @OwnerKey(SIGN_IN_METHOD_MARKS_TABLE, USER_TABLE, 'user')
  userId!: string;

  /** Joined on `userId` by {@link OwnerKey}. */
  user?: Relation<User>;

  /** When the current phone number was proven and attached (`null`: with the account). */
  @Column({ type: Date, nullable: true })
  phoneAddedAt!: Date | null;

  /**
   * The last time someone proved the account's email address by a code or link (verification,
   * reset, change) or signed in with the email and password while it was verified.
   */
  @Column({ type: Date, nullable: true })
  emailProvenAt!: Date | null;

  /** Methods added after this (`null`: ever) and up to {@link reviewUntil} are flagged `unrecognised`. */
  @Column({ type: Date, nullable: true })
  reviewFrom!: Date | null;

  /** The email-proven reset that opened the review; `null`: nothing to review. */
  @Column({ type: Date, nullable: true })
  reviewUntil!: Date | null;
}
