// Section `cache`: SessionGuard with session.cache off and on against the unguarded route of the
// same application, on SQLite and PostgreSQL, Express and Fastify (alternating rounds), and the
// cache's hit rate during those runs. Section `cache-memory`: the heap taken by 100,000 cached
// sessions (bench/lib/cache-memory.mjs in a process of its own with --expose-gc).
import { fork } from 'node:child_process';
import { dropPostgres, freshPostgres, freshSqlite } from './db.mjs';
import { measureCases, profileCases } from './rounds.mjs';

export const CACHE_TARGETS = { on: 0.9, off: { sqlite: 0.75, postgres: 0.6 } };
const PLATFORMS = (process.env.BENCH_PLATFORMS ?? 'express,fastify').split(',');

function casesFor(db, dbUrl, platform) {
  const server = (cache) => ({
    db,
    dbUrl,
    strategy: 'database',
    env: { BENCH_PLATFORM: platform, BENCH_CACHE: cache ? 'on' : 'off' },
  });
  return [
    { id: 'unguarded', label: 'Unguarded route', path: '/unguarded', unguarded: true, server: server(false) },
    { id: 'cache-off', label: 'SessionGuard, cache off', path: '/session', server: server(false) },
    { id: 'cache-on', label: 'SessionGuard, cache on', path: '/session', server: server(true) },
  ];
}

async function hitRate(servers) {
  const { stats } = await servers['cache-on'].call('cacheStats');
  return { cacheStats: { ...stats, hitRate: stats.hits / (stats.hits + stats.misses) } };
}

function memory(config, log) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./cache-memory.mjs', import.meta.url), [], {
      env: { ...process.env, BENCH_TMP: config.tmpDir, NODE_ENV: 'production' },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m) => (m.type === 'log' ? log(`  memory: ${m.line}`) : resolve(m.result)));
    child.on('exit', (code) => code && reject(new Error(`cache-memory.mjs exited with ${code}`)));
  });
}

export async function cacheSection(config, log) {
  const groups = {};
  for (const db of config.databases) {
    for (const platform of PLATFORMS) {
      const name = `${db}-${platform}`;
      log(`cache: ${name}`);
      const dbUrl =
        db === 'sqlite' ? await freshSqlite(config.tmpDir, 'cache.db') : await freshPostgres('arraf_bench_cache');
      const cases = casesFor(db, dbUrl, platform);
      const group = await measureCases(name, cases, config, log, hitRate);
      const missed = [];
      if (group.cases['cache-on'].ratio < CACHE_TARGETS.on) missed.push('cache-on');
      if (group.cases['cache-off'].ratio < CACHE_TARGETS.off[db]) missed.push('cache-off');
      const toProfile =
        config.profile === 'always' ? cases.map((c) => c.id) : missed.length ? ['unguarded', ...missed] : [];
      if (config.profile !== 'never' && toProfile.length)
        group.profiles = await profileCases(name, cases, toProfile, config, log);
      groups[name] = { db, platform, ...group };
    }
  }
  if (config.databases.includes('postgres')) await dropPostgres('arraf_bench_cache');
  return {
    settings: {
      seconds: config.seconds,
      rounds: config.rounds,
      warmup: config.warmup,
      connections: config.connections,
    },
    targets: CACHE_TARGETS,
    groups,
  };
}

export async function cacheMemorySection(config, log) {
  return memory(config, log);
}
