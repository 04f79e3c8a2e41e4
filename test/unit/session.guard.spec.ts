import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, type ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { WsException } from '@nestjs/websockets';
import { ARRAF_AUTH_OPTIONS, REQUEST_SESSION_KEY } from '../../src/arraf-auth.constants.js';
import { Public } from '../../src/decorators/public.decorator.js';
import { RequireFreshSession } from '../../src/decorators/require-fresh-session.decorator.js';
import type { Session } from '../../src/entities/session.entity.js';
import type { User } from '../../src/entities/user.entity.js';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { SessionCookie } from '../../src/session/session-cookie.js';
import { SessionGuard } from '../../src/session/session.guard.js';
import { type ActiveSession, SessionService } from '../../src/session/session.service.js';
import { TEST_SECRET } from '../apps/test-app.js';

const TRUSTED = 'https://app.example';
const COOKIE = '__Host-auth_session';
const HOUR = 3_600_000;

@Controller()
class Routes {
  @Get('private')
  guarded() {}

  @Get('open')
  @Public()
  open() {}

  @Get('sensitive')
  @RequireFreshSession()
  sensitive() {}
}

type Holder = Record<string | symbol, unknown>;
type Route = keyof Routes;

/** The session layer's answers, by token: the guard's only source of truth, counted per call. */
class FakeSessions {
  readonly lookups: string[] = [];
  readonly active = new Map<string, ActiveSession>();

  add(token: string, options: { signedInAgo?: number; renewTo?: string } = {}): ActiveSession {
    const user = { id: `user-${token}` } as User;
    const session = {
      id: `session-${token}`,
      userId: user.id,
      createdAt: new Date(Date.now() - (options.signedInAgo ?? 0)),
      expiresAt: new Date(Date.now() + 24 * HOUR),
    } as Session;
    const active = { user, session, cookieValue: options.renewTo };
    this.active.set(token, active);
    return active;
  }

  /** The service's own `getSession` (it delegates to `checkSession`), so the guard takes the fast path. */
  readonly getSession = SessionService.prototype.getSession;

  /** Tokens whose answer comes back synchronously (what a cache hit does); the others through a promise. */
  readonly inMemory = new Set<string>();

  checkSession(token: string | undefined): ActiveSession | null | Promise<ActiveSession | null> {
    this.lookups.push(String(token));
    const answer = (token !== undefined && this.active.get(token)) || null;
    return token !== undefined && this.inMemory.has(token) ? answer : Promise.resolve(answer);
  }

  isFresh(session: Pick<Session, 'createdAt'>): boolean {
    return Date.now() - session.createdAt.getTime() <= 24 * HOUR;
  }
}

/** An Express-like response that records the headers the guard appends. */
class RecordingResponse {
  readonly headers: [string, string][] = [];
  append(name: string, value: string): void {
    this.headers.push([name, value]);
  }
}

async function guardWith(options: Partial<ArrafAuthOptions> = {}) {
  const sessions = new FakeSessions();
  const moduleRef = await Test.createTestingModule({
    providers: [
      SessionGuard,
      SessionCookie,
      Reflector,
      { provide: SessionService, useValue: sessions },
      {
        provide: ARRAF_AUTH_OPTIONS,
        useValue: resolveArrafAuthOptions({ secret: TEST_SECRET, trustedOrigins: [TRUSTED], ...options }),
      },
    ],
  }).compile();
  return { guard: moduleRef.get(SessionGuard), sessions };
}

function base(route: Route, type: string) {
  return { getHandler: () => Routes.prototype[route], getClass: () => Routes, getType: () => type };
}

function httpContext(route: Route, request: Holder, response: unknown = new RecordingResponse()): ExecutionContext {
  return {
    ...base(route, 'http'),
    getArgByIndex: (i: number) => [request, response][i],
  } as unknown as ExecutionContext;
}

function graphqlContext(route: Route, gqlContext: Holder): ExecutionContext {
  const args = [{}, {}, gqlContext, {}];
  return { ...base(route, 'graphql'), getArgByIndex: (i: number) => args[i] } as unknown as ExecutionContext;
}

