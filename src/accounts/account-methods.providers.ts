import type { Provider } from '@nestjs/common';
import { AccountMethodsService } from './account-methods.service.js';
import { ChangeNotices } from './change-notices.js';
import { EmailChange } from './email-change.js';
import { MethodEventLog } from './method-event-log.js';
import { PhoneChange } from './phone-change.js';
import { SignInMethodReview } from './sign-in-method-review.js';

/** What the sign-in method routes are built from (`SignInMethodsService` is public); internal. */
export const ACCOUNT_METHOD_PROVIDERS: Provider[] = [
  AccountMethodsService,
  ChangeNotices,
  EmailChange,
  MethodEventLog,
  PhoneChange,
  SignInMethodReview,
];
