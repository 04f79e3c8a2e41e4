import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule, type Type } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE, SESSION_STORE, SMS_PROVIDER } from './arraf-auth.constants.js';
import { SignInMethodsService } from './accounts/sign-in-methods.service.js';
import { AccountMethodsController } from './accounts/account-methods.controller.js';
import { ACCOUNT_METHOD_PROVIDERS } from './accounts/account-methods.providers.js';
import { AuthService } from './auth/auth.service.js';
import {
  ARRAF_AUTH_ASYNC_OPTIONS_TYPE,
  ARRAF_AUTH_MODULE_OPTIONS,
  ARRAF_AUTH_OPTIONS_TYPE,
  ArrafAuthConfigurableModule,
} from './arraf-auth.module-definition.js';
import { AuthController } from './controllers/auth.controller.js';
import { mountController } from './controllers/mount-controller.js';
import { OriginGuard } from './controllers/origin.guard.js';
import { SignInInterceptor } from './controllers/sign-in.interceptor.js';
import { ARRAF_AUTH_ENTITIES } from './entities/arraf-auth.entities.js';
import { ArrafAuthExceptionFilter } from './errors/arraf-auth-exception.filter.js';
import { ArrafAuthRouteErrors } from './errors/arraf-auth-route-errors.js';
import { WsHandshakeRegistry } from './context/ws-handshake.registry.js';
import { OAuthController } from './oauth/oauth.controller.js';
import { OAuthService } from './oauth/oauth.service.js';
import { OAuthStateStore } from './oauth/oauth-state.store.js';
import { OAuthLinkController } from './oauth/oauth-link.controller.js';
import { OAUTH_PROVIDERS } from './oauth/oauth.providers.js';
import { OAuthAuthGuard, OAuthStrategy } from './oauth/oauth.strategy.js';
import { OtpController } from './otp/otp.controller.js';
import { OtpReceiptController } from './otp/otp-receipt.controller.js';
import { OTP_PROVIDERS } from './otp/otp.providers.js';
import { OtpService } from './otp/otp.service.js';
import { OtpAuthGuard, OtpStrategy } from './otp/otp.strategy.js';
import { PasswordController } from './password/password.controller.js';
import { PASSWORD_PROVIDERS } from './password/password.providers.js';
import { PasswordService } from './password/password.service.js';
import { PasswordAuthGuard, PasswordStrategy } from './password/password.strategy.js';
import { MemoryRateLimitStore } from './rate-limit/memory.rate-limit-store.js';
import { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import type { RateLimitStore } from './rate-limit/rate-limit-store.interface.js';
import { RedisRateLimitStore } from './rate-limit/redis.rate-limit-store.js';
import { ConsoleSmsProvider } from './sms/console.sms-provider.js';
import type { ArrafAuthOptions, ResolvedArrafAuthOptions } from './options/arraf-auth-options.interface.js';
import {
  ArrafAuthConfigError,
  refuseConsoleSmsInProduction,
  resolveArrafAuthOptions,
  resolveRoutes,
} from './options/arraf-auth-options.resolver.js';
import { BodyGuard, BodyReader } from './schemas/body.guard.js';
import { SessionCookie } from './session/session-cookie.js';
import { SessionGuard } from './session/session.guard.js';
import { SESSION_LAYER_PROVIDERS } from './session/session.providers.js';
import { SessionService } from './session/session.service.js';
import { TypeOrmSessionStore } from './session/typeorm-session.store.js';
import { VerificationService } from './verification/verification.service.js';
import { BackupCodesService } from './two-factor/backup-codes.service.js';
import { TotpSecretCipher } from './two-factor/totp-secret.cipher.js';
import { TwoFactorEnrolmentCheck } from './two-factor/two-factor-enrolment.check.js';
import { TwoFactorGuard } from './two-factor/two-factor.guard.js';
import { TwoFactorPendingCookie } from './two-factor/two-factor-pending-cookie.js';
import { TwoFactorPendingService } from './two-factor/two-factor-pending.service.js';
import { TwoFactorSignIn } from './two-factor/two-factor-sign-in.js';
import { TwoFactorController } from './two-factor/two-factor.controller.js';
import { TwoFactorService } from './two-factor/two-factor.service.js';
import { PasskeyController } from './passkeys/passkey.controller.js';
import { PasskeyService } from './passkeys/passkey.service.js';
import { AccountDataController } from './account-data/account-data.controller.js';
import { AccountDeletionService } from './account-data/account-deletion.service.js';
import { AccountExportService } from './account-data/account-export.service.js';
import { ArrafAuthRetention } from './account-data/retention.service.js';
import { Transactions } from './database/transactions.js';
import { SecurityEventBus } from './security-events/security-event-bus.js';
import { SecurityEventsService } from './security-events/security-events.service.js';
import { SecurityEventsController } from './security-events/security-events.controller.js';

/** Implement it on a class passed to `forRootAsync({ useClass })` or `useExisting`. */
export interface ArrafAuthOptionsFactory {
  createArrafAuthOptions(): ArrafAuthOptions | Promise<ArrafAuthOptions>;
}

/** `forRootAsync` options; `routes` sits beside the factory because controllers are registered first. */
export type ArrafAuthAsyncOptions = typeof ARRAF_AUTH_ASYNC_OPTIONS_TYPE & { routes?: ArrafAuthOptions['routes'] };

/**
 * Authentication for the application: import once with `forRoot` or `forRootAsync` (global).
 * The application owns the TypeORM connection and lists `ARRAF_AUTH_ENTITIES` (or uses
 * `autoLoadEntities`).
 *
 * @example ArrafAuthModule.forRoot({ secret: process.env.AUTH_SECRET! })
 */
/** The services, strategies and guards applications may inject or override. */
const PUBLIC_PROVIDERS = [
  SessionService,
  SessionCookie,
  SessionGuard,
  AuthService,
  OtpService,
  OtpStrategy,
  OtpAuthGuard,
  PasswordService,
  PasswordStrategy,
  PasswordAuthGuard,
  OAuthService,
  OAuthStrategy,
  OAuthAuthGuard,
  SignInMethodsService,
  VerificationService,
  TwoFactorService,
  TwoFactorGuard,
  TwoFactorEnrolmentCheck,
  TwoFactorPendingService,
  TwoFactorPendingCookie,
  BackupCodesService,
  TotpSecretCipher,
  PasskeyService,
  AccountExportService,
  AccountDeletionService,
  ArrafAuthRetention,
  SecurityEventsService,
  SecurityEventBus,
];

@Module({
  imports: [TypeOrmModule.forFeature(ARRAF_AUTH_ENTITIES), JwtModule.register({})],
  providers: [
    ...PUBLIC_PROVIDERS,
    ...OTP_PROVIDERS,
    ArrafAuthExceptionFilter,
    ...SESSION_LAYER_PROVIDERS,
    ArrafAuthRouteErrors,
    WsHandshakeRegistry,
    // The edge rules of the built-in routes (origin, body schema, rate limits, sign-in answer).
    OriginGuard,
    BodyReader,
    BodyGuard,
    RateLimitGuard,
    SignInInterceptor,
    TwoFactorSignIn,
    ...PASSWORD_PROVIDERS,
    ...ACCOUNT_METHOD_PROVIDERS,
    OAuthStateStore,
    ...OAUTH_PROVIDERS,
    Transactions,
    {
      // Closed on shutdown by its own lifecycle hooks (the Redis client quits, the memory sweeper stops).
      provide: RATE_LIMIT_STORE,
      inject: [ARRAF_AUTH_OPTIONS],
      useFactory: async (options: ResolvedArrafAuthOptions): Promise<RateLimitStore> => {
        const { storage } = options.rateLimit;
        return storage.type === 'redis'
          ? RedisRateLimitStore.connect({ url: storage.url, commandTimeout: storage.commandTimeout })
          : new MemoryRateLimitStore();
      },
    },
    RateLimiter,
    {
      provide: SMS_PROVIDER,
      inject: [ARRAF_AUTH_OPTIONS],
      useFactory: (options: ResolvedArrafAuthOptions) => {
        refuseConsoleSmsInProduction(options.sms);
        return options.sms ?? new ConsoleSmsProvider();
      },
    },
  ],
  exports: [
    ARRAF_AUTH_OPTIONS,
    SMS_PROVIDER,
    RATE_LIMIT_STORE,
    SESSION_STORE,
    TypeOrmSessionStore,
    RateLimiter,
    ...PUBLIC_PROVIDERS,
  ],
})
export class ArrafAuthModule extends ArrafAuthConfigurableModule implements NestModule {
  constructor(private readonly routeErrors: ArrafAuthRouteErrors) {
    super();
  }

  /** Runs before Nest registers routes: where a Fastify `onRoute` hook must be added. */
  configure(_consumer: MiddlewareConsumer): void {
    this.routeErrors.beforeRoutes();
  }

  static forRoot(options: typeof ARRAF_AUTH_OPTIONS_TYPE): DynamicModule {
    return withRoutes(super.forRoot(options), options.routes);
  }

  static forRootAsync(options: ArrafAuthAsyncOptions): DynamicModule {
    const { routes, ...asyncOptions } = options;
    return withRoutes(super.forRootAsync(asyncOptions), routes);
  }
}

/** Adds the validated options provider and, unless disabled, the controllers under the route prefix. */
function withRoutes(definition: DynamicModule, routesOption: ArrafAuthOptions['routes']): DynamicModule {
  const routes = resolveRoutes(routesOption);
  return {
    ...definition,
    controllers: routes.enabled
      ? [
          AuthController,
          OtpController,
          OtpReceiptController,
          PasswordController,
          OAuthController,
          AccountDataController,
          OAuthLinkController,
          AccountMethodsController,
          SecurityEventsController,
          TwoFactorController,
          PasskeyController,
        ].map((controller: Type<unknown>) => mountController(routes.path, controller))
      : [],
    providers: [
      ...(definition.providers ?? []),
      {
        provide: ARRAF_AUTH_OPTIONS,
        inject: [ARRAF_AUTH_MODULE_OPTIONS],
        useFactory: (raw: ArrafAuthOptions) => {
          const resolved = resolveArrafAuthOptions(raw);
          if (raw.routes !== undefined && JSON.stringify(resolved.routes) !== JSON.stringify(routes)) {
            throw new ArrafAuthConfigError(
              'routes',
              'with forRootAsync, pass `routes` next to useFactory, not from it',
            );
          }
          return { ...resolved, routes };
        },
      },
    ],
  };
}
