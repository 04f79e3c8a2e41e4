import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARRAF_AUTH_ERRORS } from '../../src/errors/error-codes.js';
import {
  freePort,
  runSampleToExit,
  type SampleProcess,
  startSample,
  tempSqliteUrl,
} from '../browser/sample-process.js';

// The built sample (dist-sample/, built by `npm test`) under plain node: how it reads its
// environment, what it serves besides the auth routes, and its OpenAPI document.

/** The routes of SPEC §5, as OpenAPI writes them. */
const SPEC_ROUTES = [
  'POST /auth/otp/send',
  'POST /auth/otp/verify',
  'POST /auth/sign-up',
  'POST /auth/sign-in',
  'POST /auth/sign-out',
  'GET /auth/session',
  'GET /auth/sessions',
  'DELETE /auth/sessions/{id}',
  'POST /auth/sessions/revoke-others',
  'POST /auth/change-password',
  'POST /auth/forgot-password',
  'POST /auth/reset-password',
  'POST /auth/verify-email/send',
  'POST /auth/verify-email',
  'GET /auth/sign-in/{provider}',
  'GET /auth/callback/{provider}',
];

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('sample app: refusing a bad environment', () => {
  const db = tempSqliteUrl();
  afterAll(() => db.remove());

  it('exits with status 1 and one clear line when NODE_ENV=production has no AUTH_SECRET', async () => {
    const { code, output } = await runSampleToExit({ NODE_ENV: 'production', DATABASE_URL: db.url, PORT: '3999' });
    expect(code).toBe(1);
    expect(output).toContain(
      'The sample could not start: Sample configuration: AUTH_SECRET is required when NODE_ENV=production',
    );
    expect(output).not.toMatch(STACK_FRAME);
    expect(output).not.toContain('listening on');
  });

  it('reads a .env file in the directory it is started from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arraf-sample-env-'));
    try {
      writeFileSync(join(dir, '.env'), `NODE_ENV=production\nDATABASE_URL=${db.url}\nPORT=3999\n`);
      const { code, output } = await runSampleToExit({}, { cwd: dir });
      expect(code).toBe(1);
      expect(output).toContain('AUTH_SECRET is required when NODE_ENV=production');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every bad variable at once: PORT, DATABASE_URL and a half-configured provider', async () => {
    const { code, output } = await runSampleToExit({
      PORT: 'eighty',
      DATABASE_URL: 'redis://127.0.0.1:6379',
      GOOGLE_CLIENT_ID: 'id-without-secret',
    });
    expect(code).toBe(1);
    expect(output).toContain('PORT must be a number from 1 to 65535 (got eighty)');
    expect(output).toContain('DATABASE_URL must be sqlite:<file>, postgres://…, mysql://… or mariadb://…');
    expect(output).toContain('set GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET together (only GOOGLE_CLIENT_ID is set)');
    expect(output).not.toMatch(STACK_FRAME);
  });

  it('ends with the module’s own message for an AUTH_SECRET shorter than 32 characters, and no stack trace', async () => {
    const { code, output } = await runSampleToExit({ AUTH_SECRET: 'too-short', DATABASE_URL: db.url, PORT: '3999' });
    expect(code).toBe(1);
    expect(output.trim().split('\n').at(-1)).toBe(
      'The sample could not start: ArrafAuthModule: invalid option secret: must be at least 32 characters (npx arraf-auth secret prints one)',
    );
    expect(output).not.toMatch(STACK_FRAME);
    expect(output).not.toContain('ERROR [ExceptionHandler]');
    expect(output.match(/invalid option secret/g)).toHaveLength(1);
    expect(output).not.toContain('listening on');
  });

  it('ends with one line, and no stack trace anywhere, when the database cannot be reached', async () => {
    const { code, output } = await runSampleToExit({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      PORT: '3999',
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n').at(-1)).toBe('The sample could not start: connect ECONNREFUSED 127.0.0.1:1');
    expect(output).toContain('Unable to connect to the database. Retrying (1)... Error: connect ECONNREFUSED');
    expect(output).not.toMatch(STACK_FRAME);
  });

  it('refuses NODE_ENV=production with the console SMS provider in one line naming `sms`, unless ALLOW_CONSOLE_DELIVERY=true', async () => {
    const secret = randomBytes(32).toString('base64url');
    const { code, output } = await runSampleToExit({
      NODE_ENV: 'production',
      AUTH_SECRET: secret,
      DATABASE_URL: db.url,
      PORT: '3999',
    });
    expect(code).toBe(1);
    const last = output.trim().split('\n').at(-1)!;
    expect(last).toMatch(
      /^The sample could not start: ArrafAuthModule: invalid option sms: ConsoleSmsProvider would write sign-in codes to the log with NODE_ENV=production; .*new ConsoleSmsProvider\(\{ allowInProduction: true \}\)$/,
    );
    expect(output).not.toMatch(STACK_FRAME);
    expect(output.match(/invalid option sms/g)).toHaveLength(1);
    expect(output).not.toContain('listening on');

    const refused = await runSampleToExit({
      NODE_ENV: 'production',
      AUTH_SECRET: secret,
      ALLOW_CONSOLE_DELIVERY: 'yes',
    });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('ALLOW_CONSOLE_DELIVERY must be true or false (got yes)');
  });
});

