/**
 * `@arraf-auth/nestjs`: authentication for NestJS. Everything public is exported here, and only
 * that: each name is a semver promise, so a name is exported when an application needs it (SPEC §2,
 * an extension point, or a type a public signature uses). `api/public-api.md` lists the result.
 */

// The module, its async-options types, and the tokens an application injects or provides (SPEC §2).
export { ArrafAuthModule, type ArrafAuthAsyncOptions, type ArrafAuthOptionsFactory } from './arraf-auth.module.js';
export { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE, SESSION_STORE, SMS_PROVIDER } from './arraf-auth.constants.js';

// Options: what `forRoot` takes, and what `@Inject(ARRAF_AUTH_OPTIONS)` gives (the resolved form, read e.g. for `arrafAuthOpenApi`).
export type {
  ArrafAuthCallbacks,
  ArrafAuthCookieOptions,
  ArrafAuthHooks,
  ArrafAuthOptions,
  ArrafAuthOtpOptions,
  ArrafAuthPasswordOptions,
  ArrafAuthPhoneOptions,
  ArrafAuthRateLimitOptions,
  ArrafAuthSessionOptions,
  ResolvedArrafAuthOptions,
  SignInMethod,
  VerificationDelivery,
} from './options/arraf-auth-options.interface.js';
export { ArrafAuthConfigError } from './options/arraf-auth-options.resolver.js';

// Services an application calls (SPEC §2), with the types of their public methods.
export { AuthService, type CompletedSignIn, type SignInContext, type SignInResult } from './auth/auth.service.js';
export { OtpService, type OtpSendOptions, type OtpSent, type OtpVerifyOptions } from './otp/otp.service.js';
export type { OtpPurpose } from './otp/otp.constants.js';
export {
  PasswordService,
  type MessageLocale,
  type OtpClient,
  type ProvenEmailOutcome,
} from './password/password.service.js';
export type {
  ChangePasswordInput,
  DeliveryMode,
  ForgotPasswordInput,
  ResetPasswordInput,
  SignUpInput,
  VerifyEmailInput,
} from './password/password-input.js';
export type { RemovedSignInMethod } from './accounts/sign-in-methods.service.js';
export {
  SessionService,
  type ActiveSession,
  type CreatedSession,
  type RevokeOptions,
  type SessionContext,
  type SessionSummary,
} from './session/session.service.js';
export type { PublicSession, PublicUser } from './session/session.serializer.js';

// The one-time-secret service, overridable and reusable for an application's own codes.
export { VerificationService } from './verification/verification.service.js';
export type {
  CheckOptions as VerificationCheckOptions,
  IssuedSecret,
  IssueOptions as VerificationIssueOptions,
  VerificationCheck,
  VerificationFailure,
  VerificationMatch,
  VerificationPolicy,
  VerificationSubject,
} from './verification/verification.interfaces.js';
export type { VerificationType } from './verification/verification.constants.js';

