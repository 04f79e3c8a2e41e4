import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request, { type Response } from 'supertest';
import { TEST_SECRET } from '../apps/test-app.js';
import { uniqueEmail, uniquePhone } from '../apps/security-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError, expectTooMany } from './otp.helpers.js';
import { sameSite } from '../helpers/same-site.js';

/**
 * Two instances of an application, each a Nest app in its own Node process (test/apps/instance.mjs,
 * on the built package), on one PostgreSQL database and one Redis: sessions, revocation, OTP codes
 * and rate limits hold across them as they would behind a load balancer.
 */
const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const REDIS_URL = process.env.TEST_REDIS_URL;
const missing = [!POSTGRES_URL && 'TEST_POSTGRES_URL', !REDIS_URL && 'TEST_REDIS_URL'].filter(Boolean);
if (missing.length) process.stdout.write(`multi-instance.spec: SKIPPED: ${missing.join(' and ')} not set\n`);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'test', 'apps', 'instance.mjs');
const GOOD_PASSWORD = 'correct horse battery staple';
const WRONG_PASSWORD = 'Tr0ub4dor & 3 purple elephants';

interface Instance {
  name: string;
  process: ChildProcess;
  port: number;
  /** Every line the instance printed. */
  lines: string[];
  http(): ReturnType<typeof request>;
}

async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    // The child is an ordinary Node process: no Jest VM-modules flag, no colours in its log.
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', INSTANCE: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const onData = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${lines.join('\n')}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${lines.join('\n')}`)));
    child.stdout!.on('data', () => {
      const ready = lines.map((l) => /^READY (\d+)$/.exec(l)).find(Boolean);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
  });
  return { name, process: child, port, lines, http: () => request(`http://127.0.0.1:${port}`) };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.process.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.process.once('exit', resolve));
  instance.process.kill('SIGTERM');
  await exited;
}

/** The code the instance's ConsoleSmsProvider logged for a number (masked as +9665****1234). */
function loggedCode(instance: Instance, e164: string): string | undefined {
  const masked = `${e164.slice(0, 5)}****${e164.slice(-4)}`;
  const line = instance.lines.filter((l) => l.includes(`SMS to ${masked}: code `)).at(-1);
  return line ? /code (\d+)/.exec(line)?.[1] : undefined;
}

function cookieOf(res: Response): string {
  const header = res.headers['set-cookie'] as unknown as string[];
  return header.find((c) => !/=;/.test(c))!.split(';')[0];
}

