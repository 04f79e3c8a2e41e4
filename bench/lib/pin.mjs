// BENCH_PIN=1: the application under test gets a core of its own. Every benchmark application is
// pinned to the last core, and the bench process (the load generator) and the PostgreSQL server to the
// others, with `taskset` (util-linux), so that a ratio of two applications does not move with whatever
// the scheduler puts beside them. On the 2-core bench machine it did not narrow the per-round spread
// (bench/notes.md, runs of 2026-11-30 morning); it is kept for machines with more cores. The pins of the
// PostgreSQL server are put back when the run ends. Linux only; off by default, and a run records
// whether it was on.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const PINNED = process.env.BENCH_PIN === '1';
const cores = availableParallelism();
const APP_CORE = String(cores - 1);
const OTHER_CORES = cores > 2 ? `0-${cores - 2}` : '0';
const ALL_CORES = `0-${cores - 1}`;

function taskset(cpus, pid) {
  // -a: every thread the process has now; threads it starts later inherit from their creator.
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function postgresPids() {
  try {
    return execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // no PostgreSQL server on this machine (pgrep exits 1 when nothing matches)
  }
}

/** Pins a benchmark application to its core (when BENCH_PIN=1). */
export function pinApplication(pid) {
  if (PINNED) taskset(APP_CORE, pid);
}

/**
 * Pins this process and the PostgreSQL server (its postmaster, so new backends inherit) to the other
 * cores, and returns what undoes the server's pins. Nothing when BENCH_PIN is not 1.
 */
export function pinLoadAndDatabase() {
  if (!PINNED) return () => {};
  if (cores < 2) throw new Error('BENCH_PIN=1 needs at least two cores');
  taskset(OTHER_CORES, process.pid);
  const pids = postgresPids();
  for (const pid of pids) taskset(OTHER_CORES, pid);
  return () => {
    for (const pid of postgresPids()) taskset(ALL_CORES, pid);
  };
}

/** What the report says of the placement. */
export function placement() {
  return PINNED ? { pinned: true, applicationCore: APP_CORE, loadAndDatabaseCores: OTHER_CORES } : { pinned: false };
}
