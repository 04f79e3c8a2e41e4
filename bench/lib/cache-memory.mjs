// The heap taken by cached sessions, in a process of its own started with --expose-gc (bench/lib/
// cache.mjs forks it): a Nest application context (SQLite, `database` strategy, session.cache
// with max 100,000), 150,000 distinct session rows, then the heap after a full GC with the cache
// empty, with 100,000 distinct sessions cached, and after 50,000 more distinct sessions went
// through the guard's lookup (the LRU bound: the size and the heap must stay where they were).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  ConsoleSmsProvider,
  SESSION_CACHE,
  SessionService,
} from '@arraf-auth/nestjs';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { BENCH_SECRET } from './servers.mjs';
import { freshSqlite } from './db.mjs';

const MAX = 100_000;
/** Distinct sessions looked up beyond the bound, to show the LRU holds it. */
const EXTRA = 50_000;
const USERS = 1000;
const log = (line) => process.send({ type: 'log', line });

const file = await freshSqlite(process.env.BENCH_TMP, 'cache-memory.db');
class MemoryModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'better-sqlite3', database: file, entities: ARRAF_AUTH_ENTITIES, logging: false }),
    ArrafAuthModule.forRoot({
      secret: BENCH_SECRET,
      session: { strategy: 'database', cache: { max: MAX, ttl: '60s' } },
      sms: new ConsoleSmsProvider({ allowInProduction: true }),
    }),
  ],
})(MemoryModule);
const app = await NestFactory.createApplicationContext(MemoryModule, { logger: ['error', 'warn'] });
const sessions = app.get(SessionService);
const cache = app.get(SESSION_CACHE);

// Rows written straight through better-sqlite3 in one transaction (TypeORM per-row inserts take
// minutes here), in the format TypeORM's SQLite driver writes datetimes: 'YYYY-MM-DD HH:MM:SS.SSS' UTC.
const { DataSource } = await import('typeorm');
const sqlite = app.get(DataSource).driver.databaseConnection;
const userIds = Array.from({ length: USERS }, () => randomUUID());
const tokens = Array.from({ length: MAX + EXTRA }, () => randomBytes(32).toString('base64url'));
const datetime = (date) => date.toISOString().replace('T', ' ').replace('Z', '');
const now = new Date();
const insertUser = sqlite.prepare(
  'INSERT INTO users (id, email, "emailVerified", "phoneVerified", "createdAt", "updatedAt") VALUES (?, ?, 1, 0, ?, ?)',
);
const insertSession = sqlite.prepare(
  'INSERT INTO sessions (id, "userId", "tokenHash", "expiresAt", "lastActiveAt", "createdAt", "ipAddress", "userAgent") ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
);
sqlite.transaction(() => {
  userIds.forEach((id, i) => insertUser.run(id, `memory-${i}@example.com`, datetime(now), datetime(now)));
  tokens.forEach((token, i) => {
    const hash = createHash('sha256').update(token).digest('hex');
    // Just issued (expiresIn default 30 days): no renewal write on lookup, as for a live session.
    const expires = datetime(new Date(now.getTime() + 30 * 86_400_000));
    insertSession.run(
      randomUUID(),
      userIds[i % USERS],
      hash,
      expires,
      datetime(now),
      datetime(now),
      '203.0.113.7',
      'Mozilla/5.0 (bench)',
    );
  });
})();
log(`${tokens.length} session rows written`);

function heapMiB() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function lookUp(from, to) {
  for (let i = from; i < to; i++) {
    if (!(await sessions.getSession(tokens[i]))) throw new Error(`session ${i} refused`);
    if ((i + 1) % 25_000 === 0) log(`${i + 1} sessions looked up, ${cache.stats().size} cached`);
  }
}

const empty = heapMiB();
await lookUp(0, MAX);
const sizeFull = cache.stats().size;
const full = heapMiB();
await lookUp(MAX, MAX + EXTRA);
const sizeAfterMore = cache.stats().size;
const afterMore = heapMiB();
cache.clear();
const cleared = heapMiB();
const round1 = (x) => Math.round(x * 10) / 10;
const result = {
  max: MAX,
  distinctSessionsLookedUp: MAX + EXTRA,
  users: USERS,
  heapMiB: { empty: round1(empty), full: round1(full), afterMore: round1(afterMore), cleared: round1(cleared) },
  size: { full: sizeFull, afterMore: sizeAfterMore },
  per100kMiB: round1(((full - empty) * 100_000) / sizeFull),
  bytesPerSession: Math.round(((full - empty) * 2 ** 20) / sizeFull),
  stats: cache.stats(),
};
await app.close();
process.send({ type: 'result', result });
process.exit(0);