(missing.length ? describe.skip : describe)('two application instances on one PostgreSQL and one Redis', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    database = await testDatabases()
      .find((db) => db.name === 'postgres')!
      .create();
    const env = {
      DATABASE_URL: (database.options as { url: string }).url,
      REDIS_URL: REDIS_URL!,
      AUTH_SECRET: TEST_SECRET,
      // Per-address limits out of the way: every suite on this Redis shares 127.0.0.1's counters.
      RATE_LIMITS: JSON.stringify({
        'sign-in:account': { limit: 6 },
        'otp-send:ip': { limit: 100000 },
        'otp-verify:ip': { limit: 100000 },
        'sign-in:ip': { limit: 100000 },
      }),
      // The pumping guard's prefix and budget counters would add up across suites on this Redis too.
      OTP: JSON.stringify({
        resendCooldown: 0,
        maxSendsPerHour: 3,
        prefixGuard: { maxSendsPerHour: 1_000_000, minSends: 1_000_000 },
        dailyBudget: 10_000_000,
      }),
    };
    // A applies the migrations; B starts on the migrated database, as a second replica would.
    a = await startInstance('A', { ...env, MIGRATE: '1' });
    b = await startInstance('B', env);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await database?.drop();
  });

  async function signUp(via: Instance): Promise<{ email: string; cookie: string; sessionId: string }> {
    const email = uniqueEmail('replica');
    const res = await via.http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD });
    expect(res.status).toBe(201);
    return { email, cookie: cookieOf(res), sessionId: res.body.session.id };
  }

  it('runs each instance in its own process', () => {
    expect(a.process.pid).not.toBe(b.process.pid);
    expect(a.port).not.toBe(b.port);
  });

  it('accepts on B a session created on A; revoked on B, it is refused on A at once', async () => {
    const user = await signUp(a);
    const onB = await b.http().get('/auth/sessions').set('Cookie', user.cookie);
    expect(onB.status).toBe(200);
    expect(onB.body.sessions).toEqual([expect.objectContaining({ id: user.sessionId, current: true })]);

    const signOut = await b
      .http()
      .post('/auth/sign-out')
      .set(sameSite('https://app.example'))
      .set('Cookie', user.cookie);
    expect(signOut.status).toBe(200);
    expectError(await a.http().get('/auth/sessions').set('Cookie', user.cookie), 401, 'UNAUTHENTICATED');
    expect((await a.http().get('/auth/session').set('Cookie', user.cookie)).body).toEqual({
      user: null,
      session: null,
    });
  });

  it('verifies on B a code sent through A, and the session works on both', async () => {
    const phone = uniquePhone();
    expect((await a.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local })).status).toBe(200);
    const code = loggedCode(a, phone.e164);
    expect(code).toMatch(/^\d{6}$/);
    expect(loggedCode(b, phone.e164)).toBeUndefined();

    const verified = await b.http().post('/auth/otp/verify').send({ method: 'phone', phone: phone.local, otp: code });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ isNewUser: true, user: { phone: phone.e164, phoneVerified: true } });
    const cookie = cookieOf(verified);
    for (const instance of [a, b]) {
      expect((await instance.http().get('/auth/sessions').set('Cookie', cookie)).status).toBe(200);
    }
    // Single use across instances too.
    expectError(
      await a.http().post('/auth/otp/verify').send({ method: 'phone', phone: phone.local, otp: code }),
      400,
      'OTP_INVALID',
    );
  });

  it('counts code requests for a number across both instances (maxSendsPerHour 3)', async () => {
    const phone = uniquePhone();
    const send = (via: Instance) => via.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local });
    expect([(await send(a)).status, (await send(b)).status, (await send(a)).status]).toEqual([200, 200, 200]);
    expectTooMany(await send(b), 'RATE_LIMITED', 3600);
    expectTooMany(await send(a), 'RATE_LIMITED', 3600);
    const texts = [a, b].flatMap((i) =>
      i.lines.filter((l) => l.includes(`SMS to ${phone.e164.slice(0, 5)}****${phone.e164.slice(-4)}`)),
    );
    expect(texts).toHaveLength(3);
  });

  it('counts failed sign-ins of an account across both instances (limit 6): the 7th is refused on either', async () => {
    const user = await signUp(b);
    const signIn = (via: Instance, password: string) =>
      via.http().post('/auth/sign-in').send({ method: 'email', email: user.email, password });
    const statuses: number[] = [];
    for (const via of [a, b, a, b, a, b]) statuses.push((await signIn(via, WRONG_PASSWORD)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    expectTooMany(await signIn(a, GOOD_PASSWORD), 'RATE_LIMITED', 3600);
    expectTooMany(await signIn(b, GOOD_PASSWORD), 'RATE_LIMITED', 3600);
    // Exactly one instance logged the lockout: the one whose request first went past the limit.
    const lockouts = [a, b].map((i) => i.lines.filter((l) => l.includes('Sign-in locked')).length);
    expect(lockouts.reduce((x, y) => x + y, 0)).toBe(1);
  });
});

/** Polls `check` until it is true; returns the milliseconds it took. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

describe.each([
  { channel: 'Redis', redis: true },
  { channel: 'PostgreSQL LISTEN/NOTIFY', redis: false },
])('two instances with session.cache on, invalidation through $channel', ({ redis }) => {
  const unavailable = !POSTGRES_URL || (redis && !REDIS_URL);
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    if (unavailable) return;
    database = await testDatabases()
      .find((db) => db.name === 'postgres')!
      .create();
    const env = {
      DATABASE_URL: (database.options as { url: string }).url,
      ...(redis ? { REDIS_URL: REDIS_URL! } : {}),
      AUTH_SECRET: TEST_SECRET,
      SESSION_CACHE: 'on',
    };
    a = await startInstance('A', { ...env, MIGRATE: '1' });
    b = await startInstance('B', env);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await database?.drop();
  });

  (unavailable ? it.skip : it)('revoked on A is refused on B within 250 ms, every time', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const email = uniqueEmail('cached');
      const res = await a.http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
      const cookie = cookieOf(res);
      // Cached on B by a few checks.
      for (let k = 0; k < 3; k++) expect((await b.http().get('/auth/sessions').set('Cookie', cookie)).status).toBe(200);
      await a.http().post('/auth/sign-out').set('Cookie', cookie).set('Origin', 'https://app.example').expect(200);
      // Same instance: refused at once.
      expect((await a.http().get('/auth/sessions').set('Cookie', cookie)).status).toBe(401);
      delays.push(
        await within(250, async () => (await b.http().get('/auth/sessions').set('Cookie', cookie)).status === 401),
      );
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(250);
  });
});
