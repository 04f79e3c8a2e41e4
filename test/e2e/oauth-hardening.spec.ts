import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';
import { deriveKey } from '../../src/crypto/crypto.util.js';
import { Verification } from '../../src/entities/verification.entity.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { type OAuthTestEnvironment, startOAuthEnvironment } from '../helpers/oauth-app.js';
import {
  authorizeAt,
  callApp,
  CHECK_COOKIE,
  decodeJwtPayload,
  expectError,
  signInVia,
  startSignIn,
  unique,
} from '../helpers/oauth-flow.js';

const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;
const OLD_SECRET = 'an older secret, still verifying: 0123456789abcdef';

describe('OAuth hardening: per-purpose check-cookie keys and state expiry', () => {
  let database: Awaited<ReturnType<typeof sqlite.create>>;
  let env: OAuthTestEnvironment;
  let app: INestApplication;

  beforeAll(async () => {
    database = await sqlite.create();
    env = await startOAuthEnvironment(database.options, {
      auth: {
        secret: [TEST_SECRET, OLD_SECRET],
        // 200 flows from one address: the per-address OAuth limits are not what this suite measures.
        rateLimit: {
          limits: {
            'oauth-sign-in:ip': { limit: 10_000, window: 600 },
            'oauth-callback:ip': { limit: 10_000, window: 600 },
          },
        },
      },
    });
    app = env.app;
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await env?.close();
    await database?.drop();
  });

  const stateRows = () => app.get(DataSource).getRepository(Verification).countBy({ type: 'oauth-state' });

  /** The started flow's claims re-signed with `key`, as a `Cookie` header. */
  function resigned(checkCookieValue: string, key: string | Buffer): string {
    const { iat: _iat, exp: _exp, aud: _aud, ...claims } = decodeJwtPayload(checkCookieValue);
    const token = app.get(JwtService).sign(claims, { secret: key, audience: 'arraf-auth:oauth-check', expiresIn: 600 });
    return `${CHECK_COOKIE}=${token}`;
  }

  it('signs the check cookie with an HKDF key of its own; the former HMAC-derived key is refused', async () => {
    const legacyKey = createHmac('sha256', TEST_SECRET).update('arraf-auth:oauth-check-cookie').digest('hex');
    const refused = await startSignIn(app, 'oidc');
    const refusedCallback = await authorizeAt(refused.authorizeUrl);
    expectError(
      await callApp(app, refusedCallback, resigned(refused.checkCookieValue, legacyKey)),
      400,
      'OAUTH_STATE_MISMATCH',
    );

    env.oidcProvider.nextLogin({ sub: `hkdf-${unique()}` });
    const accepted = await startSignIn(app, 'oidc');
    const acceptedCallback = await authorizeAt(accepted.authorizeUrl);
    const key = deriveKey(TEST_SECRET, 'oauth-check-cookie');
    expect((await callApp(app, acceptedCallback, resigned(accepted.checkCookieValue, key))).status).toBe(302);
  });

  it('keeps verifying check cookies made under an older secret of the rotation list', async () => {
    env.oidcProvider.nextLogin({ sub: `rotated-${unique()}` });
    const started = await startSignIn(app, 'oidc');
    const callback = await authorizeAt(started.authorizeUrl);
    const oldKey = deriveKey(OLD_SECRET, 'oauth-check-cookie');
    expect((await callApp(app, callback, resigned(started.checkCookieValue, oldKey))).status).toBe(302);
  });

  it('200 completed flows leave a bounded number of state rows once expired, with no scheduler', async () => {
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now');
    let offset = 0;
    clock.mockImplementation(() => realNow() + offset);
    const expireAll = () =>
      app
        .get(DataSource)
        .getRepository(Verification)
        .update({ type: 'oauth-state' }, { expiresAt: new Date(realNow() + offset - 1000) });
    try {
      // A minute after any earlier sweep, so this first flow sweeps and the next 199 do not.
      offset += 61_000;
      for (let i = 0; i < 200; i++) {
        env.oidcProvider.nextLogin({ sub: `flood-${i}-${unique()}` });
        expect((await signInVia(app, 'oidc')).callback.status).toBe(302);
      }
      const written = await stateRows();
      expect(written).toBeGreaterThanOrEqual(200);

      // All of them expire; within the same minute no sweep runs (at most one a minute).
      await expireAll();
      env.oidcProvider.nextLogin({ sub: `late-${unique()}` });
      expect((await signInVia(app, 'oidc')).callback.status).toBe(302);
      expect(await stateRows()).toBe(written + 1);

      // A minute later the next sign-in sweeps every expired row: only its own remains.
      offset += 61_000;
      await expireAll();
      env.oidcProvider.nextLogin({ sub: `after-${unique()}` });
      expect((await signInVia(app, 'oidc')).callback.status).toBe(302);
      expect(await stateRows()).toBe(1);
    } finally {
      clock.mockRestore();
    }
  }, 120_000);
});
