// Section `argon2`: argon2id hash and verify time at the library's parameters, the event-loop delay
// while 8 run at once, and what bursts of 8 hashes do to guarded requests served by the same process.
import argon2 from 'argon2';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { freshSqlite } from './db.mjs';
import { drive, latencySummary, round } from './load.mjs';
import { startServer } from './servers.mjs';

const PARAMETERS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

async function timed(work) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function summary(values) {
  const s = latencySummary(values);
  return { median: round(s.p50, 2), p90: round(s.p90, 2), runs: s.count };
}

async function concurrently(count, work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const wallMs = await timed(() => Promise.all(Array.from({ length: count }, (_, i) => work(i))));
  histogram.disable();
  const ms = (ns) => round(ns / 1e6, 2);
  return {
    wallMs: round(wallMs, 1),
    loopDelay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
  };
}

export async function argon2Section(config, log) {
  const hash = await argon2.hash('correct horse battery staple', PARAMETERS);
  for (let i = 0; i < 3; i++) await argon2.verify(hash, 'correct horse battery staple');

  const runs = 20;
  const hashTimes = [];
  const verifyTimes = [];
  for (let i = 0; i < runs; i++) {
    hashTimes.push(await timed(() => argon2.hash(`password-${i}`, PARAMETERS)));
    verifyTimes.push(await timed(() => argon2.verify(hash, 'correct horse battery staple')));
  }
  log(`  argon2 sequential done`);

  const concurrent = {
    'hash ×8': await concurrently(8, (i) => argon2.hash(`password-${i}`, PARAMETERS)),
    'verify ×8': await concurrently(8, () => argon2.verify(hash, 'correct horse battery staple')),
    'idle (reference, 250 ms)': await concurrently(1, () => new Promise((resolve) => setTimeout(resolve, 250))),
  };

  // Bursts of 8 hashes inside an application that is serving guarded requests.
  const dbUrl = await freshSqlite(config.tmpDir, 'argon2.db');
  const server = await startServer({ db: 'sqlite', dbUrl, strategy: 'jwt' });
  let underLoad;
  try {
    const target = { url: server.url('/session'), headers: { cookie: server.cookie }, connections: config.connections };
    await drive({ ...target, seconds: config.warmup }).done;
    const baseline = await drive({ ...target, seconds: config.seconds }).done;
    const load = drive({ ...target, seconds: 600 });
    const bursts = 10;
    let burstMs = 0;
    for (let i = 0; i < bursts; i++) burstMs += (await server.call('argon2', { count: 8 })).ms;
    load.stop();
    const during = await load.done;
    const pick = (r) => ({ rps: round(r.rps, 0), p50: round(r.p50, 3), p99: round(r.p99, 3), max: round(r.max, 2) });
    underLoad = { bursts, burstMs: round(burstMs / bursts, 1), baseline: pick(baseline), during: pick(during) };
  } finally {
    await server.stop();
  }

  return {
    version: JSON.parse(readFileSync(new URL('../../node_modules/argon2/package.json', import.meta.url), 'utf8'))
      .version,
    parameters: {
      memoryCost: PARAMETERS.memoryCost,
      timeCost: PARAMETERS.timeCost,
      parallelism: PARAMETERS.parallelism,
    },
    threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    sequential: { hash: summary(hashTimes), verify: summary(verifyTimes) },
    concurrent,
    underLoad,
  };
}
