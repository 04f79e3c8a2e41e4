// Section `peers`: our guard (cache off and on) against better-auth 1.7 through
// @thallesp/nestjs-better-auth (without and with its cookie cache) and passport-jwt, each app's
// guarded route against an unguarded route, on the same SQLite file or PostgreSQL database,
// Express, alternating rounds. better-auth lives in bench/peers/ (its own package.json, installed
// here when missing; its peer set conflicts with the root tree, so it never enters the root lockfile).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropPostgres, freshPostgres, freshSqlite } from './db.mjs';
import { measureCases, pairRatio, profileCases } from './rounds.mjs';

export const PEER_TARGETS = { vsBetterAuth: 2.5, vsBetterAuthCookieCache: 1.5 };

function ensurePeers(config, log) {
  const dir = join(config.benchDir, 'peers');
  if (!existsSync(join(dir, 'node_modules/better-auth/package.json'))) {
    log('peers: npm install --prefix bench/peers');
    // --legacy-peer-deps: Nest, pg and better-sqlite3 come from the root node_modules, not a second copy.
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--legacy-peer-deps'], {
      stdio: 'inherit',
    });
  }
  const version = (name) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    'better-auth': version('better-auth'),
    '@thallesp/nestjs-better-auth': version('@thallesp/nestjs-better-auth'),
  };
}

function casesFor(db, dbUrl, config) {
  const ours = (cache) => ({ db, dbUrl, strategy: 'database', env: { BENCH_CACHE: cache ? 'on' : 'off' } });
  const betterAuth = (cookieCache) => ({
    db,
    dbUrl,
    script: join(config.benchDir, 'peers/better-auth-server.mjs'),
    env: { BENCH_COOKIE_CACHE: cookieCache ? 'on' : 'off' },
  });
  return [
    { id: 'unguarded', label: 'Unguarded route (our app)', path: '/unguarded', unguarded: true, server: ours(false) },
    { id: 'ours', label: 'SessionGuard, cache off', path: '/session', server: ours(false) },
    { id: 'ours-cache', label: 'SessionGuard, cache on', path: '/session', server: ours(true) },
    {
      id: 'passport-jwt',
      label: 'passport-jwt (stateless HS256, Bearer)',
      path: '/passport',
      credential: 'bearer',
      server: ours(false),
    },
    {
      id: 'better-auth-unguarded',
      label: "Unguarded route (better-auth's app)",
      path: '/unguarded',
      unguarded: true,
      server: betterAuth(false),
    },
    { id: 'better-auth', label: 'better-auth AuthGuard (@UseGuards)', path: '/session', server: betterAuth(false) },
    {
      id: 'better-auth-cookie-cache',
      label: 'better-auth AuthGuard, cookie cache on (5 min)',
      path: '/session',
      server: betterAuth(true),
    },
  ];
}

/** After the rounds: revoke the better-auth session in the database and count what is still served. */
async function revokedServed(servers) {
  const out = {};
  for (const id of ['better-auth', 'better-auth-cookie-cache']) {
    const server = servers[id];
    await server.call('revoke');
    let served = 0;
    for (let i = 0; i < 20; i++) {
      const response = await fetch(server.url('/session'), { headers: { cookie: server.cookie } });
      await response.arrayBuffer();
      if (response.status === 200) served++;
    }
    out[id] = { requestsAfterRevoke: 20, served };
  }
  return { revokedServed: out };
}

export async function peersSection(config, log) {
  const versions = ensurePeers(config, log);
  const groups = {};
  for (const db of config.databases) {
    log(`peers: ${db}`);
    const dbUrl =
      db === 'sqlite' ? await freshSqlite(config.tmpDir, 'peers.db') : await freshPostgres('arraf_bench_peers');
    const cases = casesFor(db, dbUrl, config);
    const group = await measureCases(`peers-${db}`, cases, config, log, revokedServed);
    group.comparisons = {
      oursVsBetterAuth: pairRatio(group, 'ours', 'better-auth'),
      oursVsBetterAuthCookieCache: pairRatio(group, 'ours', 'better-auth-cookie-cache'),
      oursCacheVsBetterAuth: pairRatio(group, 'ours-cache', 'better-auth'),
      oursCacheVsBetterAuthCookieCache: pairRatio(group, 'ours-cache', 'better-auth-cookie-cache'),
      betterAuthVsItsUnguarded: pairRatio(group, 'better-auth', 'better-auth-unguarded'),
      betterAuthCookieCacheVsItsUnguarded: pairRatio(group, 'better-auth-cookie-cache', 'better-auth-unguarded'),
    };
    const c = group.comparisons;
    const missed =
      c.oursVsBetterAuth < PEER_TARGETS.vsBetterAuth ||
      c.oursVsBetterAuthCookieCache < PEER_TARGETS.vsBetterAuthCookieCache;
    const toProfile =
      config.profile === 'always'
        ? cases.map((x) => x.id)
        : missed
          ? ['ours', 'better-auth', 'better-auth-cookie-cache']
          : [];
    if (config.profile !== 'never' && toProfile.length)
      group.profiles = await profileCases(`peers-${db}`, cases, toProfile, config, log);
    groups[db] = group;
  }
  if (config.databases.includes('postgres')) await dropPostgres('arraf_bench_peers');
  return {
    versions,
    settings: {
      seconds: config.seconds,
      rounds: config.rounds,
      warmup: config.warmup,
      connections: config.connections,
      platform: 'express',
    },
    targets: PEER_TARGETS,
    groups,
  };
}
