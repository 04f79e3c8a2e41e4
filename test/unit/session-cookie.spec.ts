import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS } from '../../src/arraf-auth.constants.js';
import type { ArrafAuthSessionOptions } from '../../src/options/arraf-auth-options.interface.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { parseCookies, readCookie, SessionCookie } from '../../src/session/session-cookie.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { parseSetCookie } from '../helpers/session-test-utils.js';

const NAME = '__Host-auth_session';

async function sessionCookie(session: ArrafAuthSessionOptions = {}): Promise<SessionCookie> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      { provide: ARRAF_AUTH_OPTIONS, useValue: resolveArrafAuthOptions({ secret: TEST_SECRET, session }) },
      SessionCookie,
    ],
  }).compile();
  return moduleRef.get(SessionCookie);
}

/** An Express-like response that records the headers appended to it. */
function expressResponse() {
  const headers: [string, string][] = [];
  return { headers, append: (name: string, value: string) => headers.push([name, value]) };
}

/** A Fastify-like reply (`raw` plus `header`) that records the headers set on it. */
function fastifyReply() {
  const headers: [string, string][] = [];
  return { headers, raw: {}, header: (name: string, value: string) => headers.push([name, value]) };
}

describe('SessionCookie.read: whole-name cookie parsing (the __Host- smuggling finding)', () => {
  it('resolves `pref=x __Host-auth_session=<attacker>; __Host-auth_session=<victim>` to the victim, never the attacker', async () => {
    const cookie = await sessionCookie();
    const header = `pref=x ${NAME}=attacker-token; ${NAME}=victim-token`;
    expect(cookie.read({ cookie: header })).toEqual({ token: 'victim-token', source: 'cookie' });
    // The planted text stays inside the value of `pref`: it is not a cookie of its own.
    expect(parseCookies(header).get('pref')).toBe(`x ${NAME}=attacker-token`);
  });

  it('finds nothing when the only copy is planted inside another cookie value', async () => {
    const cookie = await sessionCookie();
    expect(cookie.read({ cookie: `pref=x ${NAME}=attacker-token` })).toBeUndefined();
    expect(cookie.read({ cookie: `pref=x;${NAME}` })).toBeUndefined();
  });

  it('refuses a session cookie name sent twice instead of picking either copy', async () => {
    const cookie = await sessionCookie();
    for (const header of [
      `${NAME}=planted; ${NAME}=genuine`,
      `${NAME}=genuine; ${NAME}=planted`,
      `${NAME}=genuine;${NAME}=genuine`,
      `a=1; ${NAME}=planted; b=2;  ${NAME} =genuine`,
    ]) {
      expect({ header, read: cookie.read({ cookie: header }) }).toEqual({ header, read: undefined });
      expect(readCookie(header, NAME)).toBeUndefined();
      expect(parseCookies(header).get(NAME)).toBeNull();
    }
  });

  it('compares whole names: a longer or shorter name is another cookie', async () => {
    const cookie = await sessionCookie();
    expect(cookie.read({ cookie: `x${NAME}=evil; ${NAME}x=evil; auth_session=evil` })).toBeUndefined();
    expect(cookie.read({ cookie: `x${NAME}=evil; ${NAME}=good` })).toEqual({ token: 'good', source: 'cookie' });
  });

  it('trims spaces around names and values, unquotes and percent-decodes values', () => {
    expect(readCookie(`a=1;   ${NAME}  =  v%20w  ; b=2`, NAME)).toBe('v w');
    expect(readCookie(`${NAME}="quoted"`, NAME)).toBe('quoted');
  });

  it('treats empty, undecodable and oversized values as absent', () => {
    expect(readCookie(`${NAME}=`, NAME)).toBeUndefined();
    expect(readCookie(`${NAME}=%E0%A4%A`, NAME)).toBeUndefined();
    expect(readCookie(`pad=${'a'.repeat(17_000)}; ${NAME}=v`, NAME)).toBeUndefined();
  });

  it('reads a header of separators only in linear time', () => {
    const header = `${';'.repeat(16_000)}${NAME}=v`;
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) expect(readCookie(header, NAME)).toBe('v');
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeLessThan(200);
  });

  it('reads Authorization: Bearer only when bearer is on, and prefers the cookie', async () => {
    const off = await sessionCookie();
    const on = await sessionCookie({ bearer: true });
    expect(off.read({ authorization: 'Bearer abc' })).toBeUndefined();
    expect(on.read({ authorization: 'Bearer abc' })).toEqual({ token: 'abc', source: 'bearer' });
    expect(on.read({ authorization: 'bearer  abc ' })).toEqual({ token: 'abc', source: 'bearer' });
    expect(on.read({ authorization: 'Bearer   ' })).toBeUndefined();
    expect(on.read({ authorization: 'Basic abc' })).toBeUndefined();
    expect(on.read({ cookie: `${NAME}=c`, authorization: 'Bearer b' })).toEqual({ token: 'c', source: 'cookie' });
    expect(on.read(undefined)).toBeUndefined();
  });
});

describe('SessionCookie.write and clear', () => {
  it('writes Set-Cookie with every configured attribute and Max-Age up to expiresAt (Express)', async () => {
    const cookie = await sessionCookie();
    const res = expressResponse();
    cookie.write(res, 'tok', new Date(Date.now() + 3600_000));
    expect(res.headers).toHaveLength(1);
    const [name, value] = res.headers[0];
    expect(name).toBe('Set-Cookie');
    const parsed = parseSetCookie(value);
    expect(parsed.name).toBe(NAME);
    expect(parsed.value).toBe('tok');
    expect(Number(parsed.attributes['max-age'])).toBeGreaterThanOrEqual(3599);
    expect(parsed.attributes).toMatchObject({ path: '/', httponly: true, secure: true, samesite: 'Lax' });
    expect(parsed.attributes.domain).toBeUndefined();
  });

  it('hands a bearer client its token in Set-Auth-Token and sets no cookie (Fastify)', async () => {
    const cookie = await sessionCookie({ bearer: true });
    const reply = fastifyReply();
    cookie.write(reply, 'renewed', new Date(Date.now() + 3600_000), 'bearer');
    expect(reply.headers).toEqual([['set-auth-token', 'renewed']]);
  });

  it('clears with an empty value, Max-Age=0 and an expiry in the past', async () => {
    const cookie = await sessionCookie({ cookieOptions: { secure: false } });
    const res = expressResponse();
    cookie.clear(res);
    const parsed = parseSetCookie(res.headers[0][1]);
    expect(parsed).toMatchObject({ name: 'auth_session', value: '' });
    expect(parsed.attributes).toMatchObject({ 'max-age': '0', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' });
    expect(parsed.attributes.secure).toBeUndefined();
  });

  it('refuses a response object of no known platform rather than silently dropping the cookie', async () => {
    const cookie = await sessionCookie();
    expect(() => cookie.write({}, 'tok', new Date(Date.now() + 1000))).toThrow(/unsupported HTTP platform/);
  });
});
