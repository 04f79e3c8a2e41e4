// The heap taken by cached sessions, in a process of its own started with --expose-gc (bench/lib/
// cache.mjs forks it): a Nest application context (SQLite, `database` strategy, session.cache
// with max 100,000), 200,000 distinct session rows, then the heap after a full GC with the cache
// empty, with 100,000 distinct sessions cached, and after 100,000 more distinct sessions went
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

// Rows written through the entities (TypeORM converts the dates), in chunks, inside one transaction.
const { DataSource } = await import('typeorm');
const dataSource = app.get(DataSource);
const userIds = Array.from({ length: USERS }, () => randomUUID());
const tokens = Array.from({ length: 2 * MAX }, () => randomBytes(32).toString('base64url'));
const now = new Date();
await dataSource.transaction(async (manager) => {
  // updateEntity(false): no read-back of generated columns (SQLite caps a statement's expression depth).
  const insert = (table, rows) =>
    manager.createQueryBuilder().insert().into(table).values(rows).updateEntity(false).execute();
  await insert(
    'users',
    userIds.map((id, i) => ({ id, email: `memory-${i}@example.com`, emailVerified: true, phoneVerified: false })),
  );
  for (let i = 0; i < tokens.length; i += 100) {
    const rows = tokens.slice(i, i + 100).map((token, j) => ({
      id: randomUUID(),
      userId: userIds[(i + j) % USERS],
      tokenHash: createHash('sha256').update(token).digest('hex'),
      expiresAt: new Date(now.getTime() + 7 * 86_400_000),
      lastActiveAt: now,
      createdAt: now,
      ipAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (bench)',
    }));
    await insert('sessions', rows);
  }
});
log(`${tokens.length} session rows written`);

function heapMiB() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function lookUp(from, to) {
  for (let i = from; i < to; i++) if (!(await sessions.getSession(tokens[i]))) throw new Error(`session ${i} refused`);
}

const empty = heapMiB();
await lookUp(0, MAX);
const sizeFull = cache.stats().size;
const full = heapMiB();
await lookUp(MAX, 2 * MAX);
const sizeAfterMore = cache.stats().size;
const afterMore = heapMiB();
cache.clear();
const cleared = heapMiB();
const round1 = (x) => Math.round(x * 10) / 10;
const result = {
  max: MAX,
  distinctSessionsLookedUp: 2 * MAX,
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
