// Sections `scale` (getSession latency vs table size), `cleanup` (deleteExpired on a million rows
// under load) and `memory` (resident memory of the sample app).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_ENTITIES, ArrafAuthModule, SessionService } from '@arraf-auth/nestjs';
import { createTestSession } from '@arraf-auth/nestjs/testing';
import { dropPostgres, freshPostgres, seedSessions, withPostgres } from './db.mjs';
import { drive, latencySummary, round } from './load.mjs';
import { BENCH_SECRET, freePort, rssMiB, sleep, startProcess, startServer } from './servers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A Nest application context (no HTTP) with the library on `database`. */
async function createContext(database, auth) {
  class ContextModule {}
  Module({
    imports: [
      TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, synchronize: false, logging: false }),
      ArrafAuthModule.forRoot({ secret: BENCH_SECRET, ...auth }),
    ],
  })(ContextModule);
  return NestFactory.createApplicationContext(ContextModule, { logger: ['error', 'warn'] });
}

/** The id PostgreSQL's `md5(text)::uuid::text` gives, as seedSessions uses. */
function md5Uuid(text) {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The credential of seeded session number `g` under `strategy` (see seedSessions). */
function seededCredential(service, strategy, g) {
  if (strategy === 'database') return `token${g}`;
  // The service's own signer, so the JWT is exactly what a real session cookie carries.
  const session = {
    id: md5Uuid(`session${g}`),
    userId: md5Uuid(`user${1 + (g % 1000)}`),
    expiresAt: new Date(Date.now() + 3_600_000),
  };
  return service['cookieValueFor'](session, `seed${g}@example.com`, '');
}

async function timeLookups(service, credentials, warmup) {
  for (let i = 0; i < warmup; i++) await service.getSession(credentials[i % credentials.length]);
  const times = [];
  for (const credential of credentials) {
    const started = performance.now();
    const active = await service.getSession(credential);
    times.push((performance.now() - started) * 1000);
    if (!active) throw new Error('getSession returned null for a valid seeded session');
  }
  const s = latencySummary(times);
  return { p50: round(s.p50, 0), p90: round(s.p90, 0), p99: round(s.p99, 0), mean: round(s.mean, 0), count: s.count };
}

export async function scaleSection(config, log) {
  const name = 'arraf_bench_scale';
  const url = await freshPostgres(name);
  const measurements = [];
  const seeding = [];
  const plans = {};
  let seeded = 0;
  const sizes = [1000, config.scaleRows].filter((n, i, all) => all.indexOf(n) === i);
  const calls = 3000;
  try {
    for (const size of sizes) {
      const started = performance.now();
      await withPostgres(url, (client) => seedSessions(client, { from: seeded + 1, count: size - seeded }));
      seeding.push({ rows: size, seconds: round((performance.now() - started) / 1000, 1) });
      seeded = size;
      log(`  scale: ${size} rows seeded`);
      for (const strategy of ['database', 'jwt']) {
        const context = await createContext({ type: 'postgres', url }, { session: { strategy } });
        try {
          const service = context.get(SessionService);
          const own = await createTestSession(context, { email: `scale-${strategy}-${size}@example.com` });
          const rows = Number(
            (await withPostgres(url, (c) => c.query('SELECT count(*) AS n FROM sessions'))).rows[0].n,
          );
          const same = await timeLookups(service, Array(calls).fill(own.token), 500);
          measurements.push({ rows, strategy, lookup: 'same session', ...same });
          const random = Array.from({ length: calls }, () =>
            seededCredential(service, strategy, 1 + Math.floor(Math.random() * seeded)),
          );
          measurements.push({ rows, strategy, lookup: 'random sessions', ...(await timeLookups(service, random, 0)) });
          if (size === sizes[sizes.length - 1]) {
            const queries = service['lookupQueries']();
            const dataSource = context.get(DataSource);
            const sql = strategy === 'database' ? queries.byTokenHash : queries.byId;
            const param = strategy === 'database' ? own.session.tokenHash : own.session.id;
            const plan = await dataSource.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [param]);
            plans[`${strategy} strategy (by ${strategy === 'database' ? 'token hash' : 'session id'})`] = plan.map(
              (r) => r['QUERY PLAN'],
            );
          }
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    await dropPostgres(name);
  }
  return { calls, seeding, measurements, plans };
}

export async function cleanupSection(config, log) {
  const name = 'arraf_bench_cleanup';
  const url = await freshPostgres(name);
  let server;
  try {
    const seedStarted = performance.now();
    await withPostgres(url, (client) => seedSessions(client, { count: config.cleanupRows, expired: true }));
    const seedSeconds = round((performance.now() - seedStarted) / 1000, 1);
    log(`  cleanup: ${config.cleanupRows} expired rows seeded in ${seedSeconds}s`);
    server = await startServer({ db: 'postgres', dbUrl: url, strategy: 'jwt' });
    const target = { url: server.url('/session'), headers: { cookie: server.cookie }, connections: config.connections };
    await drive({ ...target, seconds: config.warmup }).done;
    const baseline = await drive({ ...target, seconds: config.seconds }).done;
    const load = drive({ ...target, seconds: 900 });
    await sleep(1000);
    const reply = await server.call('deleteExpired', {}, 900_000);
    load.stop();
    const during = await load.done;
    const remaining = Number((await withPostgres(url, (c) => c.query('SELECT count(*) AS n FROM sessions'))).rows[0].n);
    // Whole seconds only: the first (before the call) and the last (partial) are left out.
    const windows = during.perSecond.slice(1, -1);
    const slowestSecond = windows.reduce(
      (a, b) => (b.responses < a.responses ? b : a),
      windows[0] ?? { responses: 0, max: 0 },
    );
    const pick = (r) => ({
      rps: round(r.rps, 0),
      p50: round(r.p50, 3),
      p99: round(r.p99, 3),
      max: round(r.max, 2),
      errors: r.errors,
      timeouts: r.timeouts,
      unexpectedStatus: r.unexpectedStatus,
    });
    return {
      expiredRows: config.cleanupRows,
      seedSeconds,
      connections: config.connections,
      ms: round(reply.ms, 0),
      deleted: reply.result,
      remainingRows: remaining,
      baseline: pick(baseline),
      during: pick(during),
      slowestSecond,
      perSecond: during.perSecond,
    };
  } finally {
    await server?.stop();
    await dropPostgres(name);
  }
}

async function waitForHttp(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function memorySection(config, log) {
  execFileSync('npm', ['run', '--silent', 'build:sample'], { cwd: ROOT, stdio: 'inherit' });
  const file = join(config.tmpDir, 'sample.db');
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  const port = await freePort();
  const sample = startProcess(join(ROOT, 'dist-sample/sample/main.js'), {
    DATABASE_URL: `sqlite:${file}`,
    PORT: String(port),
    AUTH_SECRET: BENCH_SECRET,
    NODE_ENV: 'production',
    ALLOW_CONSOLE_DELIVERY: 'true', // the sample has no real SMS provider
  });
  const exited = new Promise((resolve) => sample.once('exit', resolve));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`);
    await sleep(2000);
    const rss = { afterStart: rssMiB(sample.pid) };
    // A session the sample accepts: same secret and options, same database file.
    const context = await createContext(
      { type: 'better-sqlite3', database: file },
      { appUrl: `http://localhost:${port}`, session: { cookieOptions: { secure: true } } },
    );
    let cookie;
    try {
      cookie = (await createTestSession(context, { email: 'memory@example.com' })).cookie;
    } finally {
      await context.close();
    }
    const me = await fetch(`http://127.0.0.1:${port}/me`, { headers: { cookie } });
    if (me.status !== 200) throw new Error(`sample GET /me answered ${me.status}`);
    const target = { url: `http://127.0.0.1:${port}/me`, headers: { cookie }, connections: config.connections };
    const load = await drive({ ...target, amount: config.memoryRequests }).done;
    if (load.unexpectedStatus || load.errors)
      throw new Error(`sample: ${load.unexpectedStatus} non-200, ${load.errors} errors`);
    rss.afterLoad = rssMiB(sample.pid);
    log(`  memory: ${config.memoryRequests} requests at ${Math.round(load.rps)}/s`);
    await sleep(5000);
    rss.afterIdle = rssMiB(sample.pid);
    const second = await drive({ ...target, amount: config.memoryRequests }).done;
    if (second.unexpectedStatus || second.errors) throw new Error('sample: errors in the second load');
    rss.afterSecondLoad = rssMiB(sample.pid);
    return {
      requests: config.memoryRequests,
      connections: config.connections,
      load: { rps: round(load.rps, 0), p50: round(load.p50, 3), p99: round(load.p99, 3) },
      rss,
    };
  } finally {
    sample.kill('SIGTERM');
    await exited;
  }
}
