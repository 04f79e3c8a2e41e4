import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_ERRORS, type ArrafAuthErrorCode, type ArrafAuthOptions, Session } from '../../src/index.js';
import { createTestSession } from '../../src/testing/index.js';
import { loadGraphqlTestApp } from '../apps/graphql-loader.js';
import type { GraphqlDriver, GraphqlTestAppOptions } from '../apps/graphql-test-app.js';
import { testDatabases } from '../helpers/databases.js';

const { createGraphqlTestApp } = await loadGraphqlTestApp();

const DRIVERS: GraphqlDriver[] = ['apollo', 'mercurius'];
const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;
const DAY = 86_400_000;

interface GqlResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

/**
 * A GraphQL request over HTTP, as a browser or a mobile client sends it: with a cookie, a browser's
 * POST carries the page's `Origin` (here the server's own, unless the test sets one).
 */
async function gql(url: string, query: string, headers: Record<string, string> = {}): Promise<GqlResult> {
  const browser: Record<string, string> = headers.cookie !== undefined ? { origin: new URL(url).origin } : {};
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...browser, ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResult['body'] };
}

function expectRefusal(result: GqlResult, code: ArrafAuthErrorCode): void {
  const { en, ar } = ARRAF_AUTH_ERRORS[code];
  expect(result.body.errors).toHaveLength(1);
  expect(result.body.errors![0]).toMatchObject({ message: en, extensions: { code, en, ar } });
  expect(result.body.data ?? null).toBeNull();
}

function useGraphqlApp(options: Omit<GraphqlTestAppOptions, 'database'>) {
  const ctx = {} as { app: INestApplication; url: string; ds: DataSource };
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    Object.assign(ctx, await createGraphqlTestApp({ ...options, database: db.options }));
    ctx.ds = ctx.app.get(DataSource);
  });
  afterAll(async () => {
    await ctx.app?.close();
    await drop?.();
  });
  return ctx;
}

describe.each(DRIVERS)('SessionGuard on GraphQL resolvers (%s)', (driver) => {
  const t = useGraphqlApp({ driver, auth: { session: { freshAge: '1h' } } });

  it('refuses a guarded query without a cookie: extensions carry UNAUTHENTICATED with en and ar', async () => {
    const result = await gql(t.url, '{ me { id } }');
    expectRefusal(result, 'UNAUTHENTICATED');
    expect(ARRAF_AUTH_ERRORS.UNAUTHENTICATED.ar).toMatch(/[\u0600-\u06FF]/);
  });

  it('answers a guarded query with a valid cookie, @CurrentUser() and @CurrentSession() filled', async () => {
    const s = await createTestSession(t.app, { email: 'gql@example.com' });
    const result = await gql(t.url, '{ me { id email sessionId } }', { cookie: s.cookie });
    expect(result.body).toEqual({ data: { me: { id: s.user.id, email: 'gql@example.com', sessionId: s.session.id } } });
  });

  it('guards every query of a class-level @UseGuards(SessionGuard)', async () => {
    expectRefusal(await gql(t.url, '{ classGuarded }'), 'UNAUTHENTICATED');
    const s = await createTestSession(t.app, {});
    expect((await gql(t.url, '{ classGuarded }', { cookie: s.cookie })).body).toEqual({
      data: { classGuarded: s.user.id },
    });
  });

  it('refuses a revoked session', async () => {
    const s = await createTestSession(t.app, {});
    expect((await gql(t.url, '{ me { id } }', { cookie: s.cookie })).body.data).toEqual({ me: { id: s.user.id } });
    await t.ds.getRepository(Session).delete({ id: s.session.id });
    expectRefusal(await gql(t.url, '{ me { id } }', { cookie: s.cookie }), 'UNAUTHENTICATED');
  });

  it('refuses a @RequireFreshSession() mutation for an old sign-in with SESSION_NOT_FRESH, allows a recent one', async () => {
    const s = await createTestSession(t.app, {});
    expect((await gql(t.url, 'mutation { changePhone }', { cookie: s.cookie })).body).toEqual({
      data: { changePhone: true },
    });
    await t.ds.getRepository(Session).update({ id: s.session.id }, { createdAt: new Date(Date.now() - 2 * 3_600_000) });
    expectRefusal(await gql(t.url, 'mutation { changePhone }', { cookie: s.cookie }), 'SESSION_NOT_FRESH');
  });

  it('refuses a cookie-authenticated mutation from a cross-site origin (CSRF)', async () => {
    const s = await createTestSession(t.app, {});
    const result = await gql(t.url, 'mutation { changePhone }', { cookie: s.cookie, origin: 'https://evil.example' });
    expectRefusal(result, 'INVALID_ORIGIN');
  });
});

