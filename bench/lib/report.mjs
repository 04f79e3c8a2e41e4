// The environment a run measured on, and bench/results.md from bench/results.json.
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { POSTGRES_ADMIN_URL, withPostgres } from './db.mjs';
import {
  abMarkdown,
  cacheMarkdown,
  cacheMemoryMarkdown,
  peersMarkdown,
  revocationMarkdown,
  targetsMarkdown,
} from './report-cache.mjs';

const PACKAGES = [
  '@nestjs/core',
  '@nestjs/platform-express',
  'express',
  'typeorm',
  'pg',
  'better-sqlite3',
  '@nestjs/jwt',
  'jsonwebtoken',
  '@nestjs/passport',
  'passport-jwt',
  'argon2',
  'autocannon',
  '@nestjs/platform-fastify',
  'lru-cache',
  'ioredis',
];

function version(name) {
  try {
    return JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'))
      .version;
  } catch {
    return 'not installed';
  }
}

export async function environment() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let postgres = 'unavailable';
  try {
    postgres = await withPostgres(
      POSTGRES_ADMIN_URL,
      async (c) => (await c.query('SHOW server_version')).rows[0].server_version,
    );
  } catch {
    // PostgreSQL sections report their own failure.
  }
  const memory = new Database(':memory:');
  const sqlite = memory.prepare('select sqlite_version() as v').get().v;
  memory.close();
  return {
    date: new Date().toISOString(),
    cpu: model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    sqlite,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, version(name)])),
  };
}

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const yes = (met) => (met ? '**met**' : '**missed**');

