// `npm run bench`: builds the library (the npm script does), then measures and writes
// bench/results.json and bench/results.md. Not part of `npm test`.
//
//   npm run bench                      everything (about 10-15 minutes on 2 cores)
//   npm run bench -- --only=guard      a subset: guard, breakdown, argon2, scale, cleanup, memory,
//                                      peers, cache, cache-memory, revocation, ab (comma-separated)
//   npm run bench -- --profile         also CPU-profile every guard case (otherwise only on a missed target)
//   npm run bench -- --no-profile      never profile
//
//   npm run bench -- --report-only     rewrite results.md from results.json (and bench/notes.md)
//
// Environment: BENCH_SECONDS (4) per measured run, BENCH_ROUNDS (7), BENCH_WARMUP (3) seconds,
// BENCH_CONNECTIONS (10), BENCH_DATABASES (sqlite,postgres), BENCH_SCALE_ROWS (1000000),
// BENCH_CLEANUP_ROWS (1000000), BENCH_MEMORY_REQUESTS (100000), BENCH_POSTGRES_URL (an admin URL;
// the bench creates and drops its own databases arraf_bench_*), BENCH_BASELINE_DIR (another build's
// dist/ folder inside this package: the SessionGuard cases are measured on it too, for before/after;
// section `ab` uses it instead of building BENCH_AB_REV, default 0dd68c7), BENCH_PLATFORMS
// (express,fastify: section `cache`), BENCH_REVOCATIONS (1000), BENCH_REDIS_URL (redis://127.0.0.1:6379).
// BENCH_PIN=1 gives the applications a core of their own (bench/lib/pin.mjs).
// Section `peers` installs bench/peers/ (better-auth, @thallesp/nestjs-better-auth) when missing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argon2Section } from './lib/argon2.mjs';
import { breakdownSection } from './lib/breakdown.mjs';
import { abSection } from './lib/ab.mjs';
import { cacheMemorySection, cacheSection } from './lib/cache.mjs';
import { guardSection } from './lib/guard.mjs';
import { peersSection } from './lib/peers.mjs';
import { revocationSection } from './lib/revocation.mjs';
import { cleanupSection, memorySection, scaleSection } from './lib/database.mjs';
import { PINNED, placement, pinLoadAndDatabase } from './lib/pin.mjs';
import { environment, writeMarkdown } from './lib/report.mjs';

const BENCH_DIR = new URL('.', import.meta.url).pathname;
const SECTIONS = [
  'guard',
  'breakdown',
  'argon2',
  'scale',
  'cleanup',
  'memory',
  'peers',
  'cache',
  'cache-memory',
  'revocation',
  'ab',
];

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const selected = only ? only.split(',').map((s) => s.trim()) : SECTIONS;
for (const name of selected) if (!SECTIONS.includes(name)) throw new Error(`unknown section ${name} (${SECTIONS})`);

const int = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const config = {
  seconds: int('BENCH_SECONDS', 4),
  rounds: int('BENCH_ROUNDS', 7),
  warmup: int('BENCH_WARMUP', 3),
  connections: int('BENCH_CONNECTIONS', 10),
  pauseMs: 500,
  databases: (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(','),
  scaleRows: int('BENCH_SCALE_ROWS', 1_000_000),
  cleanupRows: int('BENCH_CLEANUP_ROWS', 1_000_000),
  memoryRequests: int('BENCH_MEMORY_REQUESTS', 100_000),
  profile: args.includes('--no-profile') ? 'never' : args.includes('--profile') ? 'always' : 'on-miss',
  tmpDir: join(tmpdir(), `arraf-bench-${process.pid}`),
  profileDir: join(BENCH_DIR, 'profiles'),
  benchDir: BENCH_DIR,
  baselineDir: process.env.BENCH_BASELINE_DIR,
};

const started = Date.now();
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);

const jsonFile = join(BENCH_DIR, 'results.json');
if (args.includes('--report-only')) {
  writeMarkdown(join(BENCH_DIR, 'results.md'), JSON.parse(readFileSync(jsonFile, 'utf8')));
  process.exit(0);
}
// A subset run replaces only its sections; the others keep their earlier figures and dates.
const previous = only && existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : { sections: {} };
const unpin = pinLoadAndDatabase();
process.once('exit', unpin);
const env = await environment();
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const results = { ...previous, environment: env, sections: { ...previous.sections } };

const runners = {
  guard: guardSection,
  breakdown: breakdownSection,
  argon2: argon2Section,
  scale: scaleSection,
  cleanup: cleanupSection,
  memory: memorySection,
  peers: peersSection,
  cache: cacheSection,
  'cache-memory': cacheMemorySection,
  revocation: revocationSection,
  ab: abSection,
};
for (const name of SECTIONS) {
  if (!selected.includes(name)) continue;
  const sectionStarted = Date.now();
  log(`section ${name}`);
  const data = await runners[name](config, log);
  results.sections[name] = {
    measuredAt: new Date().toISOString(),
    command: `${PINNED ? 'BENCH_PIN=1 ' : ''}${command}`,
    placement: placement(),
    durationSeconds: Math.round((Date.now() - sectionStarted) / 1000),
    ...data,
  };
  // Written after every section, so an interrupted run keeps what it measured.
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeMarkdown(join(BENCH_DIR, 'results.md'), results);
}
log(`done: ${join(BENCH_DIR, 'results.md')}`);
process.exit(0);
