import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, SESSION_STORE, USER_TABLE } from '../../src/arraf-auth.constants.js';
import { ARRAF_AUTH_ENTITIES } from '../../src/entities/arraf-auth.entities.js';
import { Session } from '../../src/entities/session.entity.js';
import type { User } from '../../src/entities/user.entity.js';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import type { ArrafAuthSessionOptions } from '../../src/options/arraf-auth-options.interface.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import type { SessionStore } from '../../src/session/session-store.interface.js';
import { SESSION_LAYER_PROVIDERS } from '../../src/session/session.providers.js';
import { SessionService } from '../../src/session/session.service.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { decodeJwt, sha256Hex } from '../helpers/session-test-utils.js';

const DAY = 86_400_000;
const STRATEGIES = ['jwt', 'database'] as const;
const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await SQLITE.create();
  drop = db.drop;
  ds = await new DataSource({ ...db.options, entities: ARRAF_AUTH_ENTITIES, synchronize: true }).initialize();
});

afterAll(async () => {
  if (ds?.isInitialized) await ds.destroy();
  await drop?.();
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A SessionService built by Nest from the library's session providers over the suite's database. */
async function build(session: ArrafAuthSessionOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [JwtModule.register({})],
    providers: [
      { provide: ARRAF_AUTH_OPTIONS, useValue: resolveArrafAuthOptions({ secret: TEST_SECRET, session }) },
      { provide: DataSource, useValue: ds },
      ...SESSION_LAYER_PROVIDERS,
      SessionService,
    ],
  }).compile();
  return { sessions: moduleRef.get(SessionService), store: moduleRef.get<SessionStore>(SESSION_STORE) };
}

async function newUser(): Promise<User> {
  const users = ds.getRepository<User>(USER_TABLE);
  const user = users.create({ id: crypto.randomUUID(), email: `${crypto.randomUUID()}@example.com` });
  await users.insert(user);
  return user;
}

const rows = () => ds.getRepository(Session);

describe.each(STRATEGIES)('SessionService (%s strategy)', (strategy) => {
  it('creates a session whose row stores only the SHA-256 of a fresh 256-bit token, and resolves it', async () => {
    const { sessions } = await build({ strategy });
    const user = await newUser();
    const created = await sessions.createSession(user, { ipAddress: '10.0.0.1', userAgent: 'ua' });
    const row = await rows().findOneByOrFail({ id: created.session.id });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    if (strategy === 'database') {
      expect(created.cookieValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(row.tokenHash).toBe(sha256Hex(created.cookieValue));
    } else {
      expect(decodeJwt(created.cookieValue).payload).toMatchObject({ sub: user.id, sid: row.id });
    }
    const active = await sessions.getSession(created.cookieValue);
    expect(active).toMatchObject({ user: { id: user.id }, session: { id: row.id, ipAddress: '10.0.0.1' } });
    expect(active!.cookieValue).toBeUndefined();
  });

  it('answers null without touching the store for missing, oversized or foreign credentials', async () => {
    const { sessions, store } = await build({ strategy });
    const find = jest.spyOn(store, 'find');
    for (const credential of [undefined, '', 'x'.repeat(5000), 'garbage', 'a.b.c', '%E0%A4%A']) {
      expect(await sessions.getSession(credential)).toBeNull();
    }
    expect(find).not.toHaveBeenCalled();
  });

  it('hands back a renewed credential when renewal is due, which a bearer client can use as is', async () => {
    const { sessions } = await build({ strategy });
    const created = await sessions.createSession(await newUser());
    // Two days later (expiresIn 30d, updateAge 1d): renewal is due.
    const later = Date.now() + 2 * DAY;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    const renewed = await sessions.getSession(created.cookieValue);
    const newExpiry = renewed!.session.expiresAt.getTime();
    expect(newExpiry).toBe(later + 30 * DAY);
    expect((await rows().findOneByOrFail({ id: created.session.id })).expiresAt.getTime()).toBe(newExpiry);
    const token = renewed!.cookieValue!;
    if (strategy === 'jwt') {
      // The old JWT dies at its first exp; the renewed one carries the new expiry.
      expect(token).not.toBe(created.cookieValue);
      expect(decodeJwt(token).payload.exp).toBe(Math.floor(newExpiry / 1000));
    } else {
      expect(token).toBe(created.cookieValue);
    }
    const again = await sessions.getSession(token);
    expect(again).toMatchObject({ session: { id: created.session.id } });
    expect(again!.cookieValue).toBeUndefined();
  });

  it('never renews past createdAt + absoluteTimeout, then ends the session', async () => {
    const { sessions, store } = await build({ strategy, expiresIn: '30d', absoluteTimeout: '40d' });
    const created = await sessions.createSession(await newUser());
    // Signed in 35 days ago, last renewed 27 days ago: renewal is due, with 5 days left before the ceiling.
    const createdAt = new Date(Date.now() - 35 * DAY);
    await rows().update({ id: created.session.id }, { createdAt, expiresAt: new Date(Date.now() + 3 * DAY) });

    const renewed = await sessions.getSession(created.cookieValue);
    const ceiling = createdAt.getTime() + 40 * DAY;
    expect(renewed!.session.expiresAt.getTime()).toBe(ceiling);
    expect(renewed!.cookieValue).toBeDefined();

    // At the ceiling there is nothing to extend: no write and no new credential on later requests.
    const update = jest.spyOn(store, 'update');
    const next = await sessions.getSession(renewed!.cookieValue);
    expect(next!.cookieValue).toBeUndefined();
    expect(update).not.toHaveBeenCalled();

    // Past the absolute lifetime the session ends even though its row has not expired yet.
    await rows().update(
      { id: created.session.id },
      { createdAt: new Date(Date.now() - 40 * DAY - 1000), expiresAt: new Date(Date.now() + DAY) },
    );
    expect(await sessions.getSession(renewed!.cookieValue)).toBeNull();
    expect(await rows().countBy({ id: created.session.id })).toBe(0);
  });
});

describe.each(STRATEGIES)('SessionService.checkSession with session.cache (%s strategy)', (strategy) => {
  it('answers a cache hit synchronously, a miss and a revoked session through the store', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [JwtModule.register({})],
      providers: [
        {
          provide: ARRAF_AUTH_OPTIONS,
          useValue: resolveArrafAuthOptions({ secret: TEST_SECRET, session: { strategy, cache: true } }),
        },
        { provide: DataSource, useValue: ds },
        ...SESSION_LAYER_PROVIDERS,
        SessionService,
      ],
    }).compile();
    await moduleRef.init(); // the local invalidation channel turns the cache on
    try {
      const sessions = moduleRef.get(SessionService);
      const store = moduleRef.get<SessionStore>(SESSION_STORE);
      const created = await sessions.createSession(await newUser());
      const find = jest.spyOn(store, 'find');

      const miss = sessions.checkSession(created.cookieValue);
      expect(miss).toBeInstanceOf(Promise);
      expect(await miss).toMatchObject({ session: { id: created.session.id } });
      const hit = sessions.checkSession(created.cookieValue);
      expect(hit).not.toBeInstanceOf(Promise);
      expect(hit).toMatchObject({ session: { id: created.session.id }, user: { id: created.session.userId } });
      expect(find).toHaveBeenCalledTimes(1);

      await sessions.revokeSession(created.session.id);
      const revoked = sessions.checkSession(created.cookieValue);
      expect(revoked).toBeInstanceOf(Promise);
      expect(await revoked).toBeNull();
    } finally {
      await moduleRef.close();
    }
  });
});

