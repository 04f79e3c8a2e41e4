/**
 * Every error the library answers with: HTTP status and the English and Arabic texts, keyed by
 * a stable upper-snake code. Applications match on `code`; texts may be shown to people.
 */
export const ARRAF_AUTH_ERRORS = {
  INVALID_INPUT: { status: 400, en: 'The request is invalid.', ar: 'الطلب غير صالح.' },
  INVALID_CREDENTIALS: {
    status: 401,
    en: 'Invalid credentials.',
    ar: 'بيانات الدخول غير صحيحة.',
  },
  UNAUTHENTICATED: {
    status: 401,
    en: 'You need to sign in.',
    ar: 'يجب عليك تسجيل الدخول.',
  },
  SESSION_NOT_FRESH: {
    status: 403,
    en: 'Please sign in again to continue.',
    ar: 'يرجى تسجيل الدخول مرة أخرى للمتابعة.',
  },
  INVALID_ORIGIN: {
    status: 403,
    en: 'This request came from an untrusted origin.',
    ar: 'صدر هذا الطلب من مصدر غير موثوق.',
  },
  FORBIDDEN: {
    status: 403,
    en: 'You are not allowed to do this.',
    ar: 'لا يُسمح لك بتنفيذ هذا الإجراء.',
  },
  NOT_FOUND: {
    status: 404,
    en: 'Not found.',
    ar: 'غير موجود.',
  },
  SESSION_NOT_FOUND: {
    status: 404,
    en: 'Session not found.',
    ar: 'الجلسة غير موجودة.',
  },
  INVALID_PHONE: {
    status: 400,
    en: 'The phone number is not valid.',
    ar: 'رقم الجوال غير صالح.',
  },
  PHONE_NOT_ALLOWED: {
    status: 400,
    en: 'Phone numbers from this country are not supported.',
    ar: 'أرقام الجوال من هذه الدولة غير مدعومة.',
  },
  PHONE_NOT_MOBILE: {
    status: 400,
    en: 'Codes can only be sent to mobile numbers. Enter a mobile number.',
    ar: 'لا يمكن إرسال الرمز إلا إلى رقم جوال. أدخل رقم جوال.',
  },
  OTP_PREFIX_PAUSED: {
    status: 429,
    en: 'We cannot send codes to numbers like this one right now. Try again later.',
    ar: 'لا يمكننا إرسال رموز إلى أرقام مثل هذا الرقم حاليًا. حاول مرة أخرى لاحقًا.',
  },
  OTP_BUDGET_EXHAUSTED: {
    status: 503,
    en: 'Sign-in codes cannot be sent right now. Try again later.',
    ar: 'لا يمكن إرسال رموز الدخول حاليًا. حاول مرة أخرى لاحقًا.',
  },
  INVALID_EMAIL: {
    status: 400,
    en: 'The email address is not valid.',
    ar: 'البريد الإلكتروني غير صالح.',
  },
  PASSWORD_TOO_SHORT: {
    status: 400,
    en: 'The password is too short.',
    ar: 'كلمة المرور قصيرة جدًا.',
  },
  PASSWORD_TOO_LONG: {
    status: 400,
    en: 'The password is too long.',
    ar: 'كلمة المرور طويلة جدًا.',
  },
  PASSWORD_TOO_COMMON: {
    status: 400,
    en: 'This password is too common. Choose one that is harder to guess.',
    ar: 'كلمة المرور هذه شائعة جدًا. اختر كلمة مرور يصعب تخمينها.',
  },
  PASSWORD_TOO_PREDICTABLE: {
    status: 400,
    en: 'This password is easy to guess: it repeats characters, follows a sequence, or is built on your email address, your name or the app name. Choose another.',
    ar: 'كلمة المرور هذه سهلة التخمين: فيها تكرار أو تسلسل، أو مبنية على بريدك الإلكتروني أو اسمك أو اسم التطبيق. اختر كلمة مرور أخرى.',
  },
  USER_ALREADY_EXISTS: {
    status: 409,
    en: 'An account with these details already exists. Sign in instead.',
    ar: 'يوجد حساب بهذه البيانات. سجّل الدخول بدلًا من ذلك.',
  },
  INVALID_TOKEN: {
    status: 400,
    en: 'The link or code is invalid or has expired.',
    ar: 'الرابط أو الرمز غير صالح أو منتهي الصلاحية.',
  },
  EMAIL_REQUIRED: {
    status: 400,
    en: 'Add an email address to your account first.',
    ar: 'أضف بريدًا إلكترونيًا إلى حسابك أولًا.',
  },
  HOOK_REJECTED: {
    status: 403,
    en: 'This sign-in was not allowed.',
    ar: 'لم يُسمح بتسجيل الدخول هذا.',
  },
  DELIVERY_FAILED: {
    status: 502,
    en: 'We could not send the message. Try again.',
    ar: 'تعذر إرسال الرسالة. حاول مرة أخرى.',
  },
  OTP_INVALID: { status: 400, en: 'The code is incorrect.', ar: 'الرمز غير صحيح.' },
  OTP_EXPIRED: {
    status: 400,
    en: 'The code has expired. Request a new one.',
    ar: 'انتهت صلاحية الرمز. اطلب رمزًا جديدًا.',
  },
  OTP_TOO_MANY_ATTEMPTS: {
    status: 429,
    en: 'Too many incorrect attempts. Request a new code later.',
    ar: 'محاولات خاطئة كثيرة. اطلب رمزًا جديدًا لاحقًا.',
  },
  RATE_LIMITED: {
    status: 429,
    en: 'Too many requests. Try again later.',
    ar: 'طلبات كثيرة. حاول مرة أخرى لاحقًا.',
  },
  SMS_FAILED: {
    status: 502,
    en: 'We could not send the SMS. Try again.',
    ar: 'تعذر إرسال الرسالة النصية. حاول مرة أخرى.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    en: 'The service is temporarily unavailable. Try again shortly.',
    ar: 'الخدمة غير متاحة مؤقتًا. حاول مرة أخرى بعد قليل.',
  },
  INTERNAL_ERROR: {
    status: 500,
    en: 'Something went wrong.',
    ar: 'حدث خطأ ما.',
  },
  UNKNOWN_PROVIDER: {
    status: 404,
    en: 'This sign-in provider is not available.',
    ar: 'مزوّد تسجيل الدخول هذا غير متاح.',
  },
  OAUTH_STATE_MISMATCH: {
    status: 400,
    en: 'This sign-in attempt is invalid or has expired. Start again.',
    ar: 'محاولة تسجيل الدخول هذه غير صالحة أو منتهية الصلاحية. ابدأ من جديد.',
  },
  OAUTH_PROVIDER_ERROR: {
    status: 400,
    en: 'The sign-in provider did not complete the sign-in. Try again.',
    ar: 'لم يُكمل مزوّد تسجيل الدخول العملية. حاول مرة أخرى.',
  },
  OAUTH_PROVIDER_UNAVAILABLE: {
    status: 502,
    en: 'The sign-in provider could not be reached. Try again shortly.',
    ar: 'تعذّر الوصول إلى مزوّد تسجيل الدخول. حاول مرة أخرى بعد قليل.',
  },
  OAUTH_ACCOUNT_NOT_LINKED: {
    status: 409,
    en: 'An account with this email already exists. Sign in with the method you used before.',
    ar: 'يوجد حساب بهذا البريد الإلكتروني. سجّل الدخول بالطريقة التي استخدمتها من قبل.',
  },
  TWO_FACTOR_REQUIRED: {
    status: 403,
    en: 'Confirm with your second factor to continue.',
    ar: 'أكّد هويتك بالعامل الثاني للمتابعة.',
  },
  TWO_FACTOR_ENROLMENT_REQUIRED: {
    status: 403,
    en: 'Set up two-factor authentication to continue.',
    ar: 'فعّل التحقق بخطوتين للمتابعة.',
  },
  TWO_FACTOR_INVALID: {
    status: 400,
    en: 'The authentication code is incorrect.',
    ar: 'رمز التحقق غير صحيح.',
  },
  TWO_FACTOR_NOT_ENABLED: {
    status: 400,
    en: 'Two-factor authentication is not enabled for this account.',
    ar: 'التحقق بخطوتين غير مفعّل لهذا الحساب.',
  },
  TWO_FACTOR_ALREADY_ENABLED: {
    status: 409,
    en: 'Two-factor authentication is already enabled.',
    ar: 'التحقق بخطوتين مفعّل مسبقًا.',
  },
  TWO_FACTOR_PENDING_EXPIRED: {
    status: 401,
    en: 'This sign-in has expired. Sign in again.',
    ar: 'انتهت صلاحية محاولة تسجيل الدخول هذه. سجّل الدخول مرة أخرى.',
  },
  TWO_FACTOR_TOO_MANY_ATTEMPTS: {
    status: 429,
    en: 'Too many incorrect codes. Sign in again later.',
    ar: 'رموز خاطئة كثيرة. سجّل الدخول مرة أخرى لاحقًا.',
  },
  PASSKEY_INVALID: {
    status: 400,
    en: 'The passkey could not be verified.',
    ar: 'تعذّر التحقق من مفتاح المرور.',
  },
  PASSKEY_NOT_FOUND: {
    status: 404,
    en: 'Passkey not found.',
    ar: 'مفتاح المرور غير موجود.',
  },
  PHONE_NOT_VERIFIED: {
    status: 400,
    en: 'This account has no verified mobile number. Confirm with your password instead.',
    ar: 'لا يوجد رقم جوال موثّق في هذا الحساب. أكّد بكلمة المرور بدلًا من ذلك.',
  },
  LAST_SIGN_IN_METHOD: {
    status: 409,
    en: 'This is the last way you can sign in to your account. Add another one before removing it.',
    ar: 'هذه آخر طريقة يمكنك تسجيل الدخول بها إلى حسابك. أضف طريقة أخرى قبل إزالتها.',
  },
  OAUTH_ACCOUNT_IN_USE: {
    status: 409,
    en: 'This account at the provider is already linked to another user. Sign in with it and unlink it there first.',
    ar: 'هذا الحساب لدى المزوّد مرتبط بمستخدم آخر. سجّل الدخول به وألغِ ربطه هناك أولًا.',
  },
  PASSWORD_ALREADY_SET: {
    status: 409,
    en: 'Your account already has a password. Change it instead.',
    ar: 'لحسابك كلمة مرور بالفعل. غيّرها بدلًا من ذلك.',
  },
  SIGN_IN_METHOD_NOT_FOUND: {
    status: 404,
    en: 'This sign-in method was not found on your account.',
    ar: 'طريقة تسجيل الدخول هذه غير موجودة في حسابك.',
  },
} as const satisfies Record<string, { status: number; en: string; ar: string }>;

export type ArrafAuthErrorCode = keyof typeof ARRAF_AUTH_ERRORS;

/** The JSON body of every error: `{ error: { code, en, ar } }`. */
export interface ArrafAuthErrorBody {
  /** `field`: the request field at fault, when one is (`INVALID_INPUT`). */
  error: { code: string; en: string; ar: string; field?: string };
}