function wsContext(route: Route, client: Holder): ExecutionContext {
  return {
    ...base(route, 'ws'),
    switchToWs: () => ({ getClient: () => client, getData: () => ({}) }),
  } as unknown as ExecutionContext;
}

const cookieHeaders = (token: string, extra: Record<string, string> = {}) => ({
  cookie: `${COOKIE}=${token}`,
  ...extra,
});

/** `canActivate` as a promise, whether the guard answered synchronously or not (a synchronous throw rejects). */
function activate(guard: SessionGuard, context: ExecutionContext): Promise<boolean> {
  return new Promise((resolve) => resolve(guard.canActivate(context)));
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the guard to refuse');
    },
    (error: unknown) => error,
  );
}

describe('SessionGuard over HTTP', () => {
  it('lets a valid session cookie through and leaves the user and the session on the request', async () => {
    const { guard, sessions } = await guardWith();
    const active = sessions.add('tok-1');
    const request: Holder = { method: 'GET', headers: cookieHeaders('tok-1') };
    await expect(activate(guard, httpContext('guarded', request))).resolves.toBe(true);
    expect(request.user).toBe(active.user);
    expect(request[REQUEST_SESSION_KEY]).toBe(active.session);
    expect(sessions.lookups).toEqual(['tok-1']);
  });

  it.each([
    ['no credential', {}],
    ['an unknown session token', cookieHeaders('gone')],
  ])('refuses %s with 401 UNAUTHENTICATED', async (_label, headers) => {
    const { guard } = await guardWith();
    const error = await refusal(activate(guard, httpContext('guarded', { method: 'GET', headers })));
    expect(error).toBeInstanceOf(ArrafAuthException);
    expect({ code: (error as ArrafAuthException).code, status: (error as ArrafAuthException).getStatus() }).toEqual({
      code: 'UNAUTHENTICATED',
      status: 401,
    });
  });

  it('lets @Public() routes through without reading a credential or the database', async () => {
    const { guard, sessions } = await guardWith();
    await expect(activate(guard, httpContext('open', { method: 'POST', headers: {} }))).resolves.toBe(true);
    expect(sessions.lookups).toEqual([]);
  });

  it('refuses a session older than freshAge on @RequireFreshSession() routes with 403 SESSION_NOT_FRESH', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('old', { signedInAgo: 48 * HOUR });
    sessions.add('new', { signedInAgo: HOUR });
    const get = (token: string) => activate(guard, httpContext('sensitive', { headers: cookieHeaders(token) }));
    const error = (await refusal(get('old'))) as ArrafAuthException;
    expect({ code: error.code, status: error.getStatus() }).toEqual({ code: 'SESSION_NOT_FRESH', status: 403 });
    await expect(get('new')).resolves.toBe(true);
  });

  it('writes a renewed cookie through SessionCookie as Set-Cookie', async () => {
    const { guard, sessions } = await guardWith();
    const active = sessions.add('tok-2', { renewTo: 'renewed-token' });
    const response = new RecordingResponse();
    await activate(guard, httpContext('guarded', { headers: cookieHeaders('tok-2') }, response));
    const cookie = new SessionCookie(resolveArrafAuthOptions({ secret: TEST_SECRET }));
    expect(response.headers).toHaveLength(1);
    expect(response.headers[0][0]).toBe('Set-Cookie');
    // The same serialisation the cookie provider gives (Max-Age may differ by the second that passed).
    const strip = (value: string) => value.replace(/Max-Age=\d+/, 'Max-Age=N');
    expect(strip(response.headers[0][1])).toBe(strip(cookie.serialize('renewed-token', active.session.expiresAt)));
  });

  it('hands a renewed bearer token back in Set-Auth-Token, never as a cookie', async () => {
    const { guard, sessions } = await guardWith({ session: { bearer: true } });
    sessions.add('bearer-1', { renewTo: 'renewed-bearer' });
    const response = new RecordingResponse();
    const request = { method: 'GET', headers: { authorization: 'Bearer bearer-1' } };
    await expect(activate(guard, httpContext('guarded', request, response))).resolves.toBe(true);
    expect(response.headers).toEqual([['Set-Auth-Token', 'renewed-bearer']]);
  });

  it('writes nothing when the session was not renewed', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('tok-3');
    const response = new RecordingResponse();
    await activate(guard, httpContext('guarded', { headers: cookieHeaders('tok-3') }, response));
    expect(response.headers).toEqual([]);
  });

  it('looks the session up once per request when two guards check it', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('tok-4');
    const request: Holder = { method: 'GET', headers: cookieHeaders('tok-4') };
    await activate(guard, httpContext('guarded', request));
    await activate(guard, httpContext('guarded', request));
    expect(sessions.lookups).toEqual(['tok-4']);
  });
});

