import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// These run the built package with plain `node` (not Jest's module loader), the way an application
// loads it: a CommonJS dependency imported the wrong way under ESM only fails here. `npm test` builds first.
const root = process.cwd();

function runNode(source: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: root, encoding: 'utf8', env });
}

/**
 * Boots an application context with `ArrafAuthModule.forRoot` under NODE_ENV=production, `sms` given by
 * the expression `sms` (or left out), and prints `started` or the boot error's message as JSON.
 */
function bootInProduction(sms: string | undefined): { started?: true; error?: string } {
  const out = runNode(
    `
    import 'reflect-metadata';
    import { Module } from '@nestjs/common';
    import { NestFactory } from '@nestjs/core';
    import { TypeOrmModule } from '@nestjs/typeorm';
    import { ArrafAuthModule, ARRAF_AUTH_ENTITIES, ConsoleSmsProvider, UnifonicSmsProvider } from '@arraf-auth/nestjs';
    class App {}
    Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: ARRAF_AUTH_ENTITIES, synchronize: true }),
        ArrafAuthModule.forRoot({ secret: 'Jq3vX8_rT2mWk9LpZ4sNc7YdHb6FgE1uAo5iKy0tRwQ'${sms ? `, sms: ${sms}` : ''} }),
      ],
    })(App);
    try {
      const app = await NestFactory.createApplicationContext(App, { logger: false, abortOnError: false });
      await app.close();
      console.log(JSON.stringify({ started: true }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }
  `,
    { ...process.env, NODE_ENV: 'production' },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!);
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
        forRootAsync: typeof lib.ArrafAuthModule.forRootAsync, entities: lib.ARRAF_AUTH_ENTITIES.map((e) => e.name),
        migrations: lib.ARRAF_AUTH_MIGRATIONS.map((m) => m.name), phone: lib.normalizePhone('055 123 4567') }));
    `);
    expect(JSON.parse(out)).toEqual({
      missing: [],
      forRoot: 'function',
      forRootAsync: 'function',
      entities: [
        'User',
        'Session',
        'Account',
        'Verification',
        'TwoFactor',
        'TwoFactorProof',
        'Passkey',
        'SecurityEvent',
        'SignInMethodMarks',
      ],
      migrations: [
        'ArrafAuthInit1732700000000',
        'ArrafAuthVerificationLookups1732900000000',
        'ArrafAuthTwoFactor1795968100000',
        'ArrafAuthSecurityEvents1796100000000',
        'ArrafAuthSignInMethods1796200000000',
      ],
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

describe('production defaults at boot (NODE_ENV=production)', () => {
  const ONE_LINE = /^ArrafAuthModule: invalid option sms: [^\n]+$/;

  it('stops with one line naming `sms` when no SMS provider is configured', () => {
    const { error } = bootInProduction(undefined);
    expect(error).toMatch(ONE_LINE);
    expect(error).toContain('is not set, so ConsoleSmsProvider would write sign-in codes to the log');
    expect(error).toContain('new ConsoleSmsProvider({ allowInProduction: true })');
  });

  it('stops with one line naming `sms` when ConsoleSmsProvider is given', () => {
    const { error } = bootInProduction('new ConsoleSmsProvider()');
    expect(error).toMatch(ONE_LINE);
    expect(error).toContain('ConsoleSmsProvider would write sign-in codes to the log with NODE_ENV=production');
  });

  it('starts when the application provides SMS_PROVIDER itself (overrideProvider in its tests), without `sms`', () => {
    const out = runNode(
      `
      import 'reflect-metadata';
      import { Test } from '@nestjs/testing';
      import { TypeOrmModule } from '@nestjs/typeorm';
      import { ArrafAuthModule, ARRAF_AUTH_ENTITIES, SMS_PROVIDER } from '@arraf-auth/nestjs';
      const sent = [];
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: ARRAF_AUTH_ENTITIES, synchronize: true }),
          ArrafAuthModule.forRoot({ secret: 'Jq3vX8_rT2mWk9LpZ4sNc7YdHb6FgE1uAo5iKy0tRwQ' }),
        ],
      })
        .overrideProvider(SMS_PROVIDER)
        .useValue({ send: async (message) => (sent.push(message), { success: true }) })
        .compile();
      console.log(JSON.stringify({ started: moduleRef.get(SMS_PROVIDER).send !== undefined }));
      await moduleRef.close();
    `,
      { ...process.env, NODE_ENV: 'production' },
    );
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ started: true });
  });

  it('starts with the explicit staging opt-in, or with a real provider', () => {
    expect(bootInProduction('new ConsoleSmsProvider({ allowInProduction: true })')).toEqual({ started: true });
    expect(bootInProduction("new UnifonicSmsProvider({ appSid: 'app-sid-0123456789' })")).toEqual({ started: true });
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
