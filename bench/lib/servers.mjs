// Starts benchmark applications in child processes and talks to them over IPC.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { pinApplication } from './pin.mjs';

const SERVER = new URL('./server.mjs', import.meta.url);
export const BENCH_SECRET = 'Zq7vK2pW9xR4mT8nB3cY6hJ1dF5gL0sA-benchOnly_u7Qe';

function waitForMessage(child, type, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${type}' message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => message?.type === type && done(null, message);
    const onExit = (code, signal) => done(new Error(`child exited (${code ?? signal}) before '${type}'`));
    function done(error, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Forks bench/lib/server.mjs (or `script`, e.g. the better-auth peer) for one case. `profileDir` turns on `--cpu-prof`.
 * Resolves when the app listens and its test session exists.
 */
export async function startServer({ db, dbUrl, strategy, profileDir, env = {}, script = SERVER, execArgv = [] }) {
  const child = fork(script, [], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_DB: db,
      BENCH_DB_URL: dbUrl,
      BENCH_STRATEGY: strategy,
      BENCH_SECRET,
      ...env,
    },
    execArgv: [...execArgv, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pinApplication(child.pid);
  const ready = await waitForMessage(child, 'ready');
  return {
    child,
    pid: child.pid,
    port: ready.port,
    cookie: ready.cookie,
    bearer: ready.bearer,
    userId: ready.userId,
    url: (path) => `http://127.0.0.1:${ready.port}${path}`,
    /** Sends `{ type, ...payload }` and resolves with the child's reply of the same type. */
    call(type, payload = {}, timeoutMs = 600_000) {
      const reply = waitForMessage(child, type, timeoutMs);
      child.send({ type, ...payload });
      return reply;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a plain `node <script>` process (the sample app). */
export function startProcess(script, env) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  pinApplication(child.pid);
  return child;
}

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
