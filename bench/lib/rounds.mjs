// Alternating rounds for the sections that compare several applications in one run (`cache`,
// `peers`, `ab`): every case is its own process, all are started once, then each round runs every
// case for `config.seconds` in a rotated order, and ratios are taken to the group's `unguarded`
// case round by round and as medians. Used by cache.mjs, peers.mjs and ab.mjs.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { drive, median, round } from './load.mjs';
import { summariseProfile } from './profile.mjs';
import { sleep, startServer } from './servers.mjs';

export const FIXED_ID = '00000000-0000-4000-8000-000000000000';

const headersOf = (testCase, server) =>
  testCase.credential === 'bearer' ? { authorization: `Bearer ${server.bearer}` } : { cookie: server.cookie };

async function cpuMicros(server) {
  const { usage } = await server.call('cpu', {}, 10_000);
  return usage.user + usage.system;
}

/** 200 with the signed-in user's id (the fixed id on unguarded routes), and 401 without credentials. */
async function sanityCheck(testCase, server) {
  const response = await fetch(server.url(testCase.path), { headers: headersOf(testCase, server) });
  const body = await response.json();
  const expected = testCase.unguarded ? FIXED_ID : server.userId;
  if (response.status !== 200 || body.id !== expected) {
    throw new Error(`${testCase.id}: expected 200 with id ${expected}, got ${response.status} ${JSON.stringify(body)}`);
  }
  if (!testCase.unguarded && (await fetch(server.url(testCase.path))).status !== 401) {
    throw new Error(`${testCase.id}: expected 401 without credentials`);
  }
}

async function runCase(testCase, server, config, seconds) {
  const cpuBefore = await cpuMicros(server);
  const result = await drive({
    url: server.url(testCase.path),
    headers: headersOf(testCase, server),
    seconds,
    connections: config.connections,
  }).done;
  if (result.unexpectedStatus || result.errors || result.timeouts) {
    throw new Error(
      `${testCase.id}: ${result.unexpectedStatus} unexpected, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  result.cpuPerRequest = ((await cpuMicros(server)) - cpuBefore) / result.count;
  result.loadAverage = round(loadavg()[0], 2);
  return result;
}

const startCase = (testCase, profileDir) => startServer({ ...testCase.server, profileDir });

/**
 * Measures `cases` (each `{ id, label, path, credential, unguarded?, server: startServer options }`)
 * over alternating rounds. `unguarded` must be one of the ids. `after(servers)` may collect more
 * figures from the running processes (cache statistics) before they stop.
 */
export async function measureCases(name, cases, config, log, after) {
  const servers = {};
  try {
    for (const testCase of cases) {
      servers[testCase.id] = await startCase(testCase);
      await sanityCheck(testCase, servers[testCase.id]);
    }
    for (const testCase of cases) await runCase(testCase, servers[testCase.id], config, config.warmup);
    const rounds = [];
    for (let r = 0; r < config.rounds; r++) {
      const results = {};
      for (let i = 0; i < cases.length; i++) {
        const testCase = cases[(i + r) % cases.length];
        await sleep(config.pauseMs);
        results[testCase.id] = await runCase(testCase, servers[testCase.id], config, config.seconds);
      }
      rounds.push(results);
      log(
        `  ${name} round ${r + 1}/${config.rounds}: ` +
          cases.map((c) => `${c.id} ${Math.round(results[c.id].rps)}/s`).join(', ') +
          ` (load ${loadavg()[0].toFixed(1)})`,
      );
    }
    const extra = after ? await after(servers) : {};
    return { ...summarise(rounds, cases), ...extra };
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
}

function summarise(rounds, caseList) {
  const cases = {};
  const reference = median(rounds.map((r) => r.unguarded.rps));
  for (const testCase of caseList) {
    const perRound = rounds.map((r) => r[testCase.id]);
    const rps = median(perRound.map((r) => r.rps));
    cases[testCase.id] = {
      label: testCase.label,
      rps: round(rps, 0),
      p50: round(median(perRound.map((r) => r.p50)), 3),
      p99: round(median(perRound.map((r) => r.p99)), 3),
      ratio: round(rps / reference, 3),
      roundRatios: rounds.map((r) => round(r[testCase.id].rps / r.unguarded.rps, 3)),
      cpuPerRequest: round(median(perRound.map((r) => r.cpuPerRequest)), 1),
      roundRps: perRound.map((r) => round(r.rps, 0)),
    };
  }
  const loads = rounds.flatMap((r) => Object.values(r).map((x) => x.loadAverage));
  return { cases, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, rounds: rounds.length };
}

/** Median over rounds of `a`'s requests/s divided by `b`'s in the same round. */
export function pairRatio(group, a, b) {
  const ra = group.cases[a].roundRps;
  const rb = group.cases[b].roundRps;
  return round(median(ra.map((x, i) => x / rb[i])), 3);
}

/** One profiled run (`node --cpu-prof`) per case id, for a missed target. */
export async function profileCases(name, cases, ids, config, log) {
  const profiles = {};
  for (const id of ids) {
    const testCase = cases.find((c) => c.id === id);
    const dir = join(config.profileDir, `${name}-${id}`.replace(/[^a-z0-9@+-]/gi, '_'));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const server = await startCase(testCase, dir);
    let rps;
    try {
      await runCase(testCase, server, config, config.warmup);
      rps = (await runCase(testCase, server, config, config.seconds * 2)).rps;
    } finally {
      await server.stop();
    }
    const file = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.cpuprofile')),
    );
    profiles[id] = { rpsWhileProfiled: round(rps, 0), file: relative(process.cwd(), file), ...summariseProfile(file) };
    log(`  profiled ${name}/${id}: ${profiles[id].file}`);
  }
  return profiles;
}
