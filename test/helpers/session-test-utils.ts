import { createHash, hkdfSync } from 'node:crypto';
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { Session } from '../../src/entities/session.entity.js';
import { invalidInputField } from './error-field.js';

/** One `Set-Cookie` header, split into name, value and lower-cased attribute names. */
export interface ParsedCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
  raw: string;
}

export function parseSetCookie(raw: string): ParsedCookie {
  const [pair, ...parts] = raw.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    if (part === '') continue;
    const i = part.indexOf('=');
    if (i === -1) attributes[part.toLowerCase()] = true;
    else attributes[part.slice(0, i).toLowerCase()] = part.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes, raw };
}

/** Every `Set-Cookie` of a response, parsed. */
export function setCookies(res: Response): ParsedCookie[] {
  const header = res.headers['set-cookie'] as unknown as string[] | string | undefined;
  if (header === undefined) return [];
  return (Array.isArray(header) ? header : [header]).map(parseSetCookie);
}

/** The single `Set-Cookie` of a response (fails the test when there is not exactly one). */
export function onlySetCookie(res: Response): ParsedCookie {
  const cookies = setCookies(res);
  expect(cookies).toHaveLength(1);
  return cookies[0];
}

/** Asserts the SPEC's error body exactly: `{ error: { code, en, ar } }`, Arabic text non-empty. */
export function expectError(res: Response, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toStrictEqual({
    status,
    body: { error: { code, en: expect.any(String), ar: expect.any(String), ...invalidInputField(res.body, code) } },
  });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const { en, ar } = res.body.error as { en: string; ar: string };
  expect(en.trim().length).toBeGreaterThan(0);
  expect(ar).toMatch(/[\u0600-\u06FF]/);
}

/** Hex SHA-256, computed independently of the library. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The `typ` header of session JWTs, written out here so a change in the library shows up as a failing test. */
export const SESSION_JWT_TYP = 'arraf-session+jwt';

/**
 * The key session JWTs are signed with for `secret`, derived independently of the library:
 * HKDF-SHA-256, salt `arraf-auth/hkdf/v1`, info `arraf-auth:session-jwt`, 32 bytes.
 */
export function sessionJwtKey(secret: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'arraf-auth/hkdf/v1', 'arraf-auth:session-jwt', 32),
  );
}

/** The header and payload of a JWT, without verifying it. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

/** Records the SQL an app runs (pass `log.onQuery` to `createTestApp`). */
export class QueryLog {
  readonly statements: string[] = [];
  readonly onQuery = (sql: string): void => {
    this.statements.push(sql);
  };

  reset(): void {
    this.statements.length = 0;
  }

  /** How many `UPDATE <table>` / `DELETE FROM <table>` statements ran since the last reset. */
  count(verb: 'UPDATE' | 'DELETE', table: string): number {
    const target = `(?:\\S+\\.)?[\`"]?${table}[\`"]?(?:\\s|$)`;
    const pattern = new RegExp(
      verb === 'UPDATE' ? `^\\s*UPDATE\\s+${target}` : `^\\s*DELETE\\s+FROM\\s+${target}`,
      'i',
    );
    return this.statements.filter((sql) => pattern.test(sql)).length;
  }
}

export function sessionRepository(app: INestApplication) {
  return app.get(DataSource).getRepository(Session);
}

/** The stored session row, or null when it is gone. */
export function findSessionRow(app: INestApplication, id: string): Promise<Session | null> {
  return sessionRepository(app).findOneBy({ id });
}

/**
 * Simulates `seconds` passing for one session by moving all its timestamps (expiry, last activity,
 * sign-in time) back, so no fake clock is needed.
 */
export async function travel(app: INestApplication, sessionId: string, seconds: number): Promise<void> {
  const repository = sessionRepository(app);
  const row = await repository.findOneByOrFail({ id: sessionId });
  const back = (date: Date) => new Date(date.getTime() - seconds * 1000);
  await repository.update(
    { id: sessionId },
    { expiresAt: back(row.expiresAt), lastActiveAt: back(row.lastActiveAt), createdAt: back(row.createdAt) },
  );
}

/** A unique email address for a test user. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}@example.com`;
}
