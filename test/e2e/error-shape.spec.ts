import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';

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
