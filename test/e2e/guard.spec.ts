import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  type INestApplication,
  Logger,
  Module,
  Param,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource, type DataSourceOptions, QueryFailedError } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ARRAF_AUTH_ERRORS,
  ArrafAuthExceptionFilter,
  type ArrafAuthErrorCode,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentUser,
  Session,
  SessionGuard,
  SessionService,
  User,
} from '../../src/index.js';
import { createTestSession, type TestSession } from '../../src/testing/index.js';
import { createTestApp, type Platform, ProfileController, TEST_SECRET } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

const PLATFORMS: Platform[] = ['express', 'fastify'];
const DATABASES = testDatabases();
const SQLITE = DATABASES.find((d) => d.name === 'sqlite')!;
const DAY = 86_400_000;

type Response = request.Response;
/** What a leaked stack trace looks like: `at fn (file.ts:1:2)` or a source position. */
const STACK_FRAME = /\bat \S+ \(|\.[cm]?[jt]s:\d+/;

/** The library logs expected failures through Nest's Logger; spied on to keep them out of the output. */
const LoggerProto = Logger.prototype as unknown as { error: (...args: unknown[]) => void };

function errorBody(code: ArrafAuthErrorCode) {
  const { en, ar } = ARRAF_AUTH_ERRORS[code];
  return { error: { code, en, ar } };
}

function expectError(res: Response, status: number, code: ArrafAuthErrorCode): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: errorBody(code) });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

function setCookies(res: Response): string[] {
  const raw = res.headers['set-cookie'] as unknown;
  if (raw === undefined) return [];
  return Array.isArray(raw) ? (raw as string[]) : [raw as string];
}

/** A fresh SQLite (or other) database and an app on it, closed and dropped after the block. */
function useApp(make: (database: DataSourceOptions) => Promise<INestApplication>, db: TestDatabase = SQLITE) {
  const ctx = {} as { app: INestApplication; ds: DataSource; http: () => ReturnType<typeof request> };
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    ctx.app = await make(created.options);
    ctx.ds = ctx.app.get(DataSource);
    ctx.http = () => request(ctx.app.getHttpServer());
  });
  afterAll(async () => {
    await ctx.app?.close().catch(() => undefined);
    await drop?.();
  });
  return ctx;
}

async function setSession(
  ds: DataSource,
  id: string,
  fields: Partial<Pick<Session, 'createdAt' | 'expiresAt'>>,
): Promise<void> {
  await ds.getRepository(Session).update({ id }, fields);
}

// ---------------------------------------------------------------------------------------------
// A small application of our own, for what the shared test app cannot show: whether a handler ran,
// what `request.user` was when an error was answered, and a sign-in route that records the client
// the way the sign-in flows will (`SessionService.createSession(user, { ipAddress: req.ip, ... })`).

const probe = { handled: 0, usersAtError: [] as unknown[] };

@Catch()
class RecordingFilter extends ArrafAuthExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    probe.usersAtError.push(host.switchToHttp().getRequest<{ user?: unknown }>().user);
    super.catch(exception, host);
  }
}

interface RequestLike {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

@Controller('probe')
@UseFilters(RecordingFilter)
class ProbeController {
  constructor(
    private readonly sessions: SessionService,
    private readonly dataSource: DataSource,
  ) {}

  @Get('me')
  @UseGuards(SessionGuard)
  me(@CurrentUser('id') id: string) {
    probe.handled++;
    return { id };
  }

  @Post('sign-in/:userId')
  @HttpCode(200)
  async signIn(@Param('userId') userId: string, @Req() req: RequestLike) {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: userId });
    const userAgent = req.headers['user-agent'];
    const { session } = await this.sessions.createSession(user, {
      ipAddress: req.ip,
      userAgent: typeof userAgent === 'string' ? userAgent : null,
    });
    return { sessionId: session.id };
  }
}