// Guards and decorators an application puts on its own routes (HTTP, GraphQL, WebSocket).
export { SessionGuard } from './session/session.guard.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { CurrentSession } from './decorators/current-session.decorator.js';
export { Public } from './decorators/public.decorator.js';
export { RequireFreshSession } from './decorators/require-fresh-session.decorator.js';
export { RateLimit, type RateLimitSpec } from './rate-limit/rate-limit.decorator.js';
export { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
export { DEFAULT_RATE_LIMITS, type RateLimitRule, type RateLimitRuleLimit } from './rate-limit/rate-limit.constants.js';

// The Passport strategies and their guards (SPEC §2); the names let an application register its own subclass.
export { OtpAuthGuard, OtpStrategy, type OtpSignIn } from './otp/otp.strategy.js';
export { OTP_STRATEGY_NAME } from './otp/otp.constants.js';
export { PasswordAuthGuard, PasswordStrategy, PASSWORD_STRATEGY_NAME } from './password/password.strategy.js';
export {
  OAuthAuthGuard,
  OAuthStrategy,
  OAUTH_STRATEGY_NAME,
  type OAuthAuthInfo,
  type OAuthCallbackRequest,
} from './oauth/oauth.strategy.js';
export type { OAuthCallbackQuery } from './oauth/oauth.service.js';

// OAuth providers for the `providers` option (SPEC §2).
export { google, type GoogleProviderOptions } from './oauth/google.provider.js';
export { github, type GitHubProviderOptions } from './oauth/github.provider.js';
export { oidc, type OidcProviderOptions } from './oauth/oidc.provider.js';
export type {
  OAuthProfile,
  OAuthProfileContext,
  OAuthProviderConfig,
  OAuthProviderOptions,
} from './oauth/oauth-provider.interface.js';

// Phone and email helpers, so an application normalises identifiers the way the module stores them.
export { maskPhone, normalizePhone, parsePhone, type ParsedPhone } from './phone/normalize-phone.js';
export { normalizeEmail } from './auth/email.util.js';

// Extension point: the session store (wrap or replace it) and the one owner of the session cookie.
export type { SessionStore, SessionWriteOptions, StoredSession } from './session/session-store.interface.js';
export type { SessionLookupKey } from './session/session-codec.interface.js';
export { TypeOrmSessionStore } from './session/typeorm-session.store.js';
export {
  SessionCookie,
  type CredentialSource,
  type RequestHeaders,
  type SessionCredential,
} from './session/session-cookie.js';

// Extension point: the rate-limit store, with the built-in memory and Redis stores.
export type { RateLimitHit, RateLimitStore } from './rate-limit/rate-limit-store.interface.js';
export { MemoryRateLimitStore } from './rate-limit/memory.rate-limit-store.js';
export {
  RedisRateLimitStore,
  type RedisRateLimitClient,
  type RedisRateLimitStoreOptions,
} from './rate-limit/redis.rate-limit-store.js';

// Extension point: the SMS provider (SPEC §2), with the built-in vendors and the base class of HTTP vendors.
export type { SmsMessage, SmsProvider, SmsSendResult } from './sms/sms-provider.interface.js';
export { ConsoleSmsProvider, type ConsoleSmsProviderOptions } from './sms/console.sms-provider.js';
export {
  UnifonicSmsProvider,
  type UnifonicSmsProviderOptions,
  type UnifonicWhatsAppOptions,
} from './sms/unifonic.sms-provider.js';
export {
  TaqnyatSmsProvider,
  type TaqnyatSmsProviderOptions,
  type TaqnyatWhatsAppOptions,
} from './sms/taqnyat.sms-provider.js';
export { MsegatSmsProvider, type MsegatSmsProviderOptions } from './sms/msegat.sms-provider.js';
export {
  TwilioSmsProvider,
  type TwilioSmsProviderOptions,
  type TwilioWhatsAppOptions,
} from './sms/twilio.sms-provider.js';
export {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  type VendorRequest,
  type VendorVerdict,
} from './sms/http-sms.util.js';

// Errors: the exception an application may throw or catch, its filter, and the codes of the JSON shape.
export { ArrafAuthException } from './errors/arraf-auth.exception.js';
export { ArrafAuthExceptionFilter } from './errors/arraf-auth-exception.filter.js';
export { ARRAF_AUTH_ERRORS, type ArrafAuthErrorBody, type ArrafAuthErrorCode } from './errors/error-codes.js';

// The tables: entities for TypeORM and the migrations an application runs instead of `synchronize` (SPEC §2).
export { Account } from './entities/account.entity.js';
export { Session } from './entities/session.entity.js';
export { User } from './entities/user.entity.js';
export { Verification } from './entities/verification.entity.js';
export { ARRAF_AUTH_ENTITIES, arrafAuthEntities } from './entities/arraf-auth.entities.js';
export { ARRAF_AUTH_MIGRATIONS } from './migrations/arraf-auth.migrations.js';

// The module's routes as OpenAPI, to merge into the application's document.
export { arrafAuthOpenApi, type ArrafAuthOpenApi, type ArrafAuthOpenApiOptions } from './openapi/arraf-auth.openapi.js';
export type { ArrafAuthSessionCacheOptions } from './session/session-cache.options.js';
export { SESSION_CACHE } from './session/session-cache.constants.js';
export type { SessionCache, SessionCacheStats } from './session/session-cache.js';
export {
  TwoFactorService,
  type SecondFactorInput,
  type TwoFactorEnrolment,
  type FactorChangeOptions,
} from './two-factor/two-factor.service.js';
export { TwoFactorGuard } from './two-factor/two-factor.guard.js';
export { RequireTwoFactor, AllowWithoutTwoFactor } from './two-factor/require-two-factor.decorator.js';
export { TwoFactor } from './two-factor/two-factor.entity.js';
export { TwoFactorProof } from './two-factor/two-factor-proof.entity.js';
export { Passkey } from './passkeys/passkey.entity.js';
export type { ArrafAuthTwoFactorOptions } from './two-factor/two-factor.options.js';
export type { TwoFactorMethod } from './two-factor/two-factor.constants.js';
export { PasskeyService, type PasskeySummary } from './passkeys/passkey.service.js';

// Security events: the record of what happened to each account, and the in-process bus (issue 18).
export { SecurityEvent } from './security-events/security-event.entity.js';
export {
  SecurityEventsService,
  type SecurityEventCursor,
  type SecurityEventPage,
} from './security-events/security-events.service.js';
export { SecurityEventBus } from './security-events/security-event-bus.js';
export {
  SECURITY_EVENT_TYPES,
  securityEventName,
  type PublishedSecurityEvent,
  type SecurityEventClient,
  type SecurityEventDetail,
  type SecurityEventInput,
  type SecurityEventListener,
  type SecurityEventMethod,
  type SecurityEventType,
} from './security-events/security-event.types.js';

// Phone-code channels (SMS, WhatsApp), message segments and the delivery options (issue 17).
export { OTP_CHANNELS, providerChannels, type OtpChannel } from './sms/sms-provider.interface.js';
export { smsSegments, type SmsSegments } from './sms/sms-segments.js';
export type { OtpDeliveryOptions, OtpPrefixGuardOptions } from './otp/otp-delivery.options.js';
export type { WhatsAppTemplateLanguages } from './sms/whatsapp-template.util.js';

// Account data: the owner's export, account deletion, and retention of what is no longer needed (issue 18, Saudi PDPL).
export {
  AccountExportService,
  type AccountExport,
  type ExportedAccount,
  type ExportedSecurityEvent,
} from './account-data/account-export.service.js';
export {
  AccountDeletionService,
  type AccountDeletionClient,
  type AccountDeletionProof,
} from './account-data/account-deletion.service.js';
export { ArrafAuthRetention, type RetentionReport } from './account-data/retention.service.js';
export type { ArrafAuthRetentionOptions } from './account-data/retention.options.js';
