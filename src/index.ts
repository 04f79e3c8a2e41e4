/** `@arraf-auth/nestjs`: authentication for NestJS. Everything public is exported here. */
export { ArrafAuthModule, type ArrafAuthAsyncOptions, type ArrafAuthOptionsFactory } from './arraf-auth.module.js';
export { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE, SMS_PROVIDER } from './arraf-auth.constants.js';
export { AuthService, type SignInResult } from './auth/auth.service.js';
export { SignInMethodsService, type RemovedSignInMethod } from './accounts/sign-in-methods.service.js';
export { OtpService } from './otp/otp.service.js';
export { OTP_STRATEGY_NAME, REQUEST_OTP_SIGN_IN_KEY, type OtpPurpose } from './otp/otp.constants.js';
export { OtpAuthGuard, OtpStrategy, type OtpSignIn } from './otp/otp.strategy.js';
export {
  PasswordService,
  PASSWORD_HASH_OPTIONS,
  CREDENTIAL_PROVIDER_ID,
  type MessageLocale,
} from './password/password.service.js';
export {
  PasswordStrategy,
  PasswordAuthGuard,
  SignInGuard,
  PASSWORD_STRATEGY_NAME,
} from './password/password.strategy.js';
export type {
  ChangePasswordInput,
  DeliveryMode,
  ForgotPasswordInput,
  ResetPasswordInput,
  SignUpInput,
  VerifyEmailInput,
} from './password/password-input.js';
export { EMAIL_TOKEN_TTL_SECONDS } from './verification/verification.constants.js';
export type { EmailTokenPurpose } from './verification/email-secrets.js';
export { VerificationService } from './verification/verification.service.js';
export type {
  VerificationCheck,
  VerificationPolicy,
  VerificationSubject,
} from './verification/verification.interfaces.js';
export { normalizeEmail } from './auth/email.util.js';
export {
  OAuthStrategy,
  OAuthAuthGuard,
  OAUTH_STRATEGY_NAME,
  type OAuthAuthInfo,
  type OAuthCallbackRequest,
} from './oauth/oauth.strategy.js';
export { OAuthService, type OAuthSignInResult, type OAuthCallbackQuery } from './oauth/oauth.service.js';
export { google, GOOGLE_ISSUER, type GoogleProviderOptions } from './oauth/google.provider.js';
export { github, type GitHubProviderOptions } from './oauth/github.provider.js';
export { oidc, type OidcProviderOptions } from './oauth/oidc.provider.js';
export type {
  OAuthProviderConfig,
  OAuthProviderOptions,
  OAuthProfile,
  OAuthProfileContext,
} from './oauth/oauth-provider.interface.js';
export { normalizePhone, maskPhone, parsePhone, type ParsedPhone } from './phone/normalize-phone.js';
export type { RateLimitHit, RateLimitStore } from './rate-limit/rate-limit-store.interface.js';
export { MemoryRateLimitStore } from './rate-limit/memory.rate-limit-store.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit/redis.rate-limit-store.js';
export { RateLimiter } from './rate-limit/rate-limiter.js';
export {
  DEFAULT_RATE_LIMITS,
  RATE_LIMIT_RULES,
  type RateLimitRule,
  type RateLimitRuleLimit,
} from './rate-limit/rate-limit.constants.js';
export { clientIpBucket } from './rate-limit/client-ip.js';
export type {
  ArrafAuthCallbacks,
  ArrafAuthCookieOptions,
  ArrafAuthHooks,
  ArrafAuthOtpOptions,
  ArrafAuthPasswordOptions,
  ArrafAuthPhoneOptions,
  ArrafAuthRateLimitOptions,
  SignInMethod,
  VerificationDelivery,
  ArrafAuthOptions,
  ArrafAuthSessionOptions,
  ResolvedArrafAuthOptions,
} from './options/arraf-auth-options.interface.js';
export { ArrafAuthConfigError } from './options/arraf-auth-options.resolver.js';

export { Account } from './entities/account.entity.js';
export { Session } from './entities/session.entity.js';
export { User } from './entities/user.entity.js';
export { Verification } from './entities/verification.entity.js';
export { ARRAF_AUTH_ENTITIES, arrafAuthEntities } from './entities/arraf-auth.entities.js';
export { ARRAF_AUTH_MIGRATIONS } from './migrations/arraf-auth.migrations.js';

export {
  SessionService,
  type ActiveSession,
  type CreatedSession,
  type RevokeOptions,
  type SessionContext,
  type SessionSummary,
} from './session/session.service.js';
export { SESSION_STORE } from './arraf-auth.constants.js';
export type { SessionStore, SessionWriteOptions, StoredSession } from './session/session-store.interface.js';
export type { SessionLookupKey } from './session/session-codec.interface.js';
export { TypeOrmSessionStore } from './session/typeorm-session.store.js';
export { SessionGuard } from './session/session.guard.js';
export type { PublicSession, PublicUser } from './session/session.serializer.js';

export { CurrentUser } from './decorators/current-user.decorator.js';
export { CurrentSession } from './decorators/current-session.decorator.js';
export { Public } from './decorators/public.decorator.js';
export { RequireFreshSession } from './decorators/require-fresh-session.decorator.js';

export { ArrafAuthException } from './errors/arraf-auth.exception.js';
export { ArrafAuthExceptionFilter } from './errors/arraf-auth-exception.filter.js';
export { ARRAF_AUTH_ERRORS, type ArrafAuthErrorBody, type ArrafAuthErrorCode } from './errors/error-codes.js';

export type { SmsMessage, SmsProvider, SmsSendResult } from './sms/sms-provider.interface.js';
export { ConsoleSmsProvider, type ConsoleSmsProviderOptions } from './sms/console.sms-provider.js';
export { UnifonicSmsProvider, type UnifonicSmsProviderOptions } from './sms/unifonic.sms-provider.js';
export { TaqnyatSmsProvider, type TaqnyatSmsProviderOptions } from './sms/taqnyat.sms-provider.js';
export { MsegatSmsProvider, type MsegatSmsProviderOptions } from './sms/msegat.sms-provider.js';
export { TwilioSmsProvider, type TwilioSmsProviderOptions } from './sms/twilio.sms-provider.js';
export type { HttpSmsProviderOptions } from './sms/http-sms.util.js';
export { arrafAuthOpenApi, type ArrafAuthOpenApi, type ArrafAuthOpenApiOptions } from './openapi/arraf-auth.openapi.js';
export { OTP_CHANNELS, providerChannels, type OtpChannel } from './sms/sms-provider.interface.js';
export { smsSegments, type SmsSegments } from './sms/sms-segments.js';
export type { OtpDeliveryOptions, OtpPrefixGuardOptions } from './otp/otp-delivery.options.js';
export type { OtpSendOptions, OtpSent, OtpVerifyOptions } from './otp/otp.service.js';
export type { UnifonicWhatsAppOptions } from './sms/unifonic.sms-provider.js';
export type { TaqnyatWhatsAppOptions } from './sms/taqnyat.sms-provider.js';
export type { TwilioWhatsAppOptions } from './sms/twilio.sms-provider.js';
export type { WhatsAppTemplateLanguages } from './sms/http-sms.util.js';