async function createProbeApp(options: {
  database: DataSourceOptions;
  platform: Platform;
  auth?: Partial<ArrafAuthOptions>;
  trustProxy?: boolean;
}): Promise<INestApplication> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      } as DataSourceOptions),
      ArrafAuthModule.forRoot({ secret: TEST_SECRET, ...options.auth }),
    ],
    controllers: [ProfileController, ProbeController],
  })
  class ProbeModule {}

  const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
  if (options.platform === 'fastify') {
    const app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy: options.trustProxy ?? false }),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }
  const app = moduleRef.createNestApplication();
  if (options.trustProxy) (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
  await app.init();
  return app;
}

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('@UseGuards(SessionGuard) on a route (%s)', (platform) => {
  const t = useApp((database) => createTestApp({ database, platform }));

  it('answers 401 UNAUTHENTICATED in the { error: { code, en, ar } } shape without a cookie', async () => {
    const res = await t.http().get('/me');
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.body.error.ar).toMatch(/[\u0600-\u06FF]/);
  });

  it('lets a signed-in user through with @CurrentUser(), @CurrentUser("id") and @CurrentSession() filled', async () => {
    const s = await createTestSession(t.app, { email: 'guard-ok@example.com' });
    const res = await t.http().get('/me').set('Cookie', s.cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: s.user.id,
      email: 'guard-ok@example.com',
      sessionId: s.session.id,
      userClass: 'User',
    });
    // No renewal is due on a brand-new session: no cookie is re-issued.
    expect(setCookies(res)).toEqual([]);
  });

  it('reads only the configured cookie name, not a look-alike cookie carrying a valid token', async () => {
    const s = await createTestSession(t.app, {});
    const name = s.cookie.slice(0, s.cookie.indexOf('='));
    expect(name).toBe('__Host-auth_session');
    expectError(await t.http().get('/me').set('Cookie', `auth_session=${s.token}`), 401, 'UNAUTHENTICATED');
    expectError(await t.http().get('/me').set('Cookie', `x${name}=${s.token}`), 401, 'UNAUTHENTICATED');
    const res = await t.http().get('/me').set('Cookie', `theme=dark; ${s.cookie}; lang=ar`);
    expect(res.status).toBe(200);
  });

  it('rejects a JWT whose session was revoked', async () => {
    const s = await createTestSession(t.app, {});
    expect((await t.http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
    await t.ds.getRepository(Session).delete({ id: s.session.id });
    expectError(await t.http().get('/me').set('Cookie', s.cookie), 401, 'UNAUTHENTICATED');
  });

  it('rejects a JWT whose session row has expired and deletes that row', async () => {
    const s = await createTestSession(t.app, {});
    await setSession(t.ds, s.session.id, { expiresAt: new Date(Date.now() - 1000) });
    expectError(await t.http().get('/me').set('Cookie', s.cookie), 401, 'UNAUTHENTICATED');
    expect(await t.ds.getRepository(Session).countBy({ id: s.session.id })).toBe(0);
  });

  it('rejects the session of a user who was deleted', async () => {
    const s = await createTestSession(t.app, {});
    await t.ds.getRepository(User).delete({ id: s.user.id });
    expectError(await t.http().get('/me').set('Cookie', s.cookie), 401, 'UNAUTHENTICATED');
  });

  it('guards every route of a controller-level @UseGuards, POST included', async () => {
    expectError(await t.http().post('/me/update'), 401, 'UNAUTHENTICATED');
    const s = await createTestSession(t.app, {});
    const res = await t.http().post('/me/update').set('Cookie', s.cookie).set(sameSite());
    expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: { updated: s.user.id } });
  });
});

describe.each(PLATFORMS)('SessionGuard as a global APP_GUARD (%s)', (platform) => {
  const queries: string[] = [];
  const t = useApp((database) =>
    createTestApp({ database, platform, globalGuard: true, onQuery: (sql) => queries.push(sql) }),
  );

  it('answers 401 on an unmarked route without a cookie and 200 with one', async () => {
    expectError(await t.http().get('/global/private'), 401, 'UNAUTHENTICATED');
    const s = await createTestSession(t.app, {});
    const res = await t.http().get('/global/private').set('Cookie', s.cookie);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { id: s.user.id } });
  });

  it('lets @Public() routes through without a cookie', async () => {
    const res = await t.http().get('/global/public');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { public: true } });
  });

  it('still answers 401 on a private route for a garbage cookie', async () => {
    expectError(
      await t.http().get('/global/private').set('Cookie', '__Host-auth_session=garbage'),
      401,
      'UNAUTHENTICATED',
    );
  });

  it("does not lock out the library's own public routes: GET /auth/session and POST /auth/sign-out", async () => {
    const session = await t.http().get('/auth/session');
    expect({ status: session.status, body: session.body }).toEqual({
      status: 200,
      body: { user: null, session: null },
    });
    const signOut = await t.http().post('/auth/sign-out');
    expect({ status: signOut.status, body: signOut.body }).toEqual({ status: 200, body: { success: true } });
  });

  it('looks the session up once when both the global guard and a route-level SessionGuard apply', async () => {
    const s = await createTestSession(t.app, {});
    // Renewal due: the first guard renews; a second lookup would add statements and a second cookie.
    await setSession(t.ds, s.session.id, { expiresAt: new Date(Date.now() + 28 * DAY) });
    queries.length = 0;
    const res = await t.http().get('/me').set('Cookie', s.cookie);
    expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: s.user.id });
    expect(queries.map((q) => q.split(' ')[0].toUpperCase())).toEqual(['SELECT', 'UPDATE']);
    expect(setCookies(res)).toHaveLength(1);
    queries.length = 0;
    expect((await t.http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
    expect(queries).toHaveLength(1);
  });

  it("keeps the library's signed-in routes guarded: GET /auth/sessions is 401 without a cookie", async () => {
    expectError(await t.http().get('/auth/sessions'), 401, 'UNAUTHENTICATED');
    const s = await createTestSession(t.app, {});
    const res = await t.http().get('/auth/sessions').set('Cookie', s.cookie);
    expect(res.status).toBe(200);
    expect(res.body.sessions.map((x: { id: string }) => x.id)).toEqual([s.session.id]);
  });
});

