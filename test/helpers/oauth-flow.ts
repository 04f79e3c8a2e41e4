import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request, { type Response } from 'supertest';
import { invalidInputField } from './error-field.js';

/**
 * Plays the browser in an OAuth sign-in with plain HTTP: the app's sign-in route, the provider's
 * authorize endpoint (which answers with a redirect to the callback), the app's callback.
 */

/** One `Set-Cookie` header split into name, value and lower-cased attributes. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

export function setCookies(res: Response): SetCookie[] {
  const header = res.headers['set-cookie'] as unknown as string[] | string | undefined;
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return list.map((raw) => {
    const [pair, ...parts] = raw.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const part of parts) {
      const i = part.indexOf('=');
      if (i === -1) attributes[part.toLowerCase()] = true;
      else attributes[part.slice(0, i).toLowerCase()] = part.slice(i + 1);
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

/** The `Set-Cookie` named `name`, if any. */
export function cookieNamed(res: Response, name: string): SetCookie | undefined {
  return setCookies(res).find((c) => c.name === name);
}

export const CHECK_COOKIE = '__Host-arraf_oauth';
export const SESSION_COOKIE = '__Host-auth_session';

/** Asserts the SPEC's error body: `{ error: { code, en, ar } }` with Arabic text. */
export function expectError(res: Response, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toStrictEqual({
    status,
    body: {
      error: {
        code,
        en: expect.any(String),
        ar: expect.stringMatching(/[\u0600-\u06FF]/),
        ...invalidInputField(res.body, code),
      },
    },
  });
}

/** Asserts the response set no session cookie (a failed callback only clears the check cookie). */
export function expectNoSession(res: Response): void {
  const session = cookieNamed(res, SESSION_COOKIE);
  expect(session).toBeUndefined();
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface StartedSignIn {
  response: Response;
  /** The provider's authorization URL. */
  authorizeUrl: URL;
  /** `name=value` of the check cookie, ready for a `Cookie` header. */
  checkCookie: string;
  checkCookieValue: string;
}

/** `GET /auth/sign-in/:provider` and the check cookie it sets. */
export async function startSignIn(
  app: INestApplication,
  providerId: string,
  query: Record<string, string> = {},
  prefix = 'auth',
): Promise<StartedSignIn> {
  const response = await request(app.getHttpServer()).get(`/${prefix}/sign-in/${providerId}`).query(query);
  expect(response.status).toBe(302);
  const check = cookieNamed(response, CHECK_COOKIE);
  expect(check).toBeDefined();
  return {
    response,
    authorizeUrl: new URL(response.headers.location),
    checkCookie: `${CHECK_COOKIE}=${check!.value}`,
    checkCookieValue: check!.value,
  };
}

/** Follows the authorization URL at the local provider; returns the callback URL it redirects to. */
export async function authorizeAt(authorizeUrl: URL): Promise<URL> {
  expect(authorizeUrl.hostname).toBe('127.0.0.1'); // never leave this machine
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

/** `GET` the callback path and query of `callbackUrl` on the app with `cookie`. */
export function callApp(app: INestApplication, callbackUrl: URL | string, cookie?: string): Promise<Response> {
  const path = typeof callbackUrl === 'string' ? callbackUrl : `${callbackUrl.pathname}${callbackUrl.search}`;
  const req = request(app.getHttpServer()).get(path);
  return cookie === undefined ? req : req.set('Cookie', cookie);
}

export interface CompletedSignIn extends StartedSignIn {
  callbackUrl: URL;
  callback: Response;
  /** `name=value` of the new session cookie, when one was set. */
  sessionCookie: string | undefined;
}

/** The whole browser round trip: sign-in route → provider → callback with the check cookie. */
export async function signInVia(
  app: INestApplication,
  providerId: string,
  query: Record<string, string> = {},
  prefix = 'auth',
): Promise<CompletedSignIn> {
  const started = await startSignIn(app, providerId, query, prefix);
  const callbackUrl = await authorizeAt(started.authorizeUrl);
  const callback = await callApp(app, callbackUrl, started.checkCookie);
  const session = cookieNamed(callback, SESSION_COOKIE);
  return {
    ...started,
    callbackUrl,
    callback,
    sessionCookie: session ? `${SESSION_COOKIE}=${session.value}` : undefined,
  };
}

/** `GET /auth/session` with `cookie`. */
export function currentSession(app: INestApplication, cookie: string, prefix = 'auth'): Promise<Response> {
  return request(app.getHttpServer()).get(`/${prefix}/session`).set('Cookie', cookie);
}

/** A unique suffix so tests sharing a database never collide. */
export function unique(): string {
  return randomBytes(5).toString('hex');
}
