import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ArrafAuthModule, ConsoleSmsProvider } from '@arraf-auth/nestjs';
import { AppController } from './app.controller.js';
import { dataSourceOptions } from './database.js';
import { ProfileController } from './profile.controller.js';
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
  ];
  return Object.fromEntries(names.map((name) => [name, config.get(name, { infer: true })])) as SampleEnv;
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateSampleEnv }),
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
    ArrafAuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: Config) => {
        const env = sampleEnv(config);
        return {
          secret: config.getOrThrow('AUTH_SECRET', { infer: true }),
          appUrl: env.APP_URL,
          appName: 'Arraf Sample',
          // Development: each code is printed in the server log. Use UnifonicSmsProvider, TaqnyatSmsProvider, … in production.
          sms: new ConsoleSmsProvider(),
          providers: sampleOAuthProviders(env),
          session: { cookieOptions: { secure: cookieSecure(env.APP_URL) } },
        };
      },
    }),
  ],
  controllers: [AppController, ProfileController],
})
export class AppModule {}
