import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ArrafAuthModule, ConsoleSmsProvider } from '@arraf-auth/nestjs';
import { AppController } from './app.controller.js';
import { dataSourceOptions } from './database.js';
import { MailOutbox, MailOutboxController, MailOutboxModule } from './mail-outbox.js';
import { ProfileController } from './profile.controller.js';
import { RetentionJob } from './retention.job.js';
import { cookieSecure, type SampleEnv, sampleOAuthProviders, validateSampleEnv } from './sample-env.js';

type Config = ConfigService<SampleEnv, true>;

/** Every variable the sample reads, as validated by {@link validateSampleEnv}. */
function sampleEnv(config: Config): SampleEnv {
  const names: (keyof SampleEnv)[] = [
    'NODE_ENV',
    'PORT',
    'DATABASE_URL',
    'AUTH_SECRET',
    'APP_URL',
    'OIDC_ISSUER',
    'OIDC_CLIENT_ID',
    'OIDC_CLIENT_SECRET',
    'GOOGLE_CLIENT_ID',
    'GOOGLE_CLIENT_SECRET',
    'GITHUB_CLIENT_ID',
    'GITHUB_CLIENT_SECRET',
    'ALLOW_CONSOLE_DELIVERY',
  ];
  return Object.fromEntries(names.map((name) => [name, config.get(name, { infer: true })])) as SampleEnv;
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateSampleEnv }),
    // Runs RetentionJob's daily @Cron (ArrafAuthRetention.apply()).
    ScheduleModule.forRoot(),
    // The application owns the connection: the module's entities, and its migrations applied at start.
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: Config) => ({
        ...dataSourceOptions(config.get('DATABASE_URL', { infer: true })),
        migrationsRun: true,
        // Fail fast with the driver's message when the database is unreachable.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
    MailOutboxModule,
    ArrafAuthModule.forRootAsync({
      imports: [MailOutboxModule],
      inject: [ConfigService, MailOutbox],
      useFactory: (config: Config, outbox: MailOutbox) => {
        const env = sampleEnv(config);
        return {
          secret: config.getOrThrow('AUTH_SECRET', { infer: true }),
          appUrl: env.APP_URL,
          appName: 'Arraf Sample',
          // Each code is printed in the server log. With NODE_ENV=production the module refuses this
          // provider unless ALLOW_CONSOLE_DELIVERY=true (a staging server); use UnifonicSmsProvider,
          // TaqnyatSmsProvider, … for real users.
          sms: new ConsoleSmsProvider({ allowInProduction: env.ALLOW_CONSOLE_DELIVERY }),
          // The page offers both channels; SMS stays the default for requests that name none.
          otp: { channels: ['sms', 'whatsapp'] },
          // No mail service in the sample: verification and reset emails go to the development outbox.
          callbacks: {
            onVerifyEmail: (delivery) => outbox.deliver('verify-email', delivery),
            onForgotPassword: (delivery) => outbox.deliver('reset-password', delivery),
          },
          providers: sampleOAuthProviders(env),
          session: {
            cookieOptions: { secure: cookieSecure(env.APP_URL) },
            // Invalidation through REDIS_URL when set; otherwise the module picks PostgreSQL or this process.
            cache: env.SESSION_CACHE && (env.REDIS_URL ? { redis: env.REDIS_URL } : true),
          },
        };
      },
    }),
  ],
  controllers: [AppController, ProfileController, MailOutboxController],
  providers: [RetentionJob],
})
export class AppModule {}