describe.each(DRIVERS)('SessionGuard as APP_GUARD with GraphQL (%s)', (driver) => {
  const t = useGraphqlApp({ driver, globalGuard: true });

  it('refuses an unmarked query without a cookie and answers it with one', async () => {
    expectRefusal(await gql(t.url, '{ privateQuery }'), 'UNAUTHENTICATED');
    const s = await createTestSession(t.app, {});
    expect((await gql(t.url, '{ privateQuery }', { cookie: s.cookie })).body).toEqual({
      data: { privateQuery: s.user.id },
    });
  });

  it('lets a @Public() query through without a cookie', async () => {
    expect((await gql(t.url, '{ publicQuery }')).body).toEqual({ data: { publicQuery: 'public' } });
  });
});

describe.each(DRIVERS.flatMap((driver) => (['jwt', 'database'] as const).map((strategy) => ({ driver, strategy }))))(
  'sliding renewal through GraphQL ($driver, $strategy)',
  ({ driver, strategy }) => {
    const t = useGraphqlApp({ driver, auth: { session: { strategy, bearer: true } } as Partial<ArrafAuthOptions> });

    async function dueSession() {
      const s = await createTestSession(t.app, {});
      // Last renewed two days ago (expiresIn 30d, updateAge 1d): renewal is due.
      await t.ds.getRepository(Session).update({ id: s.session.id }, { expiresAt: new Date(Date.now() + 28 * DAY) });
      return s;
    }

    it('re-issues the cookie to a cookie client', async () => {
      const s = await dueSession();
      const result = await gql(t.url, '{ me { id } }', { cookie: s.cookie });
      expect(result.body.data).toEqual({ me: { id: s.user.id } });
      const cookies = result.headers.getSetCookie();
      expect(cookies).toEqual([
        expect.stringMatching(/^__Host-auth_session=[^;]+; Path=\/; Max-Age=(259199\d|2592000);/),
      ]);
      expect(result.headers.get('set-auth-token')).toBeNull();
    });

    it('hands the renewed token to a bearer client in Set-Auth-Token, and that token works', async () => {
      const s = await dueSession();
      const result = await gql(t.url, '{ me { id } }', { authorization: `Bearer ${s.token}` });
      expect(result.body.data).toEqual({ me: { id: s.user.id } });
      const renewed = result.headers.get('set-auth-token');
      expect(renewed).toEqual(expect.any(String));
      expect(result.headers.getSetCookie()).toEqual([]);
      const again = await gql(t.url, '{ me { id } }', { authorization: `Bearer ${renewed}` });
      expect(again.body.data).toEqual({ me: { id: s.user.id } });
      expect(again.headers.get('set-auth-token')).toBeNull();
    });
  },
);

describe.each(DRIVERS)("the application's own GraphQL errors are unchanged by the module (%s)", (driver) => {
  const without = useGraphqlApp({ driver, withAuth: false });
  const withAuth = useGraphqlApp({ driver });
  const withGuardAndArrafFilter = useGraphqlApp({ driver, globalGuard: true, appFilter: 'arraf' });

  it.each([
    ['BadRequestException', '{ badRequest }', 'bad thing'],
    ['GraphQLError with a custom code', '{ customCode }', 'custom failure'],
    ['plain Error', '{ plainError }', 'plain failure'],
  ])('%s', async (_name, query, message) => {
    const reference = await gql(without.url, query);
    expect(reference.body.errors?.[0]?.message).toBe(message);
    for (const t of [withAuth, withGuardAndArrafFilter]) {
      const result = await gql(t.url, query);
      expect({ status: result.status, body: result.body }).toEqual({ status: reference.status, body: reference.body });
    }
    if (query === '{ customCode }') expect(reference.body.errors?.[0]?.extensions).toMatchObject({ code: 'MY_CODE' });
  });
});