describe('SessionGuard when the answer is in memory', () => {
  it('answers true synchronously (no promise) for a session the session layer answers from memory', async () => {
    const { guard, sessions } = await guardWith();
    const active = sessions.add('hit');
    sessions.inMemory.add('hit');
    const request: Holder = { method: 'GET', headers: cookieHeaders('hit') };
    expect(guard.canActivate(httpContext('guarded', request))).toBe(true);
    expect(request.user).toBe(active.user);
    // A lookup that needs storage still goes through a promise.
    sessions.add('miss');
    const pending = guard.canActivate(httpContext('guarded', { method: 'GET', headers: cookieHeaders('miss') }));
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toBe(true);
  });

  it('refuses synchronously with the same errors, and answers a second guard on the request from memory', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('old', { signedInAgo: 48 * HOUR });
    sessions.inMemory.add('old');
    expect(() => guard.canActivate(httpContext('sensitive', { headers: cookieHeaders('old') }))).toThrow(
      expect.objectContaining({ code: 'SESSION_NOT_FRESH' }),
    );
    expect(() => guard.canActivate(httpContext('guarded', { method: 'GET', headers: {} }))).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED' }),
    );
    sessions.add('slow');
    const request: Holder = { method: 'GET', headers: cookieHeaders('slow') };
    await activate(guard, httpContext('guarded', request));
    expect(guard.canActivate(httpContext('guarded', request))).toBe(true);
    expect(sessions.lookups.filter((token) => token === 'slow')).toHaveLength(1);
  });

  it('reads route metadata once per handler and class', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('m');
    sessions.inMemory.add('m');
    const reflector = (guard as unknown as { reflector: Reflector }).reflector;
    let reads = 0;
    const read = reflector.get.bind(reflector);
    reflector.get = ((key: string, target: never) => (reads++, read(key, target))) as Reflector['get'];
    for (let i = 0; i < 5; i++)
      guard.canActivate(httpContext('guarded', { method: 'GET', headers: cookieHeaders('m') }));
    const perRequest = reads;
    for (let i = 0; i < 5; i++)
      guard.canActivate(httpContext('guarded', { method: 'GET', headers: cookieHeaders('m') }));
    expect(reads).toBe(perRequest);
    expect(reads).toBeGreaterThan(0);
    expect(() => guard.canActivate(httpContext('open', { method: 'GET', headers: {} }))).not.toThrow();
  });
});

describe('SessionGuard origin rule', () => {
  it('refuses a cookie on a state-changing request from an untrusted origin, before any lookup', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('tok');
    const request = { method: 'POST', headers: cookieHeaders('tok', { origin: 'https://evil.example' }) };
    const error = (await refusal(activate(guard, httpContext('guarded', request)))) as ArrafAuthException;
    expect({ code: error.code, status: error.getStatus() }).toEqual({ code: 'INVALID_ORIGIN', status: 403 });
    expect(sessions.lookups).toEqual([]);
  });

  it('accepts the trusted origin, and a cookie GET from anywhere', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('tok');
    const post = { method: 'POST', headers: cookieHeaders('tok', { origin: TRUSTED }) };
    const get = { method: 'GET', headers: cookieHeaders('tok', { origin: 'https://evil.example' }) };
    await expect(activate(guard, httpContext('guarded', post))).resolves.toBe(true);
    await expect(activate(guard, httpContext('guarded', get))).resolves.toBe(true);
  });

  it('refuses a cookie POST without Origin or Referer unless allowMissingOrigin', async () => {
    const strict = await guardWith();
    strict.sessions.add('tok');
    const error = (await refusal(
      activate(strict.guard, httpContext('guarded', { method: 'POST', headers: cookieHeaders('tok') })),
    )) as ArrafAuthException;
    expect(error.code).toBe('INVALID_ORIGIN');

    const lenient = await guardWith({ allowMissingOrigin: true });
    lenient.sessions.add('tok');
    const request = { method: 'POST', headers: cookieHeaders('tok') };
    await expect(activate(lenient.guard, httpContext('guarded', request))).resolves.toBe(true);
  });

  it('does not apply to bearer tokens, which a browser never sends on its own', async () => {
    const { guard, sessions } = await guardWith({ session: { bearer: true } });
    sessions.add('b');
    const request = { method: 'POST', headers: { authorization: 'Bearer b', origin: 'https://evil.example' } };
    await expect(activate(guard, httpContext('guarded', request))).resolves.toBe(true);
  });
});