describe('sample app: development defaults', () => {
  let sample: SampleProcess;
  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample?.stop());

  it('generates a development secret with a warning and prints the URLs to open', () => {
    expect(sample.log()).toContain('AUTH_SECRET is not set: using a random development secret');
    expect(sample.log()).toContain(`listening on http://localhost:${sample.port}`);
    expect(sample.log()).toContain(`Sign-in page: http://localhost:${sample.port}/`);
    expect(sample.log()).toContain(`API docs: http://localhost:${sample.port}/docs`);
  });

  it('serves the sign-in page at / with a strict Content-Security-Policy', async () => {
    const response = await fetch(`http://127.0.0.1:${sample.port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await response.text();
    expect(html).toContain('<html lang="ar" dir="rtl">');
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    const script = await fetch(`http://127.0.0.1:${sample.port}/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });

  it('lists no OAuth provider when none is configured', async () => {
    const response = await fetch(`http://127.0.0.1:${sample.port}/providers`);
    expect(await response.json()).toEqual({ authPath: '/auth', providers: [] });
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await fetch(`http://127.0.0.1:${sample.port}/docs`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('swagger-ui');
    expect(html).toContain('<title>Arraf Auth sample API</title>');
  });

  it('describes every SPEC route, and every route the app mapped, in /docs-json', async () => {
    const document = await fetch(`http://127.0.0.1:${sample.port}/docs-json`).then((r) => r.json() as Promise<any>);
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented).toEqual(expect.arrayContaining([...SPEC_ROUTES, 'GET /me', 'GET /health']));

    // What Nest actually mounted (from its startup log), `:id` written `{id}` as in OpenAPI.
    const mapped = [...sample.log().matchAll(/Mapped \{(\S+), (\w+)\} route/g)].map(
      ([, path, method]) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`,
    );
    expect(mapped.length).toBeGreaterThanOrEqual(SPEC_ROUTES.length);
    expect(documented.sort()).toEqual(mapped.sort());
  });

  it('gives each auth route its request body, success response and error shape, all references resolving', async () => {
    const document = await fetch(`http://127.0.0.1:${sample.port}/docs-json`).then((r) => r.json() as Promise<any>);
    const withoutBody = ['POST /auth/sign-out', 'POST /auth/sessions/revoke-others'];
    for (const route of SPEC_ROUTES) {
      const [method, path] = route.split(' ');
      const operation = document.paths[path][method.toLowerCase()];
      const statuses = Object.keys(operation.responses);
      const success = statuses.find((s) => /^[23]/.test(s))!;
      expect([route, success]).toEqual([route, expect.stringMatching(/^(200|201|302)$/)]);
      if (success !== '302') {
        expect(operation.responses[success].content['application/json'].schema).toBeDefined();
      }
      if (method === 'POST' && !withoutBody.includes(route)) {
        expect([route, operation.requestBody?.content?.['application/json']?.schema]).toEqual([
          route,
          expect.anything(),
        ]);
      }
      const errorStatus = statuses.find((s) => /^[45]/.test(s))!;
      expect(operation.responses[errorStatus].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ArrafAuthError',
      });
    }
    expect(document.paths['/auth/sign-up'].post.responses['201']).toBeDefined();
    expect(document.paths['/auth/sessions'].get.security).toEqual([{ arrafAuthSession: [] }]);
    expect(document.components.securitySchemes.arrafAuthSession).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: '__Host-auth_session',
    });
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const name of new Set(refs))
      expect([name, document.components.schemas[name]]).toEqual([name, expect.any(Object)]);
  });

  it('logs one line per SMS with the whole number in development, so two numbers with the same masked form differ', async () => {
    const from = sample.log().length;
    const send = (phone: string) =>
      fetch(`http://127.0.0.1:${sample.port}/auth/otp/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'phone', phone }),
      }).then((r) => r.json());
    // Both mask as +9665****4321: the response keeps the mask, the development log does not.
    expect(await send('0557654321')).toEqual({ success: true, maskedPhone: '+9665****4321', channel: 'sms' });
    expect(await send('0551114321')).toEqual({ success: true, maskedPhone: '+9665****4321', channel: 'sms' });
    const first = await sample.smsCode('+966557654321', from);
    const second = await sample.smsCode('+966551114321', from);
    expect(first).toMatch(/^\d{6}$/);
    expect(second).toMatch(/^\d{6}$/);
    const lines = sample
      .log()
      .slice(from)
      .split('\n')
      .filter((line) => line.includes('ArrafAuthSms'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/SMS to \+966557654321: code \d{6}$/);
    expect(lines[1]).toMatch(/SMS to \+966551114321: code \d{6}$/);
  });
});

describe('sample app: development mail outbox', () => {
  let sample: SampleProcess;
  const email = 'outbox.user@example.com';
  let password = 'Najd-Qahwa-Tamr-7391';
  let cookie: string;

  beforeAll(async () => {
    sample = await startSample();
  });
  afterAll(() => sample?.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${sample.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: sample.url, ...headers },
      body: JSON.stringify(body),
    });
  const outbox = () =>
    fetch(`http://127.0.0.1:${sample.port}/dev/outbox`).then(
      (r) => r.json() as Promise<{ mails: { to: string; kind: string; code?: string; url?: string }[] }>,
    );

  it('verifies an email end to end: the code is logged, listed in /dev/outbox, and accepted', async () => {
    const signUp = await post('/auth/sign-up', { email, password });
    expect(signUp.status).toBe(201);
    cookie = signUp.headers.getSetCookie()[0].split(';')[0];

    const from = sample.log().length;
    const send = await post('/auth/verify-email/send', {}, { cookie });
    expect(send.status).toBe(200);
    const code = await sample.mail(email, 'verify-email', from);
    expect(code).toMatch(/^\d{6}$/);
    expect((await outbox()).mails[0]).toMatchObject({ to: email, kind: 'verify-email', code });

    expect((await post('/auth/verify-email', { email, otp: code })).status).toBe(200);
    const me = await fetch(`http://127.0.0.1:${sample.port}/me`, { headers: { cookie } });
    expect(((await me.json()) as any).user).toMatchObject({ email, emailVerified: true });
  });

  it('resets a forgotten password end to end with the emailed code', async () => {
    const from = sample.log().length;
    const forgot = await post('/auth/forgot-password', { method: 'email', email });
    expect(await forgot.json()).toEqual({ success: true });
    const code = await sample.mail(email, 'reset-password', from);
    expect((await outbox()).mails[0]).toMatchObject({ to: email, kind: 'reset-password', code });

    const newPassword = 'Hijaz-Asir-Tabuk-0426';
    const reset = await post('/auth/reset-password', { method: 'email', email, otp: code, newPassword });
    expect(reset.status).toBe(200);
    const old = await post('/auth/sign-in', { method: 'email', email, password });
    expect(old.status).toBe(401);
    password = newPassword;
    const signIn = await post('/auth/sign-in', { method: 'email', email, password });
    expect(signIn.status).toBe(200);
  });

  it('sends reset links to the sample’s own page, which opens its reset screen with the token', async () => {
    const from = sample.log().length;
    await post('/auth/forgot-password', { method: 'email', email, mode: 'link' });
    const link = await sample.mail(email, 'reset-password', from);
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe(`${sample.url}/reset-password`);
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const opened = await fetch(`http://127.0.0.1:${sample.port}${url.pathname}${url.search}`, { redirect: 'manual' });
    expect(opened.status).toBe(302);
    expect(opened.headers.get('location')).toBe(`/?screen=reset&token=${token}`);
    const reset = await post('/auth/reset-password', {
      method: 'email',
      email,
      token,
      newPassword: 'Jazan-Abha-Qassim-5150',
    });
    expect(reset.status).toBe(200);
  });
});

describe('sample app: production settings from the environment', () => {
  let sample: SampleProcess;
  let base: string;
  let appUrl: string;
  const phone = '0551112233';

  beforeAll(async () => {
    const port = await freePort();
    appUrl = `http://sample.test:${port}`;
    base = `http://127.0.0.1:${port}`;
    sample = await startSample({
      NODE_ENV: 'production',
      PORT: String(port),
      AUTH_SECRET: randomBytes(32).toString('base64url'),
      APP_URL: appUrl,
      GOOGLE_CLIENT_ID: 'google-client',
      GOOGLE_CLIENT_SECRET: 'google-secret',
      GITHUB_CLIENT_ID: 'github-client',
      GITHUB_CLIENT_SECRET: 'github-secret',
      ALLOW_CONSOLE_DELIVERY: 'true',
    });
  });
  afterAll(() => sample?.stop());

  it('starts with AUTH_SECRET set, without the development-secret warning', () => {
    expect(sample.log()).not.toContain('AUTH_SECRET is not set');
    expect(sample.log()).toContain(`Sign-in page: ${appUrl}/`);
  });

  it('enables the providers whose variables are set, with callbacks under APP_URL', async () => {
    const listed = await fetch(`${base}/providers`).then((r) => r.json() as Promise<any>);
    expect(listed).toEqual({ authPath: '/auth', providers: ['google', 'github'] });
    const document = await fetch(`${base}/docs-json`).then((r) => r.json() as Promise<any>);
    const parameter = document.paths['/auth/sign-in/{provider}'].get.parameters.find(
      (p: { name: string }) => p.name === 'provider',
    );
    expect(parameter.schema.enum).toEqual(['google', 'github']);
    // Plain http on another host: the cookie is neither Secure nor __Host- prefixed.
    expect(document.components.securitySchemes.arrafAuthSession.name).toBe('auth_session');
    const start = await fetch(`${base}/auth/sign-in/github?redirectTo=/`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://github.com/login/oauth/authorize');
    expect(location.searchParams.get('redirect_uri')).toBe(`${appUrl}/auth/callback/github`);
    expect(location.searchParams.get('client_id')).toBe('github-client');
    const unknown = await fetch(`${base}/auth/sign-in/oidc`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
  });

  it('trusts the APP_URL origin for state-changing requests and refuses another', async () => {
    const send = (origin: string) =>
      fetch(`${base}/auth/otp/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ method: 'phone', phone }),
      });
    const refused = await send(`http://localhost:${sample.port}`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: 'INVALID_ORIGIN', ...pick(ARRAF_AUTH_ERRORS.INVALID_ORIGIN) },
    });
    const accepted = await send(appUrl);
    expect(accepted.status).toBe(200);
  });

  it('has no development mail outbox', async () => {
    expect((await fetch(`${base}/dev/outbox`)).status).toBe(404);
  });

  it('logs SMS codes with the number masked, never the whole number', async () => {
    const code = await sample.smsCode('+9665****2233', 0); // the code sent by the previous test
    expect(code).toMatch(/^\d{6}$/);
    expect(sample.log()).not.toContain('551112233');
    expect(sample.log()).toMatch(/ArrafAuthSms\] SMS to \+9665\*{4}2233: code \d{6}$/m);
  });

  it('sends the session cookie without Secure (and so without __Host-) when APP_URL is plain http on another host', async () => {
    const from = 0; // the code sent by the previous test
    const code = await sample.smsCode('+9665****2233', from);
    const response = await fetch(`${base}/auth/otp/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'phone', phone, otp: code }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((c) => c.includes('auth_session='))!;
    expect(cookie).toMatch(/^auth_session=/);
    expect(cookie).not.toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*HttpOnly/i);

    const me = await fetch(`${base}/me`, { headers: { cookie: cookie.split(';')[0] } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user).toMatchObject({ phone: '+966551112233', phoneVerified: true });
  });
});

function pick({ en, ar }: { en: string; ar: string }) {
  return { en, ar };
}
