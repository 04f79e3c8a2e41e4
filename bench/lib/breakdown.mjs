// Section `breakdown`: what one session check costs, piece by piece, in one process without HTTP.
// Interleaved repetitions and medians, so it holds up better than requests/s on a busy machine.
// Reaches into SessionService's private methods (verifyJwt, lookup, hydrate, lookupQueries) on purpose.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_ENTITIES, ArrafAuthModule, SessionService } from '@arraf-auth/nestjs';
import { createTestSession } from '@arraf-auth/nestjs/testing';
import { dropPostgres, freshPostgres, freshSqlite } from './db.mjs';
import { median, round } from './load.mjs';
import { BENCH_SECRET } from './servers.mjs';

const SESSION_AUDIENCE = 'arraf-auth:session';
const REPS = 7;

async function createContext(database, strategy) {
  class BreakdownModule {}
  Module({
    imports: [
      TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, synchronize: false, logging: false }),
      ArrafAuthModule.forRoot({ secret: BENCH_SECRET, session: { strategy } }),
    ],
  })(BreakdownModule);
  return NestFactory.createApplicationContext(BreakdownModule, { logger: ['error', 'warn'] });
}

/** CPU µs of the PostgreSQL backends of `database` (see guard.mjs). */
async function backendMicros(dataSource, database) {
  const rows = await dataSource.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  let sum = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      sum += ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
    } catch {
      // gone
    }
  }
  return sum;
}

/**
 * Runs each variant `n` times per repetition (with `concurrency` callers), interleaving the
 * variants, and returns the median µs per call of wall time, this process's CPU and, with
 * `database`, the PostgreSQL backends' CPU.
 */
async function compare(variants, { n, concurrency = 1, dataSource, database }) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, { wall: [], cpu: [], db: [] }]));
  const runOnce = async (fn, count) => {
    if (concurrency === 1) {
      for (let i = 0; i < count; i++) await fn();
      return;
    }
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = 0; i < count / concurrency; i++) await fn();
      }),
    );
  };
  for (const fn of Object.values(variants)) await runOnce(fn, Math.ceil(n / 4));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, fn] of Object.entries(variants)) {
      const db0 = database ? await backendMicros(dataSource, database) : 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await runOnce(fn, n);
      const wall = ((performance.now() - t0) * 1000) / n;
      const cpu = process.cpuUsage(cpu0);
      samples[name].wall.push(wall);
      samples[name].cpu.push((cpu.user + cpu.system) / n);
      if (database) samples[name].db.push(((await backendMicros(dataSource, database)) - db0) / n);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        wallUs: round(median(s.wall), 1),
        cpuUs: round(median(s.cpu), 1),
        ...(database ? { dbCpuUs: round(median(s.db), 1) } : {}),
      },
    ]),
  );
}

export async function breakdownSection(config, log) {
  const rows = [];
  const add = (group, results, note) => {
    for (const [variant, r] of Object.entries(results)) rows.push({ group, variant, ...r, note: note?.[variant] });
  };

  // Credential checks, CPU only.
  const sqliteFile = await freshSqlite(config.tmpDir, 'breakdown.db');
  const sqliteJwt = await createContext({ type: 'better-sqlite3', database: sqliteFile }, 'jwt');
  try {
    const service = sqliteJwt.get(SessionService);
    const { token, session } = await createTestSession(sqliteJwt, { email: 'breakdown@example.com' });
    const jwt = new JwtService();
    const key = service['keys'][0].key;
    const dbToken = 'SVvC3az6_UawlxP0qb3Oj8ay7KA5HQTGIkIggO6d4lI';
    add(
      'credential check (CPU, per call)',
      await compare(
        {
          'jsonwebtoken via JwtService.verify (KeyObject; before)': () =>
            jwt.verify(token, { secret: key, algorithms: ['HS256'], audience: SESSION_AUDIENCE }),
          'SessionService.verifyJwt (after)': () => service['verifyJwt'](token),
          'database strategy: sha256 of the token': () => createHash('sha256').update(dbToken).digest('hex'),
        },
        { n: 20_000 },
      ),
    );
    const dataSource = sqliteJwt.get(DataSource);
    const queries = service['lookupQueries']();
    const statement = dataSource.driver.databaseConnection.prepare(queries.byId);
    add(
      'SQLite lookup (one join, in process)',
      await compare(
        {
          'dataSource.query (what getSession uses)': () => dataSource.query(queries.byId, [session.id]),
          'raw better-sqlite3 prepared statement (reference)': () => statement.all(session.id),
          'hydrate the row (prepareHydratedValue)': async () => {
            const [row] = statement.all(session.id);
            service['hydrate'](row, queries);
          },
          'getSession, jwt strategy (whole call)': () => service.getSession(token),
        },
        { n: 10_000 },
      ),
    );
  } finally {
    await sqliteJwt.close();
  }
  log('  breakdown: SQLite done');

  // PostgreSQL lookups with 10 concurrent callers, as in the HTTP benchmark.
  if (config.databases.includes('postgres')) {
    const name = 'arraf_bench_breakdown';
    const url = await freshPostgres(name);
    const context = await createContext({ type: 'postgres', url }, 'jwt');
    try {
      const service = context.get(SessionService);
      const dataSource = context.get(DataSource);
      const { token, session } = await createTestSession(context, { email: 'breakdown@example.com' });
      const queries = service['lookupQueries']();
      // Open the whole pool first, so backends exist before measuring.
      await Promise.all(Array.from({ length: 10 }, () => dataSource.query('SELECT pg_sleep(0.05)')));
      add(
        'PostgreSQL lookup, 10 concurrent callers (per query)',
        await compare(
          {
            'dataSource.query, unnamed (before)': () => dataSource.query(queries.byId, [session.id]),
            'SessionService.lookup, named prepared statement (after)': () =>
              service['lookup'](queries, queries.byId, [session.id]),
            'getSession, jwt strategy (whole call, after)': () => service.getSession(token),
          },
          { n: 6000, concurrency: 10, dataSource, database: name },
        ),
      );
    } finally {
      await context.close();
      await dropPostgres(name);
    }
    log('  breakdown: PostgreSQL done');
  }
  return { repetitions: REPS, rows };
}