describe('SessionService revocation inside the caller transaction', () => {
  it('rolls the revocation back with a transaction that fails, and commits it with one that succeeds', async () => {
    const { sessions } = await build();
    const user = await newUser();
    const [keep, other] = [await sessions.createSession(user), await sessions.createSession(user)];

    await expect(
      ds.transaction(async (manager) => {
        expect(await sessions.revokeUserSessions(user.id, { manager, exceptSessionId: keep.session.id })).toBe(1);
        throw new Error('the password update failed');
      }),
    ).rejects.toThrow('the password update failed');
    expect(await rows().countBy({ userId: user.id })).toBe(2);

    await ds.transaction((manager) =>
      sessions.revokeUserSessions(user.id, { manager, exceptSessionId: keep.session.id }),
    );
    expect((await rows().findBy({ userId: user.id })).map((s) => s.id)).toEqual([keep.session.id]);
    expect(await sessions.getSession(other.cookieValue)).toBeNull();
    expect(await sessions.revokeUserSessions(user.id)).toBe(1);
  });
});

describe('SessionService during a database outage', () => {
  it('fails closed with 503 and logs the first failure, one summary per interval and the recovery', async () => {
    const { sessions } = await build();
    const created = await sessions.createSession(await newUser());
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const start = Date.now();
    let clock = start;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);

    await ds.destroy();
    try {
      for (let i = 0; i < 50; i++) {
        const failure = await sessions.getSession(created.cookieValue).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(ArrafAuthException);
        expect((failure as ArrafAuthException).code).toBe('SERVICE_UNAVAILABLE');
        clock += 100; // 50 failures within 5 s
      }
      expect(error).toHaveBeenCalledTimes(1);
      expect(String(error.mock.calls[0][0])).toMatch(/^Session store failed closed: /);

      clock = start + 10_000;
      await sessions.getSession(created.cookieValue).catch(() => undefined);
      expect(error).toHaveBeenCalledTimes(2);
      expect(String(error.mock.calls[1][0])).toMatch(/still failing: 50 more failed closed in 10 s/);
    } finally {
      await ds.initialize();
    }

    clock = start + 12_000;
    expect(await sessions.getSession(created.cookieValue)).toMatchObject({ session: { id: created.session.id } });
    expect(error).toHaveBeenCalledTimes(2);
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0][0])).toMatch(/works again after 12 s; 51 requests failed closed/);

    // Healthy requests log nothing more.
    await sessions.getSession(created.cookieValue);
    expect(log).toHaveBeenCalledTimes(1);
  });
});

describe('session.absoluteTimeout option', () => {
  const resolve = (session: ArrafAuthSessionOptions) => resolveArrafAuthOptions({ secret: TEST_SECRET, session });

  it('defaults to 90 days and accepts durations of at least expiresIn', () => {
    expect(resolve({}).session.absoluteTimeout).toBe(90 * 86_400);
    expect(resolve({ absoluteTimeout: '12h', expiresIn: '12h', updateAge: '1h' }).session.absoluteTimeout).toBe(43_200);
  });

  it('stops the boot with a message naming the option when it is shorter than expiresIn or malformed', () => {
    expect(() => resolve({ absoluteTimeout: '1d' })).toThrow(
      /invalid option session\.absoluteTimeout: must be at least session\.expiresIn/,
    );
    expect(() => resolve({ expiresIn: '120d' })).toThrow(
      /session\.absoluteTimeout: \(default '90d'\) must be at least/,
    );
    expect(() => resolve({ absoluteTimeout: 'forever' })).toThrow(/invalid option session\.absoluteTimeout/);
  });
});