describe.each(PLATFORMS)('SessionGuard with the database strategy (%s)', (platform) => {
  const t = useApp((database) => createTestApp({ database, platform, auth: { session: { strategy: 'database' } } }));

  it('accepts the random token cookie and rejects it once the session is revoked', async () => {
    const s = await createTestSession(t.app, { email: 'db-strategy@example.com' });
    expect(s.token.split('.')).toHaveLength(1);
    const ok = await t.http().get('/me').set('Cookie', s.cookie);
    expect({ status: ok.status, id: ok.body.id }).toEqual({ status: 200, id: s.user.id });
    await t.ds.getRepository(Session).delete({ id: s.session.id });
    expectError(await t.http().get('/me').set('Cookie', s.cookie), 401, 'UNAUTHENTICATED');
  });

  it('rejects a cookie holding the stored SHA-256 hash instead of the token', async () => {
    const s = await createTestSession(t.app, {});
    const row = await t.ds.getRepository(Session).findOneByOrFail({ id: s.session.id });
    expect(row.tokenHash).not.toBe(s.token);
    expectError(
      await t.http().get('/me').set('Cookie', `__Host-auth_session=${row.tokenHash}`),
      401,
      'UNAUTHENTICATED',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(
  PLATFORMS.flatMap((platform) => (['jwt', 'database'] as const).map((strategy) => ({ platform, strategy }))),
)('sliding renewal for bearer clients ($platform, $strategy)', ({ platform, strategy }) => {
  const t = useApp((database) => createTestApp({ database, platform, auth: { session: { strategy, bearer: true } } }));
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const me = (token: string) => t.http().get('/me').set('Authorization', `Bearer ${token}`);

  it('hands the renewed token over in Set-Auth-Token, so a bearer client outlives its first expiry', async () => {
    const s = await createTestSession(t.app, {});
    const start = Date.now();
    const at = (days: number) => jest.spyOn(Date, 'now').mockReturnValue(start + days * DAY);
    at(2); // renewal is due (updateAge 1d)
    const renewal = await me(s.token);
    expect({ status: renewal.status, id: renewal.body.id }).toEqual({ status: 200, id: s.user.id });
    expect(setCookies(renewal)).toEqual([]);
    const renewed = renewal.headers['set-auth-token'];
    expect(renewed).toEqual(expect.any(String));
    // The database strategy's token never changes; a JWT carries the new expiry, so it is a new token.
    if (strategy === 'database') expect(renewed).toBe(s.token);
    else expect(renewed).not.toBe(s.token);
    at(31); // past the first token's 30 days, within the renewed session's 32
    const first = await me(s.token);
    expect(first.status).toBe(strategy === 'jwt' ? 401 : 200);
    const next = await me(renewed);
    expect({ status: next.status, id: next.body.id }).toEqual({ status: 200, id: s.user.id });
  });

  it('sends no Set-Auth-Token when no renewal is due', async () => {
    const s = await createTestSession(t.app, {});
    const res = await me(s.token);
    expect(res.status).toBe(200);
    expect(res.headers['set-auth-token']).toBeUndefined();
  });
});

describe.each(
  DATABASES.flatMap((db) =>
    PLATFORMS.flatMap((platform) => (['jwt', 'database'] as const).map((strategy) => ({ db, platform, strategy }))),
  ),
)('one database round trip per guarded request ($db.name, $platform, $strategy)', ({ db, platform, strategy }) => {
  const queries: string[] = [];
  let counting = false;
  const t = useApp(
    (database) =>
      createTestApp({
        database,
        platform,
        auth: { session: { strategy } },
        onQuery: (sql) => {
          if (counting) queries.push(sql);
        },
      }),
    db,
  );

  async function counted(send: () => Promise<Response>): Promise<{ res: Response; sql: string[] }> {
    queries.length = 0;
    counting = true;
    try {
      const res = await send();
      return { res, sql: [...queries] };
    } finally {
      counting = false;
    }
  }

  it('runs exactly one statement, a SELECT joining session and user, for GET /me', async () => {
    const s = await createTestSession(t.app, {});
    const { res, sql } = await counted(() => t.http().get('/me').set('Cookie', s.cookie));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(s.user.id);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/^SELECT\b[\s\S]*\bJOIN\b/i);
  });

  it('runs two statements (the lookup and one UPDATE) when sliding renewal is due, and re-issues the cookie', async () => {
    const s = await createTestSession(t.app, {});
    // Last renewed two days ago (expiresIn 30d, updateAge 1d): renewal is due.
    const old = new Date(Date.now() + 28 * DAY);
    await setSession(t.ds, s.session.id, { expiresAt: old });
    const { res, sql } = await counted(() => t.http().get('/me').set('Cookie', s.cookie));
    expect(res.status).toBe(200);
    expect(sql).toHaveLength(2);
    expect(sql[0]).toMatch(/^SELECT\b/i);
    expect(sql[1]).toMatch(/^UPDATE\b/i);
    const cookies = setCookies(res);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(
      /^__Host-auth_session=[^;]+; Path=\/; Max-Age=(259199\d|2592000);.*HttpOnly; Secure; SameSite=Lax/,
    );
    const row = await t.ds.getRepository(Session).findOneByOrFail({ id: s.session.id });
    expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + 29 * DAY);
    // The re-issued cookie works and needs no further renewal: one statement again.
    const reissued = cookies[0].slice(0, cookies[0].indexOf(';'));
    const again = await counted(() => t.http().get('/me').set('Cookie', reissued));
    expect(again.res.status).toBe(200);
    expect(again.sql).toHaveLength(1);
  });

  it('runs no statement at all for a request without a credential or with a malformed one', async () => {
    expect((await counted(() => t.http().get('/me'))).sql).toEqual([]);
    const tooLong = await counted(() =>
      t
        .http()
        .get('/me')
        .set('Cookie', `__Host-auth_session=${'a'.repeat(5000)}`),
    );
    expect(tooLong.res.status).toBe(401);
    expect(tooLong.sql).toEqual([]);
  });

  it('runs no statement for a cross-site POST rejected by the origin check', async () => {
    const s = await createTestSession(t.app, {});
    const { res, sql } = await counted(() =>
      t.http().post('/me/update').set('Cookie', s.cookie).set('Origin', 'https://evil.example'),
    );
    expectError(res, 403, 'INVALID_ORIGIN');
    expect(sql).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(DATABASES.flatMap((db) => PLATFORMS.map((platform) => ({ db, platform }))))(
  'database outage fails closed ($db.name, $platform)',
  ({ db, platform }) => {
    const t = useApp((database) => createProbeApp({ database, platform }), db);

    it('answers 503 SERVICE_UNAVAILABLE with no user and no handler run, never 200 or 500', async () => {
      const s = await createTestSession(t.app, {});
      const before = await t.http().get('/probe/me').set('Cookie', s.cookie);
      expect({ status: before.status, body: before.body }).toEqual({ status: 200, body: { id: s.user.id } });
      const handled = probe.handled;
      probe.usersAtError.length = 0;

      const errors = jest.spyOn(LoggerProto, 'error').mockImplementation(() => undefined);
      try {
        await t.ds.destroy();

        const res = await t.http().get('/probe/me').set('Cookie', s.cookie);
        expectError(res, 503, 'SERVICE_UNAVAILABLE');
        expect(probe.handled).toBe(handled);
        expect(probe.usersAtError).toEqual([undefined]);

        // An application route without the library's filter answers the same.
        expectError(await t.http().get('/me').set('Cookie', s.cookie), 503, 'SERVICE_UNAVAILABLE');
        const session = await t.http().get('/auth/session').set('Cookie', s.cookie);
        expectError(session, 503, 'SERVICE_UNAVAILABLE');
        expect(setCookies(session)).toEqual([]);
        const signOut = t.http().post('/auth/sign-out').set('Cookie', s.cookie).set(sameSite());
        expectError(await signOut, 503, 'SERVICE_UNAVAILABLE');
        // No credential: nothing to look up, so still a plain 401.
        expectError(await t.http().get('/me'), 401, 'UNAUTHENTICATED');
      } finally {
        errors.mockRestore();
      }
    });
  },
);

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('client IP and user agent of a new session (%s)', (platform) => {
  const direct = useApp((database) => createProbeApp({ database, platform }));
  const proxied = useApp((database) => createProbeApp({ database, platform, trustProxy: true }));

  async function signIn(t: typeof direct, headers: Record<string, string>): Promise<Session> {
    const user = await createTestSession(t.app, {});
    let req = t.http().post(`/probe/sign-in/${user.user.id}`);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const res = await req;
    expect(res.status).toBe(200);
    return t.ds.getRepository(Session).findOneByOrFail({ id: res.body.sessionId });
  }

  it('records request.ip, not a spoofed X-Forwarded-For, when the app does not trust a proxy', async () => {
    const row = await signIn(direct, { 'X-Forwarded-For': '1.2.3.4' });
    expect(row.ipAddress).not.toBe('1.2.3.4');
    expect(row.ipAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });

  it('records the forwarded client address when the app trusts its proxy', async () => {
    const row = await signIn(proxied, { 'X-Forwarded-For': '1.2.3.4' });
    expect(row.ipAddress).toBe('1.2.3.4');
  });

  it('records the user agent, truncated to 512 characters', async () => {
    const short = await signIn(direct, { 'User-Agent': 'Mozilla/5.0 (iPhone) Arraf' });
    expect(short.userAgent).toBe('Mozilla/5.0 (iPhone) Arraf');
    const long = await signIn(direct, { 'User-Agent': `UA-${'x'.repeat(700)}` });
    expect(long.userAgent).toBe(`UA-${'x'.repeat(700)}`.slice(0, 512));
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('origin check on cookie-authenticated state-changing requests (%s)', (platform) => {
  const t = useApp((database) =>
    createTestApp({
      database,
      platform,
      auth: {
        appUrl: 'https://app.example/some/path',
        trustedOrigins: ['https://admin.example'],
        session: { bearer: true },
      },
    }),
  );
  let s: TestSession;
  beforeAll(async () => {
    s = await createTestSession(t.app, {});
  });

  const post = (path: string, headers: Record<string, string>) => {
    let req = t.http().post(path).set('Cookie', s.cookie);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req;
  };

  it('refuses Origin https://evil.example with 403 INVALID_ORIGIN', async () => {
    expectError(await post('/me/update', { Origin: 'https://evil.example' }), 403, 'INVALID_ORIGIN');
  });

  it('allows the appUrl origin and each trusted origin', async () => {
    for (const origin of ['https://app.example', 'https://admin.example']) {
      const res = await post('/me/update', { Origin: origin });
      expect({ origin, status: res.status, body: res.body }).toEqual({
        origin,
        status: 201,
        body: { updated: s.user.id },
      });
    }
  });

  it('refuses look-alikes of a trusted origin (suffix, port, scheme, userinfo)', async () => {
    for (const origin of [
      'https://app.example.evil.example',
      'https://evilapp.example',
      'https://app.example:8443',
      'http://app.example',
      'https://app.example@evil.example',
      'https://app.example/',
    ]) {
      const res = await post('/me/update', { Origin: origin });
      expect({ origin, status: res.status, code: res.body?.error?.code }).toEqual({
        origin,
        status: 403,
        code: 'INVALID_ORIGIN',
      });
    }
  });

  it('refuses Origin: null (sandboxed frames, redirects)', async () => {
    expectError(await post('/me/update', { Origin: 'null' }), 403, 'INVALID_ORIGIN');
  });

  it('falls back to the Referer when there is no Origin: a cross-site page is refused, our own page allowed', async () => {
    expectError(await post('/me/update', { Referer: 'https://evil.example/page' }), 403, 'INVALID_ORIGIN');
    expectError(await post('/me/update', { Referer: 'not a url' }), 403, 'INVALID_ORIGIN');
    expect((await post('/me/update', { Referer: 'https://app.example/settings?tab=1' })).status).toBe(201);
  });

  it("refuses a cookie with neither Origin nor Referer, as the module's own routes do (a browser always sends one)", async () => {
    expectError(await post('/me/update', {}), 403, 'INVALID_ORIGIN');
    // A bearer client is not a browser: no Origin needed.
    const bearer = await t.http().post('/me/update').set('Authorization', `Bearer ${s.token}`);
    expect(bearer.status).toBe(201);
  });

  it('never refuses a GET on its origin', async () => {
    const me = await t.http().get('/me').set('Cookie', s.cookie).set('Origin', 'https://evil.example');
    expect({ status: me.status, id: me.body.id }).toEqual({ status: 200, id: s.user.id });
    const session = await t.http().get('/auth/session').set('Cookie', s.cookie).set('Origin', 'https://evil.example');
    expect({ status: session.status, id: session.body.user?.id }).toEqual({ status: 200, id: s.user.id });
  });

  it('refuses a cross-site POST /auth/sign-out and leaves the session valid', async () => {
    const victim = await createTestSession(t.app, {});
    const res = await t
      .http()
      .post('/auth/sign-out')
      .set('Cookie', victim.cookie)
      .set('Origin', 'https://evil.example');
    expectError(res, 403, 'INVALID_ORIGIN');
    expect(setCookies(res)).toEqual([]);
    expect(await t.ds.getRepository(Session).countBy({ id: victim.session.id })).toBe(1);
    expect((await t.http().get('/me').set('Cookie', victim.cookie)).status).toBe(200);
    const byReferer = await t
      .http()
      .post('/auth/sign-out')
      .set('Cookie', victim.cookie)
      .set('Referer', 'https://evil.example/x');
    expectError(byReferer, 403, 'INVALID_ORIGIN');
    expect((await t.http().get('/me').set('Cookie', victim.cookie)).status).toBe(200);
  });

  it('signs out from the app origin: 200, cookie cleared, session revoked', async () => {
    const victim = await createTestSession(t.app, {});
    const res = await t.http().post('/auth/sign-out').set('Cookie', victim.cookie).set('Origin', 'https://app.example');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { success: true } });
    expect(setCookies(res)).toEqual([expect.stringMatching(/^__Host-auth_session=; Path=\/; Max-Age=0;/)]);
    expect(await t.ds.getRepository(Session).countBy({ id: victim.session.id })).toBe(0);
    expectError(await t.http().get('/me').set('Cookie', victim.cookie), 401, 'UNAUTHENTICATED');
  });

  it("refuses cross-site POST /auth/sessions/revoke-others and DELETE /auth/sessions/:id, leaving the user's sessions alone", async () => {
    const first = await createTestSession(t.app, {});
    const second = await createTestSession(t.app, first.user.id);
    const revokeOthers = await t
      .http()
      .post('/auth/sessions/revoke-others')
      .set('Cookie', first.cookie)
      .set('Origin', 'https://evil.example');
    expectError(revokeOthers, 403, 'INVALID_ORIGIN');
    const del = await t
      .http()
      .delete(`/auth/sessions/${second.session.id}`)
      .set('Cookie', first.cookie)
      .set('Origin', 'https://evil.example');
    expectError(del, 403, 'INVALID_ORIGIN');
    expect(await t.ds.getRepository(Session).countBy({ userId: first.user.id })).toBe(2);
  });

  it('skips the origin check for Bearer-authenticated requests', async () => {
    const b = await createTestSession(t.app, {});
    const update = await t
      .http()
      .post('/me/update')
      .set('Authorization', `Bearer ${b.token}`)
      .set('Origin', 'https://evil.example');
    expect({ status: update.status, body: update.body }).toEqual({ status: 201, body: { updated: b.user.id } });
    const signOut = await t
      .http()
      .post('/auth/sign-out')
      .set('Authorization', `Bearer ${b.token}`)
      .set('Origin', 'https://evil.example');
    expect(signOut.status).toBe(200);
    expect(await t.ds.getRepository(Session).countBy({ id: b.session.id })).toBe(0);
  });

  it('still checks the origin when a request carries the session cookie next to a Bearer token', async () => {
    const res = await post('/me/update', { Authorization: `Bearer ${s.token}`, Origin: 'https://evil.example' });
    expectError(res, 403, 'INVALID_ORIGIN');
  });
});

describe.each(PLATFORMS)('origin check with no appUrl or trustedOrigins (%s)', (platform) => {
  const t = useApp((database) => createTestApp({ database, platform }));

  it('allows an Origin on the request Host and refuses any other host', async () => {
    const s = await createTestSession(t.app, {});
    const send = (origin: string) =>
      t.http().post('/me/update').set('Host', 'app.local:3000').set('Cookie', s.cookie).set('Origin', origin);
    expect((await send('http://app.local:3000')).status).toBe(201);
    expect((await send('https://app.local:3000')).status).toBe(201);
    expectError(await send('http://evil.local:3000'), 403, 'INVALID_ORIGIN');
    expectError(await send('http://app.local:3001'), 403, 'INVALID_ORIGIN');
    expectError(await send('http://app.local'), 403, 'INVALID_ORIGIN');
    expectError(await send('null'), 403, 'INVALID_ORIGIN');
  });

  it('refuses a cross-site sign-out and keeps the session', async () => {
    const s = await createTestSession(t.app, {});
    const res = await t
      .http()
      .post('/auth/sign-out')
      .set('Host', 'app.local')
      .set('Cookie', s.cookie)
      .set('Origin', 'http://evil.local');
    expectError(res, 403, 'INVALID_ORIGIN');
    expect((await t.http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('overrideGuard and overrideProvider (%s)', (platform) => {
  const fakeUser = Object.assign(new User(), { id: 'user-from-override', email: 'override@example.com' });
  const fakeSession = Object.assign(new Session(), {
    id: 'session-from-override',
    userId: fakeUser.id,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + DAY),
  });

  describe('overrideGuard(SessionGuard)', () => {
    const t = useApp((database) =>
      createTestApp({
        database,
        platform,
        configure: (b) =>
          b.overrideGuard(SessionGuard).useValue({
            canActivate: (ctx: ExecutionContext) => {
              const req = ctx.switchToHttp().getRequest<Record<string, unknown>>();
              req.user = fakeUser;
              req.arrafSession = fakeSession;
              return true;
            },
          }),
      }),
    );

    it('lets GET /me through without a cookie with the user the replacement guard set', async () => {
      const res = await t.http().get('/me');
      expect({ status: res.status, body: res.body }).toEqual({
        status: 200,
        body: {
          id: 'user-from-override',
          email: 'override@example.com',
          sessionId: 'session-from-override',
          userClass: 'User',
        },
      });
    });
  });

  describe('overrideGuard(SessionGuard) with a guard that denies', () => {
    const t = useApp((database) =>
      createTestApp({
        database,
        platform,
        configure: (b) => b.overrideGuard(SessionGuard).useValue({ canActivate: () => false }),
      }),
    );

    it('answers 403 FORBIDDEN on a library route, not a misleading INVALID_ORIGIN', async () => {
      expectError(await t.http().get('/auth/sessions'), 403, 'FORBIDDEN');
      expect((await t.http().get('/me')).status).toBe(403);
    });
  });

  describe('overrideProvider(SessionService)', () => {
    const getSession = jest.fn(async (credential: string | undefined) =>
      credential === 'letmein' ? { user: fakeUser, session: fakeSession } : null,
    );
    const t = useApp((database) =>
      createTestApp({
        database,
        platform,
        configure: (b) =>
          b.overrideProvider(SessionService).useValue({
            getSession,
            isFresh: () => true,
            cookieMaxAge: () => 60,
          }),
      }),
    );

    it('is what SessionGuard and the auth routes consult', async () => {
      const me = await t.http().get('/me').set('Cookie', '__Host-auth_session=letmein');
      expect({ status: me.status, id: me.body.id, sessionId: me.body.sessionId }).toEqual({
        status: 200,
        id: 'user-from-override',
        sessionId: 'session-from-override',
      });
      expect(getSession).toHaveBeenCalledWith('letmein');
      expectError(await t.http().get('/me').set('Cookie', '__Host-auth_session=nope'), 401, 'UNAUTHENTICATED');
      const session = await t.http().get('/auth/session').set('Cookie', '__Host-auth_session=letmein');
      expect(session.body.user?.id).toBe('user-from-override');
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)("allowMissingOrigin on an application's own cookie routes (%s)", (platform) => {
  const t = useApp((database) =>
    createTestApp({ database, platform, auth: { appUrl: 'https://app.example', allowMissingOrigin: true } }),
  );

  it('lets a cookie request with neither Origin nor Referer through, and still refuses a cross-site one', async () => {
    const s = await createTestSession(t.app, {});
    const res = await t.http().post('/me/update').set('Cookie', s.cookie);
    expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: { updated: s.user.id } });
    const evil = await t.http().post('/me/update').set('Cookie', s.cookie).set('Origin', 'https://evil.example');
    expectError(evil, 403, 'INVALID_ORIGIN');
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('@RequireFreshSession() (%s)', (platform) => {
  const t = useApp((database) => createTestApp({ database, platform, auth: { session: { freshAge: '1h' } } }));

  it('allows POST /me/sensitive for a sign-in within freshAge', async () => {
    const s = await createTestSession(t.app, {});
    const res = await t.http().post('/me/sensitive').set('Cookie', s.cookie).set(sameSite());
    expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: { ok: true } });
    await setSession(t.ds, s.session.id, { createdAt: new Date(Date.now() - 30 * 60_000) });
    expect((await t.http().post('/me/sensitive').set('Cookie', s.cookie).set(sameSite())).status).toBe(201);
  });

  it('answers 403 SESSION_NOT_FRESH for a sign-in older than freshAge, while plain routes still work', async () => {
    const s = await createTestSession(t.app, {});
    await setSession(t.ds, s.session.id, { createdAt: new Date(Date.now() - 2 * 3_600_000) });
    expectError(await t.http().post('/me/sensitive').set('Cookie', s.cookie).set(sameSite()), 403, 'SESSION_NOT_FRESH');
    expect((await t.http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
    const revokeOthers = t.http().post('/auth/sessions/revoke-others').set('Cookie', s.cookie).set(sameSite());
    expectError(await revokeOthers, 403, 'SESSION_NOT_FRESH');
  });

  it('still answers 401, not 403, without a session', async () => {
    expectError(await t.http().post('/me/sensitive'), 401, 'UNAUTHENTICATED');
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(PLATFORMS)('errors never leak (%s)', (platform) => {
  const t = useApp((database) => createTestApp({ database, platform, auth: { session: { strategy: 'database' } } }));
  afterEach(() => {
    jest.restoreAllMocks();
  });

  function leakyError(token: string): QueryFailedError {
    const sql = `SELECT * FROM "sessions" WHERE "tokenHash" = '${token}'`;
    return new QueryFailedError(sql, [token], new Error(`relation "sessions" does not exist near ${token}`));
  }

  function expectNoLeak(res: Response, token: string): void {
    const text = res.text;
    for (const needle of ['stack', 'SELECT', 'sessions', 'QueryFailedError', token]) expect(text).not.toContain(needle);
    expect(text).not.toMatch(STACK_FRAME);
  }

  it('answers a failing session query with a generic 503: no SQL, stack or token', async () => {
    const s = await createTestSession(t.app, {});
    jest.spyOn(LoggerProto, 'error').mockImplementation(() => undefined);
    // The driver's own statement call (SQLite here), which TypeORM's query runner and the session
    // store's direct lookup both end in: the database itself fails, with the SQL and token in its error.
    const connection = (t.ds.driver as unknown as { databaseConnection: { prepare(sql: string): object } })
      .databaseConnection;
    const statement = Object.getPrototypeOf(connection.prepare('SELECT 1')) as { all: () => unknown };
    jest.spyOn(statement, 'all').mockImplementation(() => {
      throw leakyError(s.token);
    });
    for (const path of ['/me', '/auth/session']) {
      const res = await t.http().get(path).set('Cookie', s.cookie);
      expectError(res, 503, 'SERVICE_UNAVAILABLE');
      expectNoLeak(res, s.token);
    }
    jest.restoreAllMocks();
    expect((await t.http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
  });

  it('answers an unexpected failure in sign-out with a generic 500: no SQL, stack or token', async () => {
    const s = await createTestSession(t.app, {});
    jest.spyOn(LoggerProto, 'error').mockImplementation(() => undefined);
    jest.spyOn(t.app.get(SessionService), 'revokeSession').mockRejectedValue(leakyError(s.token));
    const res = await t.http().post('/auth/sign-out').set('Cookie', s.cookie).set(sameSite());
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.body.error.code).toMatch(/^(INTERNAL_ERROR|SERVICE_UNAVAILABLE)$/);
    expectNoLeak(res, s.token);
  });

  it('answers a malformed JSON body on POST /auth/sign-out with a 400-class error that leaks nothing, and revokes nothing', async () => {
    const s = await createTestSession(t.app, {});
    const res = await t
      .http()
      .post('/auth/sign-out')
      .set('Cookie', s.cookie)
      .set('Content-Type', 'application/json')
      .send(`{"token": "${s.token}", bad`);
    expect(res.status).toBe(400);
    expectNoLeak(res, s.token);
    expect(await t.ds.getRepository(Session).countBy({ id: s.session.id })).toBe(1);
  });

  it('answers unknown routes under /auth with a plain JSON 404 and no stack', async () => {
    for (const [method, path] of [
      ['get', '/auth/nope'],
      ['post', '/auth/session'],
      ['get', '/auth/sign-out'],
      ['put', '/auth/sessions'],
    ] as const) {
      const res = await t.http()[method](path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.text).not.toContain('stack');
      expect(res.text).not.toMatch(STACK_FRAME);
    }
  });

  it('answers a malformed session id with 400 INVALID_INPUT', async () => {
    const s = await createTestSession(t.app, {});
    const malformed = await t.http().delete('/auth/sessions/not-a-uuid').set('Cookie', s.cookie).set(sameSite());
    // SPEC §9: INVALID_INPUT names the field, in both texts.
    const { en, ar } = ARRAF_AUTH_ERRORS.INVALID_INPUT;
    expect({ status: malformed.status, body: malformed.body }).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_INPUT', en: `${en} Field: id.`, ar: `${ar} الحقل: id.`, field: 'id' } },
    });
    expectError(
      await t
        .http()
        .delete('/auth/sessions/00000000-0000-4000-8000-000000000000')
        .set('Cookie', s.cookie)
        .set(sameSite()),
      404,
      'SESSION_NOT_FOUND',
    );
  });
});