function guardMarkdown(section) {
  const out = [];
  const s = section.settings;
  out.push(
    `Express, ${s.connections} connections, ${s.rounds} alternating rounds of ${s.seconds} s per case after a ${s.warmup} s ` +
      'warm-up; each case is its own Nest application in its own process, autocannon drives it from the parent ' +
      'process. Figures are medians over the rounds; the ratio is the median requests/s over the unguarded ' +
      "route's median in the same run (per-round ratios in brackets). Latencies in ms.",
    '',
    '| database | case | requests/s | p50 ms | p99 ms | ratio to unguarded (per round) | app CPU µs/request | CPU ratio | PostgreSQL CPU µs/request |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  );
  for (const [db, group] of Object.entries(section.groups)) {
    for (const c of Object.values(group.cases)) {
      out.push(
        `| ${db} | ${c.label} | ${c.rps} | ${fmt(c.p50)} | ${fmt(c.p99)} | ` +
          `**${fmt(c.ratio)}** (${c.roundRatios.map((r) => fmt(r)).join(', ')}) | ${fmt(c.cpuPerRequest, 0)} | ${fmt(c.cpuRatio)} | ${fmt(c.dbCpuPerRequest, 0)} |`,
      );
    }
  }
  out.push(
    '',
    '"App CPU µs/request" is the user + system CPU time of the application process per response (median over ' +
      'the rounds); "CPU ratio" is the unguarded route\'s figure divided by the case\'s, i.e. the throughput ratio ' +
      'the case would reach if the application process alone were the bottleneck. It is much less sensitive to ' +
      'other load on the machine than requests/s. "PostgreSQL CPU µs/request" is the CPU time of the database ' +
      "server's backends for the bench database per response (from /proc), the database's share of the same box.",
  );
  if (section.loadAverage) {
    out.push(
      '',
      `1-minute load average during the run: ${section.loadAverage.min}–${section.loadAverage.max} ` +
        `(2 cores; above ~2.5 other processes were competing for the CPU and requests/s ratios get noisy).`,
    );
  }
  out.push('', '**Targets** (ratio to the unguarded route in the same run):', '');
  for (const [db, group] of Object.entries(section.groups)) {
    const t = group.targets;
    out.push(
      `- ${db}: \`database\` strategy ${fmt(t.database.ratio)} ≥ ${t.minRatio} ${yes(t.database.met)}; ` +
        `\`jwt\` strategy ${fmt(t.jwt.ratio)} ≥ ${t.minRatio} ${yes(t.jwt.met)}; ` +
        `\`jwt\` ≥ \`database\` ${yes(t.jwtAtLeastDatabase.met)} (jwt faster in ${t.jwtAtLeastDatabase.roundsJwtFaster} rounds)`,
    );
  }
  for (const [db, group] of Object.entries(section.groups)) {
    if (!group.profiles) continue;
    out.push('', `#### CPU profiles, ${db} (\`node --cpu-prof\`, one extra run per case; % of non-idle samples)`, '');
    for (const [id, p] of Object.entries(group.profiles)) {
      out.push(`**${id}** (${p.rpsWhileProfiled} requests/s while profiled, ${p.samples} samples)`, '');
      out.push(`By package (self time): ${p.packages.map((x) => `${x.frame} ${x.percent}%`).join(', ')}`, '');
      out.push('| self % | frame |', '| ---: | --- |');
      for (const f of p.top.slice(0, 12)) out.push(`| ${f.percent} | \`${f.frame}\` |`);
      out.push('');
    }
  }
  return out;
}

function breakdownMarkdown(section) {
  const out = [
    `One process, no HTTP; each variant interleaved with the others over ${section.repetitions} repetitions, ` +
      'medians. µs per call: wall time, CPU of this process, and for PostgreSQL the CPU of its backends.',
    '',
    '| what | variant | wall µs | CPU µs | PostgreSQL CPU µs |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const r of section.rows) {
    out.push(`| ${r.group} | ${r.variant} | ${fmt(r.wallUs, 1)} | ${fmt(r.cpuUs, 1)} | ${fmt(r.dbCpuUs, 1)} |`);
  }
  return out;
}

function argon2Markdown(section) {
  const out = [];
  const p = section.parameters;
  out.push(
    `\`argon2\` ${section.version}, argon2id m=${p.memoryCost} KiB, t=${p.timeCost}, p=${p.parallelism}; ` +
      `libuv thread pool of ${section.threadPool}.`,
    '',
    '| operation | median ms | p90 ms | runs |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const [name, r] of Object.entries(section.sequential))
    out.push(`| ${name} | ${fmt(r.median)} | ${fmt(r.p90)} | ${r.runs} |`);
  out.push(
    '',
    'Eight at once (as eight simultaneous sign-ins), with the event-loop delay of the same process ' +
      '(`perf_hooks.monitorEventLoopDelay`, 1 ms resolution, so ~1 ms is the floor):',
    '',
    '| 8 concurrent | wall ms | event-loop delay p50 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const [name, r] of Object.entries(section.concurrent)) {
    out.push(
      `| ${name} | ${fmt(r.wallMs, 0)} | ${fmt(r.loopDelay.p50)} | ${fmt(r.loopDelay.p99)} | ${fmt(r.loopDelay.max)} |`,
    );
  }
  if (section.underLoad) {
    const u = section.underLoad;
    out.push(
      '',
      `Guarded requests (SessionGuard, \`jwt\` strategy, SQLite) while the same application hashes bursts of 8 ` +
        `passwords back to back (${u.bursts} bursts, ${fmt(u.burstMs, 0)} ms each on average):`,
      '',
      '| | requests/s | p50 ms | p99 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| no hashing | ${fmt(u.baseline.rps, 0)} | ${fmt(u.baseline.p50)} | ${fmt(u.baseline.p99)} | ${fmt(u.baseline.max)} |`,
      `| during bursts | ${fmt(u.during.rps, 0)} | ${fmt(u.during.p50)} | ${fmt(u.during.p99)} | ${fmt(u.during.max)} |`,
    );
  }
  return out;
}

function scaleMarkdown(section) {
  const out = [
    'Sequential `SessionService.getSession()` calls in one process (µs per call), PostgreSQL, after a warm-up. ' +
      '"same session" repeats one credential; "random sessions" spreads the calls over seeded rows.',
    '',
    '| session rows | strategy | lookup | p50 µs | p90 µs | p99 µs | mean µs | calls |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of section.measurements) {
    out.push(
      `| ${m.rows.toLocaleString('en-US')} | ${m.strategy} | ${m.lookup} | ${fmt(m.p50, 0)} | ${fmt(m.p90, 0)} | ${fmt(m.p99, 0)} | ${fmt(m.mean, 0)} | ${m.count} |`,
    );
  }
  if (section.plans) {
    out.push('', 'Query plans at the largest size (`EXPLAIN ANALYZE`):', '');
    for (const [name, plan] of Object.entries(section.plans)) out.push(`- ${name}:`, '', '```', ...plan, '```', '');
  }
  return out;
}

function cleanupMarkdown(section) {
  const b = section.baseline;
  const d = section.during;
  return [
    `\`SessionService.deleteExpired()\` on ${section.expiredRows.toLocaleString('en-US')} expired session rows in PostgreSQL, ` +
      `called inside the application process while autocannon drives its guarded route (SessionGuard, \`jwt\` ` +
      `strategy, ${section.connections} connections).`,
    '',
    `- Deleted ${section.deleted.sessions.toLocaleString('en-US')} sessions in ${fmt(section.ms / 1000, 1)} s; ` +
      `${section.remainingRows} row(s) left (the live session).`,
    `- Slowest 1-second window during the deletion: ${section.slowestSecond.responses} responses, max latency ${fmt(section.slowestSecond.max)} ms; ` +
      `errors ${d.errors + d.timeouts + d.unexpectedStatus}.`,
    '',
    '| guarded requests | requests/s | p50 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| before (no deletion) | ${fmt(b.rps, 0)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${fmt(b.max)} |`,
    `| during deleteExpired() | ${fmt(d.rps, 0)} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} |`,
  ];
}

function memoryMarkdown(section) {
  return [
    `The sample app (\`node dist-sample/sample/main.js\`, SQLite, default \`jwt\` strategy), resident set size ` +
      `(VmRSS) of its process; ${section.requests.toLocaleString('en-US')} requests to the guarded \`GET /me\` ` +
      `with ${section.connections} connections (${fmt(section.load.rps, 0)} requests/s, p99 ${fmt(section.load.p99)} ms).`,
    '',
    '| moment | RSS MiB |',
    '| --- | ---: |',
    `| after start (idle 2 s) | ${section.rss.afterStart} |`,
    `| right after ${section.requests.toLocaleString('en-US')} requests | ${section.rss.afterLoad} |`,
    `| 5 s later | ${section.rss.afterIdle} |`,
    `| after another ${section.requests.toLocaleString('en-US')} requests | ${section.rss.afterSecondLoad} |`,
  ];
}

/** A section measured with BENCH_PIN=1 (its command says so) says where the processes ran. */
function pinNote(section) {
  const p = section.placement;
  return p?.pinned
    ? `; applications on core ${p.applicationCore}, load generator and PostgreSQL on ${p.loadAndDatabaseCores}`
    : '';
}

export function writeMarkdown(file, results) {
  const e = results.environment;
  const s = results.sections;
  const out = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.mjs); the raw figures are in [results.json](results.json).',
    '',
    `- Machine: ${e.cpu}, ${e.cores} cores, ${e.memoryGiB} GiB; load generator, application and database on the same box.`,
    `- Node ${e.node}; PostgreSQL ${e.postgres}; SQLite ${e.sqlite}.`,
    `- ${Object.entries(e.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `- Last run: ${e.date}.`,
    '',
  ];
  if (s.cache || s.peers || s.revocation || s['cache-memory']) {
    out.push(
      '## Targets of issue 15',
      '',
      "From the sections below (each row names its section; a row is only as recent as its section's date).",
      '',
      ...targetsMarkdown(s),
      '',
    );
  }
  const sections = [
    ['cache', 'Session cache on and off (issue 15)', cacheMarkdown],
    ['cache-memory', 'Memory of the session cache (issue 15)', cacheMemoryMarkdown],
    ['peers', 'Peers: better-auth, passport-jwt (issue 15)', peersMarkdown],
    ['revocation', 'Revocation across two instances (issue 15)', revocationMarkdown],
    ['ab', 'A/B: SessionGuard now vs before the re-cut (issue 13 item 9)', abMarkdown],
    ['guard', 'Session check: SessionGuard vs an unguarded route and passport-jwt', guardMarkdown],
    ['breakdown', 'Where a session check spends its time', breakdownMarkdown],
    ['argon2', 'Password hashing (argon2id)', argon2Markdown],
    ['scale', '`getSession` latency vs table size', scaleMarkdown],
    ['cleanup', '`deleteExpired()` on expired sessions, under load', cleanupMarkdown],
    ['memory', 'Memory of the sample app', memoryMarkdown],
  ];
  for (const [name, title, render] of sections) {
    if (!s[name]) continue;
    out.push(
      `## ${title}`,
      '',
      `_Measured ${s[name].measuredAt} by \`${s[name].command}\` (${s[name].durationSeconds} s)${pinNote(s[name])}._`,
      '',
    );
    out.push(...render(s[name]), '');
  }
  // Hand-written analysis of the figures (what limits the targets, what was changed and measured).
  const notes = new URL('../notes.md', import.meta.url);
  if (existsSync(notes)) out.push(readFileSync(notes, 'utf8').trim(), '');
  writeFileSync(file, `${out.join('\n').trimEnd()}\n`);
}
