// Section `ab` (issue 13 item 9): SessionGuard on the current build against the whole library as
// it was before the re-cut (BENCH_AB_REV, default 0dd68c7, built by bench/lib/baseline.mjs, or
// BENCH_BASELINE_DIR when given), `database` and `jwt` strategies, cache off (the old build has
// none), SQLite and PostgreSQL, Express, in the same run with alternating rounds.
import { relative } from 'node:path';
import { buildBaselineTree } from './baseline.mjs';
import { dropPostgres, freshPostgres, freshSqlite } from './db.mjs';
import { measureCases, pairRatio } from './rounds.mjs';

/** "No slower": the current build's requests/s at least this share of the old build's, median of per-round ratios. */
export const AB_TOLERANCE = 0.95;

function casesFor(db, dbUrl, baselineDir) {
  const server = (strategy, library) => ({
    db,
    dbUrl,
    strategy,
    env: library ? { BENCH_LIBRARY_DIR: library } : {},
  });
  return [
    {
      id: 'unguarded',
      label: 'Unguarded route (current build)',
      path: '/unguarded',
      unguarded: true,
      server: server('jwt'),
    },
    { id: 'database', label: 'SessionGuard `database`, current build', path: '/session', server: server('database') },
    {
      id: 'database@before',
      label: 'SessionGuard `database`, build before',
      path: '/session',
      server: server('database', baselineDir),
    },
    { id: 'jwt', label: 'SessionGuard `jwt`, current build', path: '/session', server: server('jwt') },
    {
      id: 'jwt@before',
      label: 'SessionGuard `jwt`, build before',
      path: '/session',
      server: server('jwt', baselineDir),
    },
  ];
}

export async function abSection(config, log) {
  const rev = process.env.BENCH_AB_REV ?? '0dd68c7';
  const baseline = config.baselineDir
    ? { dist: config.baselineDir, commit: 'BENCH_BASELINE_DIR' }
    : buildBaselineTree(rev, log);
  const groups = {};
  for (const db of config.databases) {
    log(`ab: ${db}`);
    const dbUrl = db === 'sqlite' ? await freshSqlite(config.tmpDir, 'ab.db') : await freshPostgres('arraf_bench_ab');
    const group = await measureCases(`ab-${db}`, casesFor(db, dbUrl, baseline.dist), config, log);
    group.comparisons = {};
    for (const strategy of ['database', 'jwt']) {
      const now = group.cases[strategy];
      const before = group.cases[`${strategy}@before`];
      const ratio = pairRatio(group, strategy, `${strategy}@before`);
      group.comparisons[strategy] = {
        rpsRatio: ratio,
        cpuPerRequestNow: now.cpuPerRequest,
        cpuPerRequestBefore: before.cpuPerRequest,
        noSlower: ratio >= AB_TOLERANCE,
      };
    }
    groups[db] = group;
  }
  if (config.databases.includes('postgres')) await dropPostgres('arraf_bench_ab');
  return {
    baseline: { rev, commit: baseline.commit, dist: relative(process.cwd(), baseline.dist) },
    tolerance: AB_TOLERANCE,
    settings: {
      seconds: config.seconds,
      rounds: config.rounds,
      warmup: config.warmup,
      connections: config.connections,
      platform: 'express',
    },
    groups,
  };
}
