import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS, SMS_PROVIDER } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import type { ArrafAuthCallbacks } from '../options/hooks-options.interface.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { maskPhone } from '../phone/normalize-phone.js';
import type { SmsProvider } from '../sms/sms-provider.interface.js';
import type { RemovedSignInMethod } from './sign-in-methods.service.js';
import { errorMessage } from '../utils/error-message.js';

const PHONE_NOTICE = {
  ar: '{appName}: تم تغيير رقم الجوال المرتبط بحسابك أو إزالته. إن لم تكن أنت، فأعد تعيين كلمة المرور فورًا.',
  en: '{appName}: the phone number on your account was changed or removed. If this was not you, reset your password now.',
} as const;

/**
 * The notices of account changes, sent after the change is committed; a failure is logged, never
 * fatal. The previous phone number or email address is told that it was replaced or removed (the
 * old one is told, SECURITY-CHECKLIST A1): an SMS through the configured provider,
 * `callbacks.onEmailChanged` for an email; a changed password goes to `callbacks.onPasswordChanged`.
 */
@Injectable()
export class ChangeNotices {
  private readonly logger = new Logger('ArrafAuth:Accounts');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    @Inject(SMS_PROVIDER) private readonly sms: SmsProvider,
  ) {}

  /** Texts `previous` (E.164) that it no longer signs in to the account. */
  async phoneReplaced(previous: string, locale: 'ar' | 'en' = 'ar'): Promise<void> {
    const message = PHONE_NOTICE[locale].replaceAll('{appName}', () => this.options.appName);
    try {
      const result = await this.sms.send({ to: previous, code: '', message, channel: 'sms', locale });
      if (!result?.success) throw new Error(result?.error ?? 'the provider reported a failure');
    } catch (error) {
      this.logger.warn(`The phone change notice to ${maskPhone(previous)} failed: ${errorMessage(error)}`);
    }
  }

  /** Hands the notice for `previousEmail` to `callbacks.onEmailChanged`, when configured. */
  async emailReplaced(user: User, previousEmail: string, newEmail: string): Promise<void> {
    const notify = this.options.callbacks.onEmailChanged;
    if (!notify) {
      this.logger.warn(
        'An email was changed but callbacks.onEmailChanged is not set: the previous address was not told',
      );
      return;
    }
    await this.tell('onEmailChanged', () => notify({ user, previousEmail, newEmail }));
  }

  /** Hands the notice of a changed or reset password to `callbacks.onPasswordChanged`, when configured. */
  async passwordChanged(user: User, reason: 'change' | 'reset', removedMethods: RemovedSignInMethod[]): Promise<void> {
    const notify = this.options.callbacks.onPasswordChanged;
    if (notify) await this.tell('onPasswordChanged', () => notify({ user, reason, removedMethods }));
  }

  /** Runs the application's callback `name`: a notice after the fact, whose failure is logged and the change stands. */
  private async tell(name: keyof ArrafAuthCallbacks, notify: () => unknown): Promise<void> {
    try {
      await notify();
    } catch (error) {
      this.logger.error(`callbacks.${name} failed: ${errorMessage(error)}`);
    }
  }
}
