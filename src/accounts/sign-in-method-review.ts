import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, Not } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, USER_TABLE } from '../arraf-auth.constants.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { maskPhone } from '../phone/normalize-phone.js';
import { SignInMethodMarks } from './sign-in-method-marks.entity.js';

/** A sign-in method added since the email's owner last proved the address, flagged for review. */
export interface UnrecognisedMethod {
  type: 'phone' | 'oauth' | 'passkey';
  /** The identity's or passkey's id (what the remove routes take); `null` for the phone. */
  id: string | null;
  /** The masked number, the provider id, or the passkey's name. */
  label: string;
  addedAt: Date;
}

/** Which marks to set. */
export type MethodMarks = Partial<Pick<SignInMethodMarks, 'phoneAddedAt' | 'emailProvenAt'>>;

const PASSWORD_PROVIDER_ID = 'credential';

/** Whole seconds: MariaDB/MySQL `datetime` columns keep no fraction. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The bookkeeping behind `unrecognised` (see SECURITY.md): when the phone was attached
 * (`phoneAddedAt`; providers and passkeys have their own `createdAt`) and when the email was last
 * proven (`emailProvenAt`). An email-proven password reset opens a review: the methods added after
 * the previous proof of the email (or ever, when it was never proven) and before the reset are
 * flagged `unrecognised` in its answer and in `GET account/methods`, until they are removed, the
 * owner keeps them ({@link acknowledge}) or the next email-proven reset draws a new window.
 */
@Injectable()
export class SignInMethodReview {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
  ) {}

  /** Sets `marks` on `userId`'s row, creating it when there is none. */
  async mark(userId: string, marks: MethodMarks, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const repository = manager.getRepository(SignInMethodMarks);
    if ((await repository.update({ userId }, marks)).affected) return;
    await repository
      .createQueryBuilder()
      .insert()
      .values({ userId, phoneAddedAt: null, emailProvenAt: null, reviewFrom: null, reviewUntil: null, ...marks })
      .orIgnore()
      .execute();
    await repository.update({ userId }, marks);
  }

  /**
   * Opens the review of an email-proven reset happening `now` (in its transaction) and returns the
   * methods it flags; the email counts as proven from `now` on.
   */
  async open(userId: string, now: Date, manager: EntityManager): Promise<UnrecognisedMethod[]> {
    const previous = await manager.getRepository(SignInMethodMarks).findOneBy({ userId });
    await this.mark(userId, { emailProvenAt: now }, manager);
    await manager
      .getRepository(SignInMethodMarks)
      .update({ userId }, { reviewFrom: previous?.emailProvenAt ?? null, reviewUntil: now });
    return this.unrecognised(userId, manager);
  }

  /** Closes the open review: the owner keeps what it flagged (nothing is flagged until the next one). */
  async acknowledge(userId: string): Promise<void> {
    await this.dataSource.getRepository(SignInMethodMarks).update({ userId }, { reviewFrom: null, reviewUntil: null });
  }

  /** Deletes the user's marks in `manager`'s transaction (account deletion). */
  async forget(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(SignInMethodMarks).delete({ userId });
  }

  /** The methods the open review flags, oldest first; none when no review is open. */
  async unrecognised(userId: string, manager: EntityManager = this.dataSource.manager): Promise<UnrecognisedMethod[]> {
    const marks = await manager.getRepository(SignInMethodMarks).findOneBy({ userId });
    if (!marks?.reviewUntil) return [];
    const from = marks.reviewFrom === null ? Number.NEGATIVE_INFINITY : seconds(marks.reviewFrom);
    const until = seconds(marks.reviewUntil);
    const inWindow = (method: UnrecognisedMethod) => seconds(method.addedAt) > from && seconds(method.addedAt) <= until;
    return (await this.addedMethods(userId, marks, manager))
      .filter(inWindow)
      .sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime());
  }

  /** Every phone, identity and passkey of the account with when it was added. */
  private async addedMethods(
    userId: string,
    marks: SignInMethodMarks,
    manager: EntityManager,
  ): Promise<UnrecognisedMethod[]> {
    const user = await manager.getRepository<User>(USER_TABLE).findOneBy({ id: userId });
    if (!user) return [];
    const methods: UnrecognisedMethod[] = [];
    if (user.phone !== null && user.phoneVerified)
      methods.push({
        type: 'phone',
        id: null,
        label: maskPhone(user.phone),
        addedAt: marks.phoneAddedAt ?? user.createdAt,
      });
    const identities = await manager.getRepository(Account).find({
      select: { id: true, providerId: true, createdAt: true },
      where: { userId, providerId: Not(PASSWORD_PROVIDER_ID) },
    });
    for (const identity of identities)
      methods.push({ type: 'oauth', id: identity.id, label: identity.providerId, addedAt: identity.createdAt });
    if (this.options.twoFactor.passkeyRpId !== undefined) {
      const passkeys = await manager.getRepository(Passkey).find({
        select: { id: true, name: true, createdAt: true },
        where: { userId },
      });
      for (const passkey of passkeys)
        methods.push({ type: 'passkey', id: passkey.id, label: passkey.name, addedAt: passkey.createdAt });
    }
    return methods;
  }
}
