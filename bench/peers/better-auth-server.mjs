// The better-auth peer for `npm run bench -- --only=peers`: better-auth through
// @thallesp/nestjs-better-auth on Nest 12 (Express), the same routes as bench/lib/server.mjs:
//   GET /unguarded  no guard, returns a fixed id
//   GET /session    @UseGuards(AuthGuard): the module's guard (better-auth's getSession)
// The module's global guard is turned off (disableGlobalAuthGuard): it reads the session even on
// @AllowAnonymous() routes whenever the cookie is sent, so those routes are not an unguarded
// reference. The guard is then applied per route, as our SessionGuard is.
// It lives in bench/peers/ so that better-auth resolves from bench/peers/node_modules while Nest,
// pg and better-sqlite3 resolve from the root node_modules (one Nest in the process).
//
// Environment: BENCH_DB (sqlite | postgres), BENCH_DB_URL (the same file or database as our
// cases: better-auth's own tables `user`, `session`, `account`, `verification` sit beside ours),
// BENCH_COOKIE_CACHE=on for session.cookieCache, BENCH_SECRET. IPC as bench/lib/server.mjs:
//   -> { type: 'ready', port, cookie, userId }   <- { type: 'cpu' }   <- { type: 'stop' }
import 'reflect-metadata';
import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, AuthModule } from '@thallesp/nestjs-better-auth';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import Database from 'better-sqlite3';
import pg from 'pg';

const env = process.env;
const FIXED_ID = '00000000-0000-4000-8000-000000000000';
const cookieCache = env.BENCH_COOKIE_CACHE === 'on';

const database =
  env.BENCH_DB === 'postgres'
    ? new pg.Pool({ connectionString: env.BENCH_DB_URL, max: 10 })
    : new Database(env.BENCH_DB_URL);
// WAL, as our bench server and the sample open the same SQLite file: both libraries read the same way.
if (database instanceof Database) database.pragma('journal_mode = WAL');
const auth = betterAuth({
  database,
  secret: env.BENCH_SECRET,
  baseURL: 'http://127.0.0.1',
  emailAndPassword: { enabled: true },
  // The cookie cache: a signed copy of the session in a second cookie, trusted until maxAge.
  session: cookieCache ? { cookieCache: { enabled: true, maxAge: 5 * 60 } } : {},
  // The bench drives one address at a high rate; sign-up is the only POST.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: 'error' },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

class BenchController {
  unguarded() {
    return { id: FIXED_ID };
  }

  session(request) {
    return { id: request.user.id };
  }
}
Controller()(BenchController);
const method = (name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(BenchController.prototype, name);
  for (const decorate of decorators) decorate(BenchController.prototype, name, descriptor);
};
method('unguarded', Get('unguarded'));
method('session', Get('session'), UseGuards(AuthGuard));
Req()(BenchController.prototype, 'session', 0);

class BenchModule {}
Module({
  imports: [AuthModule.forRoot({ auth, disableGlobalAuthGuard: true })],
  controllers: [BenchController],
})(BenchModule);

const app = await NestFactory.create(BenchModule, { bodyParser: false, logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

// A user and a session through better-auth's own HTTP API, as a browser would get them.
const email = `bench-${process.pid}-${Date.now()}@example.com`;
const response = await fetch(`http://127.0.0.1:${port}/api/auth/sign-up/email`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1' },
  body: JSON.stringify({ email, password: 'bench-password-0123', name: 'Bench User' }),
});
if (!response.ok) throw new Error(`better-auth sign-up: ${response.status} ${await response.text()}`);
const { user } = await response.json();
const cookie = response.headers
  .getSetCookie()
  .map((c) => c.split(';')[0])
  .join('; ');

process.on('message', async (message) => {
  if (message.type === 'stop') {
    await app.close();
    process.exit(0);
  }
  if (message.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
  if (message.type === 'revoke') {
    // Revokes every session of the bench user in the database (used to show what the cookie cache serves).
    const sql = 'DELETE FROM "session" WHERE "userId" = $1';
    if (env.BENCH_DB === 'postgres') await database.query(sql, [user.id]);
    else database.prepare(sql.replace('$1', '?')).run(user.id);
    process.send({ type: 'revoke' });
  }
});
process.send({ type: 'ready', port, cookie, userId: user.id });
