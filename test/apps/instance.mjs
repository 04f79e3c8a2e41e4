// One application instance for the multi-instance suite: a plain ESM entry that uses the built
// package the way an application does (import '@arraf-auth/nestjs' resolves to dist/ through the
// package's exports map). No decorators here: Module() is applied as a function, and the library's
// own classes carry their compiled decorator metadata.
//
// Environment: DATABASE_URL (PostgreSQL), REDIS_URL (optional: rate limits in memory without it),
// SESSION_CACHE=on for session.cache (invalidation through Redis, else PostgreSQL), AUTH_SECRET, INSTANCE (a name for the logs),
// MIGRATE=1 to apply the migrations at start, RATE_LIMITS (JSON for rateLimit.limits), OTP (JSON for
// the otp option). Prints `READY <port>` once it listens; SMS codes appear in the log through the
// library's ConsoleSmsProvider ("SMS to +9665****4567: code 123456").
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ARRAF_AUTH_ENTITIES, ARRAF_AUTH_MIGRATIONS, ArrafAuthModule } from '@arraf-auth/nestjs';

const env = process.env;

class InstanceModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: env.DATABASE_URL,
      entities: ARRAF_AUTH_ENTITIES,
      migrations: ARRAF_AUTH_MIGRATIONS,
      migrationsRun: env.MIGRATE === '1',
      connectTimeoutMS: 2000,
      extra: { query_timeout: 5000, statement_timeout: 5000 },
    }),
    ArrafAuthModule.forRoot({
      secret: env.AUTH_SECRET,
      appUrl: 'https://app.example',
      rateLimit: {
        storage: env.REDIS_URL ? { redis: env.REDIS_URL } : 'memory',
        limits: JSON.parse(env.RATE_LIMITS ?? '{}'),
      },
      session: { cache: env.SESSION_CACHE === 'on' },
      otp: JSON.parse(env.OTP ?? '{}'),
    }),
  ],
})(InstanceModule);

const app = await NestFactory.create(InstanceModule, { logger: ['log', 'warn', 'error'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.stdout.write(`READY ${app.getHttpServer().address().port}\n`);
