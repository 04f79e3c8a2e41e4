import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The built sample (`dist-sample/sample/main.js`, built by `npm test`) run with plain `node`, the way
 * a developer runs it, on a free port with a temporary SQLite file, its log captured.
 */
export interface SampleProcess {
  port: number;
  /** `http://localhost:<port>`, the default APP_URL. */
  url: string;
  databaseUrl: string;
  /** Everything the process printed so far, without colours. */
  log(): string;
  /** Waits for `pattern` in the log after character `from`, e.g. `sample.log().length` taken before an action. */
  waitForLog(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * The code the ConsoleSmsProvider printed for `phone` after log position `from`: the whole E.164
   * number in development, the masked one (`+9665****4567`) with NODE_ENV=production.
   */
  smsCode(phone: string, from: number): Promise<string>;
  /** The code or link the development mail outbox logged for `email` after log position `from`. */
  mail(email: string, kind: 'verify-email' | 'reset-password', from: number): Promise<string>;
  stop(): Promise<void>;
}

const root = process.cwd();

/** Variables the sample reads; unset unless a test passes them, whatever the developer's shell has. */
const SAMPLE_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'DATABASE_URL',
  'AUTH_SECRET',
  'APP_URL',
  'OIDC_ISSUER',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'GITHUB_CLIENT_ID',
  'GITHUB_CLIENT_SECRET',
  'ALLOW_CONSOLE_DELIVERY',
];

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function tempSqliteUrl(): { url: string; remove(): void } {
  const file = join(tmpdir(), `arraf-sample-${randomBytes(5).toString('hex')}.db`);
  return {
    url: `sqlite:${file}`,
    remove: () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    },
  };
}

function sampleEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of SAMPLE_VARIABLES) delete base[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) base[name] = value;
  return base;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Starts the sample and resolves once it has logged where it listens (or rejects with its output). */
export async function startSample(env: Record<string, string | undefined> = {}): Promise<SampleProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const db = env.DATABASE_URL ? undefined : tempSqliteUrl();
  const databaseUrl = env.DATABASE_URL ?? db!.url;
  const child: ChildProcess = spawn(process.execPath, ['dist-sample/sample/main.js'], {
    cwd: root,
    env: sampleEnv({ NODE_ENV: 'development', ...env, PORT: String(port), DATABASE_URL: databaseUrl }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8').replace(ANSI, '')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8').replace(ANSI, '')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const sample: SampleProcess = {
    port,
    url: `http://localhost:${port}`,
    databaseUrl,
    log: () => output,
    async waitForLog(pattern, from = 0, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.slice(from).match(pattern);
        if (match) return match;
        if (child.exitCode !== null)
          throw new Error(`the sample exited (${child.exitCode}) before logging ${pattern}:\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`the sample did not log ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async smsCode(phone, from) {
      const match = await sample.waitForLog(new RegExp(`SMS to ${escapeRegExp(phone)}: code (\\d+)`), from);
      return match[1];
    },
    async mail(email, kind, from) {
      const match = await sample.waitForLog(
        new RegExp(`Mail to ${escapeRegExp(email)}: ${kind} (?:code|link) (\\S+)`),
        from,
      );
      return match[1];
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      db?.remove();
    },
  };

  try {
    await sample.waitForLog(/listening on http:\/\/localhost:\d+[^]*Sign-in page: /, 0, 30_000); // the last start-up line
  } catch (error) {
    await sample.stop();
    throw error;
  }
  return sample;
}

/** Runs the sample (in `cwd`, default the repository) expecting it to refuse to start; resolves with its exit code and output. */
export async function runSampleToExit(
  env: Record<string, string | undefined>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const { cwd = root, timeoutMs = 20_000 } = options;
  const child = spawn(process.execPath, [join(root, 'dist-sample/sample/main.js')], {
    cwd,
    env: sampleEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8').replace(ANSI, '')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8').replace(ANSI, '')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}
