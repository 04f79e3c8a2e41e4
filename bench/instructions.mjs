// Load-independent cost of a guarded request: a fixed number of requests driven in-process
// (light-my-request, no sockets), so the figures do not depend on what else the machine runs.
//
//   node bench/instructions.mjs [--route=session|unguarded] [--requests=N] [--warmup=N]
//       [--platform=express|fastify] [--cache=on|off] [--strategy=database|jwt] [--two-factor]
//       [--db=sqlite|postgres] [--library=<a dist folder>]
//   prints one JSON line: application CPU µs per request (process.cpuUsage) and queries per request.
//
//   node bench/instructions.mjs --callgrind [same options]
//     runs the above twice under `valgrind --tool=callgrind` (N and 2N measured requests after the
//     same warm-up) and prints instructions per request: (Ir(2N) - Ir(N)) / N, so start-up cancels out.
//     `perf stat -e instructions` is not available on this VM; callgrind counts instructions in software.
//
// --library: another build of the library (e.g. node_modules/.cache/arraf-bench-tree-<commit>/dist from
// `node bench/make-baseline.mjs --tree <rev>`), for before/after with the same driver.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const opt = {
  route: args.route ?? 'session',
  requests: Number(args.requests ?? 5000),
  warmup: Number(args.warmup ?? 3000),
  platform: args.platform ?? 'express',
  cache: args.cache ?? 'off',
  strategy: args.strategy ?? 'database',
  twoFactor: args['two-factor'] === true,
  db: args.db ?? 'sqlite',
  library: args.library,
};

if (args.callgrind) {
  const self = new URL(import.meta.url).pathname;
  const passed = process.argv.slice(2).filter((a) => a !== '--callgrind' && !a.startsWith('--requests='));
  const count = (requests) => {
    const dir = mkdtempSync(join(tmpdir(), 'arraf-cg-'));
    const out = join(dir, 'callgrind.out');
    execFileSync(
      'valgrind',
      [
        '--tool=callgrind',
        `--callgrind-out-file=${out}`,
        process.execPath,
        '--single-threaded',
        self,
        ...passed,
        `--requests=${requests}`,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
    return Number(totals[1]);
  };
  const n = opt.requests;
  const small = count(n);
  const large = count(2 * n);
  console.log(JSON.stringify({ ...opt, instructionsPerRequest: Math.round((large - small) / n), small, large }));
  process.exit(0);
}

const lib = (path) => (opt.library ? pathToFileURL(join(opt.library, path)).href : undefined);
const library = await import(lib('index.js') ?? '@arraf-auth/nestjs');
const { createTestSession } = await import(lib('testing/index.js') ?? '@arraf-auth/nestjs/testing');
const { ARRAF_AUTH_ENTITIES, ARRAF_AUTH_MIGRATIONS, ArrafAuthModule, ConsoleSmsProvider, SessionGuard } = library;
await import('reflect-metadata');
const { Controller, Get, Module, Req, UseGuards } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { TypeOrmModule } = await import('@nestjs/typeorm');
const { DataSource } = await import('typeorm');
const { inject } = await import('light-my-request');

const dir = mkdtempSync(join(tmpdir(), 'arraf-ins-'));
const database =
  opt.db === 'postgres'
    ? { type: 'postgres', url: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/arraf_ins' }
    : { type: 'better-sqlite3', database: join(dir, 'ins.db'), enableWAL: true };
const migrator = new DataSource({ ...database, entities: ARRAF_AUTH_ENTITIES, migrations: ARRAF_AUTH_MIGRATIONS });
await migrator.initialize();
await migrator.runMigrations();

let queries = 0;
class CountingLogger {
  logQuery() {
    queries++;
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

class BenchController {
  unguarded() {
    return { id: '00000000-0000-4000-8000-000000000000' };
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
method('session', Get('session'), UseGuards(SessionGuard));
Req()(BenchController.prototype, 'session', 0);

class BenchModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, logging: true, logger: new CountingLogger() }),
    ArrafAuthModule.forRoot({
      secret: 'Zq7vK2pW9xR4mT8nB3cY6hJ1dF5gL0sA-benchOnly_u7Qe',
      session: { strategy: opt.strategy, ...(opt.cache === 'on' ? { cache: {} } : {}) },
      ...(opt.twoFactor ? { twoFactor: { required: true } } : {}),
      sms: new ConsoleSmsProvider({ allowInProduction: true }),
    }),
  ],
  controllers: [BenchController],
})(BenchModule);

const adapter =
  opt.platform === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : undefined;
const app = adapter
  ? await NestFactory.create(BenchModule, adapter, { logger: ['error'] })
  : await NestFactory.create(BenchModule, { logger: ['error'] });
await app.init();
const instance = app.getHttpAdapter().getInstance();
if (opt.platform === 'fastify') await instance.ready();

const signedIn = await createTestSession(app, { email: `ins-${process.pid}@example.com`, name: 'Bench User' });
if (opt.twoFactor) {
  // An enrolled user (an active authenticator row), so the route answers 200.
  await migrator.getRepository('two_factors').insert({ userId: signedIn.user.id, secret: 'x', enabled: true });
}
const request = { method: 'GET', url: `/${opt.route}`, headers: { cookie: signedIn.cookie } };
const injectOnce = opt.platform === 'fastify' ? () => instance.inject(request) : () => inject(instance, request);
// Each injected response leaves a setImmediate behind (it holds the request and response). A loop of
// awaited injections never reaches the event loop's check phase, so without this yield they pile up
// (~9 KB a request: 1.8 GiB of heap after 200,000) and the growing heap's GC lands on the figures.
const send = async () => {
  const response = await injectOnce();
  await setImmediatePromise();
  return response;
};

const first = await send();
if (first.statusCode !== 200) throw new Error(`${opt.route} answered ${first.statusCode}: ${first.body}`);
for (let i = 0; i < opt.warmup; i++) await send();
queries = 0;
const cpu = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < opt.requests; i++) await send();
const used = process.cpuUsage(cpu);
const wall = performance.now() - started;
console.log(
  JSON.stringify({
    ...opt,
    cpuMicrosPerRequest: +((used.user + used.system) / opt.requests).toFixed(1),
    wallMicrosPerRequest: +((wall * 1000) / opt.requests).toFixed(1),
    queriesPerRequest: queries / opt.requests,
  }),
);
await app.close();
await migrator.destroy();
rmSync(dir, { recursive: true, force: true });
