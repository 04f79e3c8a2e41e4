import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ARRAF_AUTH_ERRORS, Session } from '../../src/index.js';
import { createTestSession, type TestSession } from '../../src/testing/index.js';
import { createTestApp, type Platform, TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { SESSION_JWT_TYP, sessionJwtKey } from '../helpers/session-test-utils.js';

const PLATFORMS: Platform[] = ['express', 'fastify'];
const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;
const COOKIE = '__Host-auth_session';
const OTHER_SECRET = 'another-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA-9876543210';
/** The key the application really signs session JWTs with: derived from TEST_SECRET for this purpose. */
const SESSION_KEY = sessionJwtKey(TEST_SECRET);

type Json = Record<string, unknown>;
type Response = request.Response;

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function decode(token: string): { header: Json; payload: Json; signature: string } {
  const [h, p, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Json,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Json,
    signature,
  };
}

/** An HMAC-signed JWT with exactly the header and payload given (no library checks in the way). */
function hmacJwt(header: unknown, payload: unknown, key: string | Buffer, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerPublicPem = attacker.publicKey.export({ type: 'spki', format: 'pem' }) as string;

function rs256Jwt(header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(attacker.privateKey, 'base64url')}`;
}

function expectUnauthenticated(res: Response, label: string): void {
  const { en, ar } = ARRAF_AUTH_ERRORS.UNAUTHENTICATED;
  expect({ label, status: res.status, body: res.body }).toEqual({
    label,
    status: 401,
    body: { error: { code: 'UNAUTHENTICATED', en, ar } },
  });
}

/** What a forgery is built from: two signed-in users and the genuine header and payload of the first. */
interface Material {
  alice: TestSession;
  bob: TestSession;
  header: Json;
  payload: Json;
  signature: string;
}

const now = () => Math.floor(Date.now() / 1000);

/** Forged or malformed credentials; each must be refused before any database work. */
const FORGERIES: [string, (m: Material) => string][] = [
  [
    "a payload whose sub and sid were swapped to another user's (signature kept)",
    (m) => `${b64(m.header)}.${b64({ ...m.payload, sub: m.bob.user.id, sid: m.bob.session.id })}.${m.signature}`,
  ],
  [
    "a payload whose sid alone points to another user's session (signature kept)",
    (m) => `${b64(m.header)}.${b64({ ...m.payload, sid: m.bob.session.id })}.${m.signature}`,
  ],
  [
    'a payload with a later exp (signature kept)',
    (m) => `${b64(m.header)}.${b64({ ...m.payload, exp: now() + 3650 * 86400 })}.${m.signature}`,
  ],
  ['alg "none" with an empty signature', (m) => `${b64({ ...m.header, alg: 'none' })}.${b64(m.payload)}.`],
  ['alg "none" without a signature part', (m) => `${b64({ ...m.header, alg: 'none' })}.${b64(m.payload)}`],
  [
    'alg "None" with the original signature',
    (m) => `${b64({ ...m.header, alg: 'None' })}.${b64(m.payload)}.${m.signature}`,
  ],
  ['HS256 signed with another secret under the genuine kid', (m) => hmacJwt(m.header, m.payload, OTHER_SECRET)],
  [
    'HS512 signed with the real session key',
    (m) => hmacJwt({ ...m.header, alg: 'HS512' }, m.payload, SESSION_KEY, 'sha512'),
  ],
  [
    'HS384 signed with the real session key',
    (m) => hmacJwt({ ...m.header, alg: 'HS384' }, m.payload, SESSION_KEY, 'sha384'),
  ],
  [
    'an expired exp, signed with the real session key',
    (m) => hmacJwt(m.header, { ...m.payload, exp: now() - 60 }, SESSION_KEY),
  ],
  [
    'an nbf in the future, signed with the real session key',
    (m) => hmacJwt(m.header, { ...m.payload, nbf: now() + 3600 }, SESSION_KEY),
  ],
  [
    'an unknown kid, signed with the real session key',
    (m) => hmacJwt({ ...m.header, kid: 'ffffffffffffffff' }, m.payload, SESSION_KEY),
  ],
  [
    'kid "../../x", signed with the real session key',
    (m) => hmacJwt({ ...m.header, kid: '../../x' }, m.payload, SESSION_KEY),
  ],
  [
    'kid "\' OR 1=1 --", signed with the real session key',
    (m) => hmacJwt({ ...m.header, kid: "' OR 1=1 --" }, m.payload, SESSION_KEY),
  ],
  [
    'kid as an object, signed with the real session key',
    (m) => hmacJwt({ ...m.header, kid: { $ne: null } }, m.payload, SESSION_KEY),
  ],
  [
    'no kid, signed with the real session key',
    (m) => {
      const { kid: _kid, ...header } = m.header;
      return hmacJwt(header, m.payload, SESSION_KEY);
    },
  ],
  [
    'an RS256 header over an HMAC signature by the real session key',
    (m) => hmacJwt({ ...m.header, alg: 'RS256' }, m.payload, SESSION_KEY),
  ],
  [
    "RS256 signed by the attacker's RSA key, with its public key embedded as jwk",
    (m) => rs256Jwt({ ...m.header, alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) }, m.payload),
  ],
  [
    "HS256 signed with the attacker's RSA public key as the HMAC secret (RS/HS confusion)",
    (m) => hmacJwt(m.header, m.payload, attackerPublicPem),
  ],
  [
    'a jku header pointing at an attacker key set',
    (m) => hmacJwt({ ...m.header, kid: 'attacker', jku: 'https://evil.example/jwks.json' }, m.payload, OTHER_SECRET),
  ],
  [
    'the genuine header and payload signed with the raw secret instead of the key derived for sessions',
    (m) => hmacJwt(m.header, m.payload, TEST_SECRET),
  ],
  [
    'only the typ changed to the generic "JWT", re-signed with the real session key',
    (m) => hmacJwt({ ...m.header, typ: 'JWT' }, m.payload, SESSION_KEY),
  ],
  [
    'only the typ changed to "at+jwt", re-signed with the real session key',
    (m) => hmacJwt({ ...m.header, typ: 'at+jwt' }, m.payload, SESSION_KEY),
  ],
  [
    'only the typ removed, re-signed with the real session key',
    (m) => {
      const { typ: _typ, ...header } = m.header;
      return hmacJwt(header, m.payload, SESSION_KEY);
    },
  ],
  [
    'an edited header (typ changed) with the original signature',
    (m) => `${b64({ ...m.header, typ: 'at+jwt' })}.${b64(m.payload)}.${m.signature}`,
  ],
  [
    'a header re-encoded with extra whitespace, signature kept',
    (m) => `${Buffer.from(JSON.stringify(m.header, null, 1)).toString('base64url')}.${b64(m.payload)}.${m.signature}`,
  ],
  ['a reversed signature', (m) => `${b64(m.header)}.${b64(m.payload)}.${[...m.signature].reverse().join('')}`],
  ['a truncated signature', (m) => `${b64(m.header)}.${b64(m.payload)}.${m.signature.slice(0, 20)}`],
  [
    'a payload without sid, signed with the real session key',
    (m) => hmacJwt(m.header, { ...m.payload, sid: undefined }, SESSION_KEY),
  ],
  [
    'a payload whose sid is an object (operator injection), signed with the real session key',
    (m) => hmacJwt(m.header, { ...m.payload, sid: { $ne: null } }, SESSION_KEY),
  ],
  ['a payload that is not JSON, signed with the real session key', (m) => hmacJwt(m.header, 'not json', SESSION_KEY)],
  ['a header that is not JSON', (m) => `${b64('not json')}.${b64(m.payload)}.${m.signature}`],
  ['a header that is JSON null', (m) => `${b64('null')}.${b64(m.payload)}.${m.signature}`],
  ['the percent-escape fragment %E0%A4%A', () => '%E0%A4%A'],
  ['a 10 KB value', () => 'a'.repeat(10 * 1024)],
  ['a 10 KB JWT-shaped value', (m) => `${b64(m.header)}.${'A'.repeat(10 * 1024)}.${m.signature}`],
  ['non-base64 parts', () => '!!!.@@@.###'],
  ['three dots', (m) => `${b64(m.header)}.${b64(m.payload)}.${m.signature}.extra`],
  ['only dots', () => '...'],
  ['a single word', () => 'garbage'],
  ['an empty value', () => ''],
];

async function withApp(
  database: DataSourceOptions,
  platform: Platform,
  secret: string | string[],
): Promise<INestApplication> {
  return createTestApp({ database, platform, auth: { secret, session: { bearer: true } } });
}

describe.each(PLATFORMS)('JWT tampering on the jwt strategy (%s)', (platform) => {
  let app: INestApplication;
  let drop: () => Promise<void>;
  const queries: string[] = [];
  let m: Material;

  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    app = await createTestApp({
      database: db.options,
      platform,
      auth: { session: { bearer: true } },
      onQuery: (sql) => queries.push(sql),
    });
    const alice = await createTestSession(app, { email: 'alice@example.com' });
    const bob = await createTestSession(app, { email: 'bob@example.com' });
    m = { alice, bob, ...decode(alice.token) };
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  const http = () => request(app.getHttpServer());
  const asCookie = (token: string) => http().get('/me').set('Cookie', `${COOKIE}=${token}`);
  const asBearer = (token: string) => http().get('/me').set('Authorization', `Bearer ${token}`);

  it('accepts the genuine token, and the same header and payload re-signed with the real session key (control for the forgeries)', async () => {
    expect(m.header).toEqual({ alg: 'HS256', typ: SESSION_JWT_TYP, kid: expect.any(String) });
    expect(m.payload).toMatchObject({ sub: m.alice.user.id, sid: m.alice.session.id, email: 'alice@example.com' });
    const resigned = hmacJwt(m.header, m.payload, SESSION_KEY);
    for (const token of [m.alice.token, resigned]) {
      for (const send of [asCookie, asBearer]) {
        const res = await send(token);
        expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: m.alice.user.id });
      }
    }
  });

  it.each(FORGERIES)(
    'rejects with 401, as cookie and as Bearer, before any database query: %s',
    async (name, forge) => {
      const token = forge(m);
      queries.length = 0;
      expectUnauthenticated(await asCookie(token), `${name} (cookie)`);
      expectUnauthenticated(await asBearer(token), `${name} (Bearer)`);
      expect(queries).toEqual([]);
    },
  );

  it('rejects a session JWT for another audience, signed with the same key and kid through JwtService', async () => {
    const jwt = new JwtService();
    const sign = (audience: string) =>
      jwt.sign(
        { sub: m.alice.user.id, sid: m.alice.session.id, email: 'alice@example.com' },
        {
          secret: SESSION_KEY,
          algorithm: 'HS256',
          audience,
          expiresIn: 3600,
          header: { alg: 'HS256', typ: SESSION_JWT_TYP, kid: m.header.kid as string },
        },
      );
    // Control: the genuine audience passes, so only the audience differs below.
    expect((await asCookie(sign(m.payload.aud as string))).status).toBe(200);
    for (const send of [asCookie, asBearer]) expectUnauthenticated(await send(sign('other')), 'aud other');
    const noAudience = hmacJwt(m.header, { ...m.payload, aud: undefined }, SESSION_KEY);
    expectUnauthenticated(await asCookie(noAudience), 'no aud');
  });

  it('rejects a token re-signed with the real session key whose sub names another user than its session', async () => {
    const token = hmacJwt(m.header, { ...m.payload, sub: m.bob.user.id }, SESSION_KEY);
    expectUnauthenticated(await asCookie(token), 'sub mismatch (cookie)');
    expectUnauthenticated(await asBearer(token), 'sub mismatch (Bearer)');
  });

  it('rejects a validly signed token naming a session id that does not exist', async () => {
    const token = hmacJwt(m.header, { ...m.payload, sid: randomUUID() }, SESSION_KEY);
    expectUnauthenticated(await asCookie(token), 'unknown sid');
  });

  it('rejects a JWT whose session was revoked, on cookie and Bearer alike', async () => {
    const s = await createTestSession(app, {});
    expect((await asBearer(s.token)).status).toBe(200);
    await app.get(DataSource).getRepository(Session).delete({ id: s.session.id });
    expectUnauthenticated(await asCookie(s.token), 'revoked (cookie)');
    expectUnauthenticated(await asBearer(s.token), 'revoked (Bearer)');
  });

  it('rejects malformed Authorization headers with 401', async () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      'Bearer    ',
      'Basic dXNlcjpwYXNz',
      `Token ${m.alice.token}`,
      `Bearer%20${m.alice.token}`,
    ]) {
      expectUnauthenticated(
        await http().get('/me').set('Authorization', value),
        `Authorization: ${value.slice(0, 20)}`,
      );
    }
  });

  it('answers GET /auth/session with nulls (not 401 or 500) for a forged cookie, and clears it', async () => {
    const res = await http()
      .get('/auth/session')
      .set('Cookie', `${COOKIE}=${hmacJwt(m.header, m.payload, OTHER_SECRET)}`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { user: null, session: null } });
    expect(res.headers['set-cookie']).toEqual([expect.stringMatching(new RegExp(`^${COOKIE}=; Path=/; Max-Age=0;`))]);
  });
});

describe.each(PLATFORMS)('signing-key rotation (%s)', (platform) => {
  const OLD = 'old-secret-abcdefghijklmnopqrstuvwxyz-0123456789';
  const NEW = 'new-secret-ABCDEFGHIJKLMNOPQRSTUVWXYZ-9876543210';
  let database: DataSourceOptions;
  let drop: () => Promise<void>;
  let old: TestSession;

  beforeAll(async () => {
    ({ options: database, drop } = await SQLITE.create());
    const app = await withApp(database, platform, OLD);
    old = await createTestSession(app, {});
    await app.close();
  });

  afterAll(async () => {
    await drop?.();
  });

  it('keeps tokens of a previous secret valid while it is listed, and signs new ones with the first secret', async () => {
    const app = await withApp(database, platform, [NEW, OLD]);
    try {
      const res = await request(app.getHttpServer()).get('/me').set('Cookie', old.cookie);
      expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: old.user.id });
      const fresh = await createTestSession(app, {});
      expect(decode(fresh.token).header.kid).not.toBe(decode(old.token).header.kid);
    } finally {
      await app.close();
    }
  });

  it('rejects tokens of a retired secret', async () => {
    const app = await withApp(database, platform, NEW);
    try {
      expectUnauthenticated(await request(app.getHttpServer()).get('/me').set('Cookie', old.cookie), 'retired secret');
      // The row itself is still there: only the key retirement refused it.
      expect(await app.get(DataSource).getRepository(Session).countBy({ id: old.session.id })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe.each(PLATFORMS)('malformed credentials on the database strategy (%s)', (platform) => {
  let app: INestApplication;
  let drop: () => Promise<void>;
  let s: TestSession;
  let jwtFromOtherApp: string;

  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    app = await createTestApp({
      database: db.options,
      platform,
      auth: { session: { strategy: 'database', bearer: true } },
    });
    s = await createTestSession(app, {});
    jwtFromOtherApp = hmacJwt({ alg: 'HS256', typ: 'JWT' }, { sub: s.user.id, sid: s.session.id }, SESSION_KEY);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('accepts the genuine token as a cookie and as a Bearer token (control)', async () => {
    expect((await request(app.getHttpServer()).get('/me').set('Cookie', s.cookie)).status).toBe(200);
    expect((await request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${s.token}`)).status).toBe(200);
  });

  it('rejects garbage, altered and foreign tokens with 401, as a cookie and as a Bearer token', async () => {
    const values: [string, string][] = [
      ['%E0%A4%A', '%E0%A4%A'],
      ['10 KB', 'a'.repeat(10 * 1024)],
      ['non-base64', '!!!.@@@.###'],
      ['three dots', 'a.b.c.d'],
      ['empty', ''],
      ['altered token', `${s.token.slice(0, -1)}${s.token.endsWith('A') ? 'B' : 'A'}`],
      ['token with a suffix', `${s.token}x`],
      ['SQL', "' OR 1=1 --"],
      ['a JWT naming the session', jwtFromOtherApp],
    ];
    for (const [label, value] of values) {
      expectUnauthenticated(
        await request(app.getHttpServer()).get('/me').set('Cookie', `${COOKIE}=${value}`),
        `${label} (cookie)`,
      );
      expectUnauthenticated(
        await request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${value}`),
        `${label} (Bearer)`,
      );
    }
  });
});
