import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadGraphqlTestApp } from '../apps/graphql-loader.js';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';

const { createGraphqlTestApp } = await loadGraphqlTestApp();

const shape = { error: { code: expect.any(String), en: expect.any(String), ar: expect.any(String) } };

describe.each<Platform>(['express', 'fastify'])('errors before routing on %s', (platform) => {
  let app: INestApplication;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabases()[0].create();
    drop = db.drop;
    app = await createTestApp({ database: db.options, platform });
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('answers invalid JSON on an auth route with 400 INVALID_INPUT in the error shape', async () => {
    const res = await request(app.getHttpServer())
      .post('/auth/otp/send')
      .set('Content-Type', 'application/json')
      .send('{"method": "phone", "phone": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(shape);
    expect(res.body.error.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(res.body)).not.toMatch(/stack|at \w+ \(/);
  });

  it('answers an unknown route under the auth prefix with 404 NOT_FOUND in the error shape', async () => {
    const res = await request(app.getHttpServer()).get('/auth/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', en: expect.any(String), ar: expect.any(String) } });
  });

  it("leaves the application's own routes to Nest's default error handling", async () => {
    const res = await request(app.getHttpServer()).get('/no-such-app-route');
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBeUndefined();
    expect(res.body.statusCode).toBe(404);
  });
});

describe.each<Platform>(['express', 'fastify'])('oversized bodies on %s', (platform) => {
  let app: INestApplication;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabases()[0].create();
    drop = db.drop;
    app = await createTestApp({ database: db.options, platform });
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('answers a body over the parser limit on an auth route with INVALID_INPUT in the error shape', async () => {
    const res = await request(app.getHttpServer())
      .post('/auth/otp/send')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ method: 'phone', phone: '0551234567', pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).toEqual({ error: { code: 'INVALID_INPUT', en: expect.any(String), ar: expect.any(String) } });
  });
});

// ---------------------------------------------------------------------------------------------
// The module never changes the application's own error handling (issue 12): an application with
// `setGlobalPrefix('api')`, its own route under `/api/v1/auth/...`, compared with the same
// application without the module.

const APP_ROUTE = '/api/v1/auth/things/1';

describe.each<Platform>(['express', 'fastify'])("the application's own REST errors on %s", (platform) => {
  const apps = {} as Record<'without' | 'with' | 'appFilter' | 'arrafFilter', string>;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const variants = {
      without: { withAuth: false },
      with: {},
      appFilter: { appFilter: 'app' },
      arrafFilter: { appFilter: 'arraf' },
    } as const;
    for (const [name, variant] of Object.entries(variants)) {
      const db = await testDatabases()[0].create();
      const { app, url } = await createGraphqlTestApp({ ...variant, driver: platform, database: db.options });
      apps[name as keyof typeof apps] = url;
      closers.push(() => app.close(), db.drop);
    }
  });

  afterAll(async () => {
    for (const close of closers) await close();
  });

  async function get(app: keyof typeof apps, path: string, init: RequestInit = {}) {
    const res = await fetch(`${apps[app]}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as unknown) : text };
  }

  const invalidJson: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"method": "phone", "phone": ',
  };

  it('keeps the message of a NotFoundException thrown on a route whose path contains /auth/', async () => {
    const reference = await get('without', APP_ROUTE);
    expect(reference).toEqual({
      status: 404,
      body: { statusCode: 404, message: 'thing not found', error: 'Not Found' },
    });
    expect(await get('with', APP_ROUTE)).toEqual(reference);
  });

  it('answers unknown application paths and invalid JSON outside the auth prefix exactly as without the module', async () => {
    for (const path of ['/api/nope', '/api/v1/auth/nope', '/api/authx/nope']) {
      expect({ path, ...(await get('with', path)) }).toEqual({ path, ...(await get('without', path)) });
    }
    const reference = await get('without', '/api/v1/auth/things/1', invalidJson);
    expect(await get('with', '/api/v1/auth/things/1', invalidJson)).toEqual(reference);
  });

  it('shapes pre-routing errors under the prefix with the global prefix: /api/auth/...', async () => {
    expect(await get('with', '/api/auth/otp/send', invalidJson)).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_INPUT', en: expect.any(String), ar: expect.any(String) } },
    });
    expect(await get('with', '/api/auth/no-such-route')).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', en: expect.any(String), ar: expect.any(String) } },
    });
  });

  it("lets the application's own APP_FILTER see its routes' errors, unknown paths included", async () => {
    expect(await get('appFilter', APP_ROUTE)).toEqual({
      status: 418,
      body: { appFilter: true, message: 'thing not found' },
    });
    expect((await get('appFilter', '/api/nope')).status).toBe(418);
  });

  it("keeps the module's own routes in the SPEC shape under an application APP_FILTER", async () => {
    expect(await get('appFilter', '/api/auth/sessions')).toEqual({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', en: expect.any(String), ar: expect.any(String) } },
    });
    expect((await get('appFilter', '/api/auth/no-such-route')).status).toBe(404);
    expect((await get('appFilter', '/api/auth/otp/send', invalidJson)).body).toEqual({
      error: { code: 'INVALID_INPUT', en: expect.any(String), ar: expect.any(String) },
    });
  });

  it('runs ArrafAuthExceptionFilter registered the usual Nest way (APP_FILTER) on the application routes', async () => {
    expect(await get('arrafFilter', APP_ROUTE)).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', en: expect.any(String), ar: expect.any(String) } },
    });
  });
});
