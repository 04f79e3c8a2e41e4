import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// These run the built package with plain `node` (not Jest's module loader), the way an application
// loads it: a CommonJS dependency imported the wrong way under ESM only fails here. `npm test` builds first.
const root = process.cwd();

function runNode(source: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: root, encoding: 'utf8' });
}

describe('built package under plain node', () => {
  it('has been built (npm test runs npm run build first)', () => {
    expect(existsSync(join(root, 'dist/index.js'))).toBe(true);
    expect(existsSync(join(root, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(root, 'dist/testing/index.d.ts'))).toBe(true);
  });

  it('exports every public symbol SPEC §2 names from the package root', () => {
    const out = runNode(`
      import * as lib from '@arraf-auth/nestjs';
      const wanted = [
        // SPEC §2, every symbol it names
        'ArrafAuthModule', 'SessionService', 'SessionGuard', 'CurrentUser', 'CurrentSession', 'Public',
        'OtpService', 'PasswordService', 'AuthService', 'OtpStrategy', 'OtpAuthGuard', 'PasswordStrategy',
        'PasswordAuthGuard', 'OAuthStrategy', 'OAuthAuthGuard', 'User', 'Session', 'Account', 'Verification',
        'ARRAF_AUTH_ENTITIES', 'ARRAF_AUTH_MIGRATIONS', 'ARRAF_AUTH_OPTIONS', 'SMS_PROVIDER', 'ConsoleSmsProvider',
        'UnifonicSmsProvider', 'TaqnyatSmsProvider', 'MsegatSmsProvider', 'TwilioSmsProvider', 'google', 'github',
        'oidc', 'normalizePhone',
        // and the rest of the public surface applications use
        'ArrafAuthException', 'ArrafAuthExceptionFilter', 'RequireFreshSession', 'arrafAuthEntities',
      ];
      const missing = wanted.filter((name) => lib[name] === undefined);
      console.log(JSON.stringify({ missing, forRoot: typeof lib.ArrafAuthModule.forRoot,
        forRootAsync: typeof lib.ArrafAuthModule.forRootAsync, entities: lib.ARRAF_AUTH_ENTITIES.length,
        migrations: lib.ARRAF_AUTH_MIGRATIONS.length, phone: lib.normalizePhone('055 123 4567') }));
    `);
    expect(JSON.parse(out)).toEqual({
      missing: [],
      forRoot: 'function',
      forRootAsync: 'function',
      entities: 4,
      migrations: 2,
      phone: '+966551234567',
    });
  });

  it('exports the testing kit from @arraf-auth/nestjs/testing', () => {
    const out = runNode(`
      import { createTestSession, InMemorySmsProvider } from '@arraf-auth/nestjs/testing';
      const sms = new InMemorySmsProvider();
      await sms.send({ to: '+966551234567', code: '123456', message: 'x' });
      console.log(typeof createTestSession, sms.lastCodeFor('+966551234567'));
    `);
    expect(out.trim()).toBe('function 123456');
  });

  it('prints a new 256-bit secret with the arraf-auth bin', () => {
    const first = execFileSync(process.execPath, ['dist/cli/arraf-auth.cli.js', 'secret'], {
      cwd: root,
      encoding: 'utf8',
    });
    const second = execFileSync(process.execPath, ['dist/cli/arraf-auth.cli.js', 'secret'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(first.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.trim(), 'base64url')).toHaveLength(32);
    expect(first).not.toBe(second);
  });
});

describe('sample app under plain node', () => {
  const port = 39000 + Math.floor(Math.random() * 1000);
  const dbFile = join(tmpdir(), `arraf-sample-${port}.db`);
  let child: ChildProcess;
  let log = '';

  beforeAll(async () => {
    child = spawn(process.execPath, ['dist-sample/sample/main.js'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${dbFile}`, NODE_ENV: 'development' },
    });
    child.stdout?.on('data', (d) => (log += d));
    child.stderr?.on('data', (d) => (log += d));
    const deadline = Date.now() + 30_000;
    while (!log.includes('listening on') && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`sample exited early:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!log.includes('listening on')) throw new Error(`sample did not start:\n${log}`);
  });

  afterAll(() => {
    child?.kill();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  it('serves /health without a session and refuses /me with 401 in the error shape', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const me = await fetch(`http://127.0.0.1:${port}/me`);
    expect(me.status).toBe(401);
    expect(await me.json()).toEqual({
      error: { code: 'UNAUTHENTICATED', en: expect.any(String), ar: expect.any(String) },
    });
  });

  it('applied the migrations at start', async () => {
    const session = await fetch(`http://127.0.0.1:${port}/auth/session`);
    expect(await session.json()).toEqual({ user: null, session: null });
    const out = runNode(`
      import Database from 'better-sqlite3';
      const db = new Database(${JSON.stringify(dbFile)}, { readonly: true });
      console.log(db.prepare("select name from sqlite_master where type = 'table' order by name").all().map((r) => r.name).join(','));
    `);
    expect(out.trim().split(',')).toEqual(
      expect.arrayContaining(['users', 'sessions', 'accounts', 'verifications', 'migrations']),
    );
  });
});
