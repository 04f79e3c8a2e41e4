// Section `guard`: requests/s and latency of an unguarded route, a stateless passport-jwt guard and
// SessionGuard (database and jwt strategies) on SQLite and PostgreSQL, alternating the cases
// round by round, with ratios to the unguarded route of the same run.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { POSTGRES_ADMIN_URL, dropPostgres, freshPostgres, freshSqlite } from './db.mjs';
import { drive, median, round } from './load.mjs';
import { summariseProfile } from './profile.mjs';
import { sleep, startServer } from './servers.mjs';

export const CASES = [
  { id: 'unguarded', label: 'Unguarded route', path: '/unguarded', strategy: 'jwt', credential: 'cookie' },
  {
    id: 'passport-jwt',
    label: 'passport-jwt guard (stateless HS256, Bearer)',
    path: '/passport',
    strategy: 'jwt',
    credential: 'bearer',
  },
  {
    id: 'session-database',
    label: 'SessionGuard, `database` strategy',
    path: '/session',
    strategy: 'database',
    credential: 'cookie',
  },
  { id: 'session-jwt', label: 'SessionGuard, `jwt` strategy', path: '/session', strategy: 'jwt', credential: 'cookie' },
];

const round2 = (x) => round(x, 2);

export const TARGETS = { sqlite: 0.7, postgres: 0.5 };

/**
 * The cases of a run: with BENCH_BASELINE_DIR (another build's dist/ folder, inside this package so
 * it resolves the same node_modules), the two SessionGuard cases are also measured on that build.
 */
function casesFor(config) {
  if (!config.baselineDir) return CASES;
  const baseline = CASES.filter((c) => c.id.startsWith('session-')).map((c) => ({
    ...c,
    id: `${c.id}@baseline`,
    label: `${c.label} (baseline build)`,
    library: config.baselineDir,
  }));
  return [...CASES, ...baseline];
}

function headersFor(testCase, server) {
  // The unguarded route gets the session cookie too, as a browser would send it.
  return testCase.credential === 'bearer' ? { authorization: `Bearer ${server.bearer}` } : { cookie: server.cookie };
}

async function sanityCheck(testCase, server) {
  const response = await fetch(server.url(testCase.path), { headers: headersFor(testCase, server) });
  const body = await response.json();
  const expected = testCase.id === 'unguarded' ? '00000000-0000-4000-8000-000000000000' : server.userId;
  if (response.status !== 200 || body.id !== expected) {
    throw new Error(`${testCase.id}: expected 200 with id ${expected}, got ${response.status} ${JSON.stringify(body)}`);
  }
  if (testCase.id !== 'unguarded') {
    const anonymous = await fetch(server.url(testCase.path));
    if (anonymous.status !== 401) throw new Error(`${testCase.id}: expected 401 without credentials`);
  }
}

/** CPU time (user + system) the application process has used, in µs. */
async function cpuMicros(server) {
  const { usage } = await server.call('cpu', {}, 10_000);
  return usage.user + usage.system;
}

/**
 * CPU time (µs) of each PostgreSQL backend serving `database`, from /proc (same machine), so the
 * database's share of a request is measured too. Empty when /proc is not readable.
 */
async function backendMicros(client, database) {
  const { rows } = await client.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  const ticks = new Map();
  const hz = 100; // USER_HZ on Linux
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1e6) / hz);
    } catch {
      // the backend exited, or /proc is not ours to read
    }
  }
  return ticks;
}

function backendDelta(before, after) {
  let sum = 0;
  for (const [pid, micros] of after) sum += micros - (before.get(pid) ?? 0);
  return sum;
}