describe('SessionGuard over GraphQL', () => {
  it('authenticates from context.req and renews through context.res (Apollo) or context.reply (Mercurius)', async () => {
    const { guard, sessions } = await guardWith();
    const active = sessions.add('gql', { renewTo: 'gql-renewed' });
    const apolloReq: Holder = { method: 'POST', headers: cookieHeaders('gql', { origin: TRUSTED }) };
    const apolloRes = new RecordingResponse();
    await expect(activate(guard, graphqlContext('guarded', { req: apolloReq, res: apolloRes }))).resolves.toBe(true);
    expect(apolloReq.user).toBe(active.user);
    expect(apolloRes.headers.map(([name]) => name)).toEqual(['Set-Cookie']);

    const reply = {
      raw: {},
      sent: [] as [string, string][],
      header(name: string, value: string) {
        this.sent.push([name, value]);
      },
    };
    const mercuriusReq: Holder = { method: 'POST', headers: cookieHeaders('gql', { origin: TRUSTED }) };
    await expect(activate(guard, graphqlContext('guarded', { req: mercuriusReq, reply }))).resolves.toBe(true);
    expect(reply.sent.map(([name]) => name)).toEqual(['set-cookie']);
  });

  it('applies the origin rule to GraphQL POSTs with a cookie', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('gql');
    const req = { method: 'POST', headers: cookieHeaders('gql', { origin: 'https://evil.example' }) };
    const error = (await refusal(activate(guard, graphqlContext('guarded', { req })))) as ArrafAuthException;
    expect(error.code).toBe('INVALID_ORIGIN');
  });

  it('refuses a resolver context without an HTTP request (a subscription) with UNAUTHENTICATED', async () => {
    const { guard } = await guardWith();
    const error = (await refusal(activate(guard, graphqlContext('guarded', {})))) as ArrafAuthException;
    expect(error.code).toBe('UNAUTHENTICATED');
  });
});

describe('SessionGuard over WebSockets', () => {
  const socket = (token: string, origin = TRUSTED): Holder => ({
    handshake: { headers: cookieHeaders(token, { origin }) },
  });

  it('authenticates from the handshake, puts the user on the socket and checks again on every message', async () => {
    const { guard, sessions } = await guardWith();
    const active = sessions.add('ws', { renewTo: 'not-written' });
    const client = socket('ws');
    await expect(activate(guard, wsContext('guarded', client))).resolves.toBe(true);
    await expect(activate(guard, wsContext('guarded', client))).resolves.toBe(true);
    expect(client.user).toBe(active.user);
    expect(client[REQUEST_SESSION_KEY]).toBe(active.session);
    expect(sessions.lookups).toEqual(['ws', 'ws']);

    sessions.active.delete('ws'); // revoked while the socket is open
    await expect(activate(guard, wsContext('guarded', client))).rejects.toBeInstanceOf(WsException);
  });

  it('refuses as a WsException carrying the code, for a missing session and a cross-site handshake', async () => {
    const { guard, sessions } = await guardWith();
    sessions.add('ws');
    const unknown = await refusal(activate(guard, wsContext('guarded', socket('nope'))));
    expect(unknown).toBeInstanceOf(WsException);
    expect((unknown as WsException).getError()).toMatchObject({ code: 'UNAUTHENTICATED' });

    const crossSite = await refusal(activate(guard, wsContext('guarded', socket('ws', 'https://evil.example'))));
    expect((crossSite as WsException).getError()).toMatchObject({ code: 'INVALID_ORIGIN' });
  });
});
