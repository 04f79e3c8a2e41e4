// One benchmark case in its own process: a Nest 12 application (Express) with
//   GET /unguarded  no guard, returns a fixed id
//   GET /passport   @UseGuards(AuthGuard('bench-jwt')): stateless passport-jwt, HS256, Bearer header
//   GET /session    @UseGuards(SessionGuard): the library's guard (strategy from BENCH_STRATEGY)
// Every case runs this same application; the parent only chooses which route it loads.
// Plain ESM without decorator syntax: decorators are applied as functions below.
//
// Environment: BENCH_DB (sqlite | postgres), BENCH_DB_URL (file path or postgres URL, already
// migrated), BENCH_STRATEGY (database | jwt), BENCH_SECRET, BENCH_PLATFORM (express | fastify),
// BENCH_CACHE=on for session.cache (BENCH_CACHE_REDIS: its invalidation channel; without it
// PostgreSQL LISTEN/NOTIFY on PostgreSQL, this process only on SQLite). Talks to the parent over IPC:
//   -> { type: 'ready', port, cookie, bearer, userId }
//   <- { type: 'cacheStats' }     -> { type: 'cacheStats', stats }  (SessionCache.stats(), or null)
//   <- { type: 'newSession' }     -> { type: 'newSession', cookie, sessionId }  (the same user)
//   <- { type: 'revoke', sessionId } -> { type: 'revoke', at }  (epoch ms, sub-ms, when revoke returned)
//   <- { type: 'clock' }          -> { type: 'clock', now }  (the same clock, to measure the offset)
//   <- { type: 'cpu' }            -> { type: 'cpu', usage: process.cpuUsage() }
//   <- { type: 'deleteExpired' }  -> { type: 'deleteExpired', ms, result }
//   <- { type: 'argon2', count }  -> { type: 'argon2', ms }
//   <- { type: 'stop' }           (closes the app and exits, so --cpu-prof writes its profile)
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import argon2 from 'argon2';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

// BENCH_LIBRARY_DIR: another build of the library (a `dist` folder) to measure instead of this
// package's own dist/, for before/after comparisons in the same run.
const library = process.env.BENCH_LIBRARY_DIR;
const { ARRAF_AUTH_ENTITIES, ArrafAuthModule, ConsoleSmsProvider, SESSION_CACHE, SessionGuard, SessionService } =
  await import(library ? pathToFileURL(`${library}/index.js`).href : '@arraf-auth/nestjs');
const { createTestSession } = await import(
  library ? pathToFileURL(`${library}/testing/index.js`).href : '@arraf-auth/nestjs/testing'
);

const env = process.env;
const SECRET = env.BENCH_SECRET ?? 'Zq7vK2pW9xR4mT8nB3cY6hJ1dF5gL0sA-benchOnly_u7Qe';
/** Same length as a user id, so every route answers a body of the same size. */
const FIXED_ID = '00000000-0000-4000-8000-000000000000';

function method(target, name, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  for (const decorate of decorators) decorate(target.prototype, name, descriptor);
}

/** The stateless guard many NestJS applications use: passport-jwt with a string secret. */
class BenchJwtStrategy extends PassportStrategy(Strategy, 'bench-jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: SECRET,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(payload) {
    return { id: payload.sub, email: payload.email };
  }
}
Injectable()(BenchJwtStrategy);

class BenchController {
  unguarded() {
    return { id: FIXED_ID };
  }

  session(request) {
    return { id: request.user.id };
  }

  passport(request) {
    return { id: request.user.id };
  }
}
Controller()(BenchController);
method(BenchController, 'unguarded', Get('unguarded'));
method(BenchController, 'session', Get('session'), UseGuards(SessionGuard));
Req()(BenchController.prototype, 'session', 0);
method(BenchController, 'passport', Get('passport'), UseGuards(AuthGuard('bench-jwt')));
Req()(BenchController.prototype, 'passport', 0);

function databaseOptions() {
  const common = { entities: ARRAF_AUTH_ENTITIES, synchronize: false, migrationsRun: false, logging: false };
  if (env.BENCH_DB === 'postgres') return { ...common, type: 'postgres', url: env.BENCH_DB_URL };
  // WAL, as the sample opens its SQLite file.
  return { ...common, type: 'better-sqlite3', database: env.BENCH_DB_URL, enableWAL: true };
}

class BenchModule {}
Module({
  imports: [
    TypeOrmModule.forRoot(databaseOptions()),
    ArrafAuthModule.forRoot({
      secret: SECRET,
      session: {
        strategy: env.BENCH_STRATEGY === 'database' ? 'database' : 'jwt',
        // Only named when on, so that a build without the option (the A/B baseline) starts too.
        ...(env.BENCH_CACHE === 'on'
          ? { cache: { max: Number(env.BENCH_CACHE_MAX ?? 10_000), redis: env.BENCH_CACHE_REDIS || undefined } }
          : {}),
      },
      // NODE_ENV=production refuses the console provider without this opt-in; the bench sends no SMS.
      sms: new ConsoleSmsProvider({ allowInProduction: true }),
    }),
    PassportModule,
  ],
  controllers: [BenchController],
  providers: [BenchJwtStrategy],
})(BenchModule);

const adapter =
  env.BENCH_PLATFORM === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : undefined;
const app = adapter
  ? await NestFactory.create(BenchModule, adapter, { logger: ['error', 'warn'] })
  : await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

const signedIn = await createTestSession(app, { email: `bench-${process.pid}@example.com`, name: 'Bench User' });
const bearer = new JwtService({ secret: SECRET }).sign(
  { sub: signedIn.user.id, email: signedIn.user.email },
  { algorithm: 'HS256', expiresIn: '1h' },
);

process.on('message', async (message) => {
  if (message.type === 'stop') {
    await app.close();
    process.exit(0);
  }
  if (message.type === 'cpu') {
    process.send({ type: 'cpu', usage: process.cpuUsage() });
  }
  if (message.type === 'cacheStats') {
    let stats = null;
    try {
      stats = SESSION_CACHE ? app.get(SESSION_CACHE, { strict: false }).stats() : null;
    } catch {
      // a build without the cache (the A/B baseline)
    }
    process.send({ type: 'cacheStats', stats });
  }
  if (message.type === 'newSession') {
    const created = await createTestSession(app, signedIn.user.id);
    process.send({ type: 'newSession', cookie: created.cookie, sessionId: created.session.id });
  }
  if (message.type === 'clock') process.send({ type: 'clock', now: performance.timeOrigin + performance.now() });
  if (message.type === 'revoke') {
    await app.get(SessionService).revokeSession(message.sessionId);
    process.send({ type: 'revoke', at: performance.timeOrigin + performance.now() });
  }
  if (message.type === 'deleteExpired') {
    const started = performance.now();
    const result = await app.get(SessionService).deleteExpired();
    process.send({ type: 'deleteExpired', ms: performance.now() - started, result });
  }
  if (message.type === 'argon2') {
    const started = performance.now();
    const options = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
    await Promise.all(Array.from({ length: message.count }, (_, i) => argon2.hash(`password-${i}`, options)));
    process.send({ type: 'argon2', ms: performance.now() - started });
  }
});
process.send({ type: 'ready', port, cookie: signedIn.cookie, bearer, userId: signedIn.user.id });