async function runCase(testCase, server, config, seconds, monitor) {
  const cpuBefore = await cpuMicros(server);
  const dbBefore = monitor ? await backendMicros(monitor.client, monitor.database) : undefined;
  const result = await drive({
    url: server.url(testCase.path),
    headers: headersFor(testCase, server),
    seconds,
    connections: config.connections,
  }).done;
  if (result.unexpectedStatus || result.errors || result.timeouts) {
    throw new Error(
      `${testCase.id}: ${result.unexpectedStatus} unexpected statuses, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  // Less sensitive to other load on the machine than requests/s: the application's own CPU per request.
  result.cpuPerRequest = (await cpuMicros(server)) - cpuBefore;
  result.cpuPerRequest /= result.count + result.unexpectedStatus;
  if (monitor) {
    const dbAfter = await backendMicros(monitor.client, monitor.database);
    result.dbCpuPerRequest = backendDelta(dbBefore, dbAfter) / (result.count + result.unexpectedStatus);
  }
  return result;
}

async function prepareDatabase(db, config) {
  if (db === 'sqlite') return freshSqlite(config.tmpDir, 'guard.db');
  return freshPostgres('arraf_bench_guard');
}

async function openMonitor(db) {
  if (db !== 'postgres') return undefined;
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  return { client, database: 'arraf_bench_guard' };
}

/** Measures one database's four cases over `config.rounds` alternating rounds. */
async function measureGroup(db, config, log) {
  const dbUrl = await prepareDatabase(db, config);
  const cases = casesFor(config);
  const servers = {};
  const monitor = await openMonitor(db);
  try {
    for (const testCase of cases) {
      servers[testCase.id] = await startServer({
        db,
        dbUrl,
        strategy: testCase.strategy,
        env: testCase.library ? { BENCH_LIBRARY_DIR: testCase.library } : {},
      });
      await sanityCheck(testCase, servers[testCase.id]);
    }
    log(`  ${db}: warm-up ${config.warmup}s per case`);
    for (const testCase of cases) await runCase(testCase, servers[testCase.id], config, config.warmup);

    const rounds = [];
    for (let r = 0; r < config.rounds; r++) {
      // Rotate the order every round so no case always follows the same neighbour.
      const order = cases.map((_, i) => cases[(i + r) % cases.length]);
      const results = {};
      for (const testCase of order) {
        await sleep(config.pauseMs);
        results[testCase.id] = await runCase(testCase, servers[testCase.id], config, config.seconds, monitor);
        results[testCase.id].loadAverage = round2(loadavg()[0]);
      }
      rounds.push(results);
      log(
        `  ${db} round ${r + 1}/${config.rounds}: ` +
          cases
            .map((c) => {
              const r = results[c.id];
              const dbCpu = r.dbCpuPerRequest === undefined ? '' : ` db ${Math.round(r.dbCpuPerRequest)}µs`;
              return `${c.id} ${Math.round(r.rps)}/s p99 ${r.p99.toFixed(1)}ms cpu ${Math.round(r.cpuPerRequest)}µs${dbCpu}`;
            })
            .join(', ') +
          ` (load ${loadavg()[0].toFixed(1)})`,
      );
    }
    return summariseGroup(db, rounds, cases);
  } finally {
    await monitor?.client.end();
    for (const server of Object.values(servers)) await server.stop();
  }
}

function summariseGroup(db, rounds, caseList) {
  const cases = {};
  const reference = median(rounds.map((r) => r.unguarded.rps));
  const referenceCpu = median(rounds.map((r) => r.unguarded.cpuPerRequest));
  for (const testCase of caseList) {
    const perRound = rounds.map((r) => r[testCase.id]);
    const roundRatios = rounds.map((r) => r[testCase.id].rps / r.unguarded.rps);
    const rps = median(perRound.map((r) => r.rps));
    const cpu = median(perRound.map((r) => r.cpuPerRequest));
    const dbCpu = median(perRound.map((r) => r.dbCpuPerRequest ?? NaN));
    cases[testCase.id] = {
      label: testCase.label,
      rps: round(rps, 0),
      p50: round(median(perRound.map((r) => r.p50)), 3),
      p99: round(median(perRound.map((r) => r.p99)), 3),
      max: round(Math.max(...perRound.map((r) => r.max)), 2),
      ratio: round(rps / reference, 3),
      roundRatios: roundRatios.map((x) => round(x, 3)),
      cpuPerRequest: round(cpu, 1),
      cpuRatio: round(referenceCpu / cpu, 3),
      ...(Number.isFinite(dbCpu) ? { dbCpuPerRequest: round(dbCpu, 1) } : {}),
      rounds: perRound.map((r) => ({
        rps: round(r.rps, 0),
        p50: round(r.p50, 3),
        p99: round(r.p99, 3),
        cpuPerRequest: round(r.cpuPerRequest, 1),
        ...(r.dbCpuPerRequest !== undefined ? { dbCpuPerRequest: round(r.dbCpuPerRequest, 1) } : {}),
        loadAverage: r.loadAverage,
      })),
    };
  }
  const jwtWins = rounds.filter((r) => r['session-jwt'].rps >= r['session-database'].rps).length;
  const target = TARGETS[db];
  return {
    cases,
    targets: {
      minRatio: target,
      database: { ratio: cases['session-database'].ratio, met: cases['session-database'].ratio >= target },
      jwt: { ratio: cases['session-jwt'].ratio, met: cases['session-jwt'].ratio >= target },
      jwtAtLeastDatabase: {
        met: cases['session-jwt'].rps >= cases['session-database'].rps,
        roundsJwtFaster: `${jwtWins}/${rounds.length}`,
      },
    },
  };
}

/** One profiled run per case (the unguarded reference and each case that missed a target). */
async function profileGroup(db, caseIds, config, log) {
  const dbUrl = await prepareDatabase(db, config);
  const profiles = {};
  for (const id of caseIds) {
    const testCase = CASES.find((c) => c.id === id);
    const dir = join(config.profileDir, `${db}-${id}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const server = await startServer({ db, dbUrl, strategy: testCase.strategy, profileDir: dir });
    try {
      await runCase(testCase, server, config, config.warmup);
      const result = await runCase(testCase, server, config, config.seconds * 2);
      profiles[id] = { rpsWhileProfiled: round(result.rps, 0) };
    } finally {
      await server.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    profiles[id] = {
      ...profiles[id],
      file: relative(process.cwd(), join(dir, file)),
      ...summariseProfile(join(dir, file)),
    };
    log(`  profiled ${db}/${id}: ${profiles[id].file}`);
  }
  return profiles;
}

export async function guardSection(config, log) {
  const groups = {};
  for (const db of config.databases) {
    log(`guard: ${db}`);
    groups[db] = await measureGroup(db, config, log);
    const { targets } = groups[db];
    const missed = [];
    if (!targets.database.met || !targets.jwtAtLeastDatabase.met) missed.push('session-database');
    if (!targets.jwt.met || !targets.jwtAtLeastDatabase.met) missed.push('session-jwt');
    const toProfile =
      config.profile === 'always' ? CASES.map((c) => c.id) : missed.length ? ['unguarded', ...missed] : [];
    if (config.profile !== 'never' && toProfile.length) {
      log(`guard: profiling ${db} (${toProfile.join(', ')})`);
      groups[db].profiles = await profileGroup(db, toProfile, config, log);
    }
  }
  if (config.databases.includes('postgres')) await dropPostgres('arraf_bench_guard');
  const loads = Object.values(groups).flatMap((g) =>
    Object.values(g.cases).flatMap((c) => c.rounds.map((r) => r.loadAverage)),
  );
  return {
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    settings: {
      seconds: config.seconds,
      rounds: config.rounds,
      warmup: config.warmup,
      connections: config.connections,
      platform: 'express',
      ...(config.baselineDir ? { baselineDir: config.baselineDir } : {}),
    },
    groups,
  };
}
