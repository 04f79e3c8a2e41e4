import { Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ArrafAuthModule } from '@arraf-auth/nestjs';
import { randomBytes } from 'node:crypto';
import { dataSourceOptions } from '../ormconfig.js';
import { ProfileController } from './profile.controller.js';

function authSecret(config: ConfigService): string {
  const secret = config.get<string>('AUTH_SECRET');
  if (secret) return secret;
  if (config.get('NODE_ENV') === 'production') throw new Error('AUTH_SECRET is required when NODE_ENV=production');
  new Logger('Sample').warn('AUTH_SECRET is not set: using a random development secret (sessions end on restart)');
  return randomBytes(32).toString('base64url');
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        ...dataSourceOptions(config.get('DATABASE_URL')),
        migrationsRun: true,
      }),
    }),
    ArrafAuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const port = config.get('PORT') ?? '3000';
        const appUrl = config.get<string>('APP_URL') ?? `http://localhost:${port}`;
        return {
          secret: authSecret(config),
          appUrl,
          appName: 'Arraf Sample',
          // Browsers accept Secure cookies on http://localhost; elsewhere plain HTTP needs secure off.
          session: { cookieOptions: { secure: appUrl.startsWith('https://') || new URL(appUrl).hostname === 'localhost' } },
        };
      },
    }),
  ],
  controllers: [ProfileController],
})
export class AppModule {}
