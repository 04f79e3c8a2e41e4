import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_ERRORS, type ArrafAuthErrorCode, Session } from '../../src/index.js';
import { createTestSession } from '../../src/testing/index.js';
import { createWsTestApp, WS_SETUPS, type WsEvent, type WsTestAppOptions, WsTestClient } from '../apps/ws-test-app.js';
import { testDatabases } from '../helpers/databases.js';

const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;

function refusal(code: ArrafAuthErrorCode): WsEvent {
  const { en, ar } = ARRAF_AUTH_ERRORS[code];
  return { event: 'exception', data: { code, en, ar } };
}

function useWsApp(options: Omit<WsTestAppOptions, 'database'>) {
  const ctx = {} as { app: INestApplication; url: string; ds: DataSource };
  const clients: WsTestClient[] = [];
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    Object.assign(ctx, await createWsTestApp({ ...options, database: db.options }));
    ctx.ds = ctx.app.get(DataSource);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await ctx.app?.close();
    await drop?.();
  });
  // A browser's handshake always carries the page's Origin: the app's, unless the test sets one.
  const connect = async (headers: Record<string, string> = {}) => {
    const page = options.auth?.appUrl ?? ctx.url;
    const browser: Record<string, string> = headers.cookie !== undefined ? { origin: new URL(page).origin } : {};
    const client = await WsTestClient.connect(options.setup, ctx.url, { ...browser, ...headers });
    clients.push(client);
    return client;
  };
  return Object.assign(ctx, { connect });
}

describe.each(WS_SETUPS)('@UseGuards(SessionGuard) on a gateway (%s)', (setup) => {
  const t = useWsApp({ setup, auth: { appUrl: 'https://app.example', session: { freshAge: '1h' } } });

  it('answers a message on a connection opened with a valid session cookie, @CurrentUser() and @CurrentSession() filled', async () => {
    const s = await createTestSession(t.app, { email: 'ws@example.com' });
    const client = await t.connect({ cookie: s.cookie });
    expect(await client.ask('whoami')).toEqual({
      event: 'whoami',
      data: { id: s.user.id, email: 'ws@example.com', sessionId: s.session.id, locale: null },
    });
  });

  it("refuses a message without a session with Nest's exception event carrying { code, en, ar }", async () => {
    const client = await t.connect();
    expect(await client.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
    // The connection stays usable: a @Public() message is still answered.
    expect(await client.ask('ping')).toEqual({ event: 'pong', data: 'ok' });
  });

  it('refuses a garbage cookie', async () => {
    const client = await t.connect({ cookie: '__Host-auth_session=garbage' });
    expect(await client.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
  });

  it('checks every message: a session revoked while the socket is open is refused at the next message', async () => {
    const s = await createTestSession(t.app, {});
    const client = await t.connect({ cookie: s.cookie });
    expect((await client.ask('whoami')).event).toBe('whoami');
    await t.ds.getRepository(Session).delete({ id: s.session.id });
    expect(await client.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
  });

  it('refuses a @RequireFreshSession() message for an old sign-in with SESSION_NOT_FRESH', async () => {
    const s = await createTestSession(t.app, {});
    const client = await t.connect({ cookie: s.cookie });
    expect(await client.ask('sensitive')).toEqual({ event: 'sensitive', data: true });
    await t.ds.getRepository(Session).update({ id: s.session.id }, { createdAt: new Date(Date.now() - 2 * 3_600_000) });
    expect(await client.ask('sensitive')).toEqual(refusal('SESSION_NOT_FRESH'));
  });

  it('refuses a cookie handshake from a cross-site origin (cross-site WebSocket hijacking), allows the app origin', async () => {
    const s = await createTestSession(t.app, {});
    const evil = await t.connect({ cookie: s.cookie, origin: 'https://evil.example' });
    expect(await evil.ask('whoami')).toEqual(refusal('INVALID_ORIGIN'));
    const own = await t.connect({ cookie: s.cookie, origin: 'https://app.example' });
    expect((await own.ask('whoami')).event).toBe('whoami');
  });

  it('refuses a cookie handshake with neither Origin nor Referer (a browser always sends Origin)', async () => {
    const s = await createTestSession(t.app, {});
    const bare = await WsTestClient.connect(setup, t.url, { cookie: s.cookie });
    try {
      expect(await bare.ask('whoami')).toEqual(refusal('INVALID_ORIGIN'));
    } finally {
      bare.close();
    }
  });

  it('ignores Authorization: Bearer while bearer is off', async () => {
    const s = await createTestSession(t.app, {});
    const client = await t.connect({ authorization: `Bearer ${s.token}` });
    expect(await client.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
  });
});

describe.each(WS_SETUPS)('bearer tokens in the handshake (%s)', (setup) => {
  const t = useWsApp({ setup, auth: { session: { bearer: true, strategy: 'database' } } });

  it('accepts Authorization: Bearer from any origin, and refuses it once revoked', async () => {
    const s = await createTestSession(t.app, {});
    const client = await t.connect({ authorization: `Bearer ${s.token}`, origin: 'https://elsewhere.example' });
    expect(await client.ask('whoami')).toEqual({
      event: 'whoami',
      data: { id: s.user.id, email: null, sessionId: s.session.id, locale: null },
    });
    await t.ds.getRepository(Session).delete({ id: s.session.id });
    expect(await client.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
  });
});

describe.each(WS_SETUPS)('SessionGuard as APP_GUARD on gateways (%s)', (setup) => {
  const t = useWsApp({ setup, globalGuard: true });

  it('refuses an unmarked message without a session and answers it with one', async () => {
    const anonymous = await t.connect();
    expect(await anonymous.ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
    const s = await createTestSession(t.app, {});
    const client = await t.connect({ cookie: s.cookie });
    expect((await client.ask('whoami')).data).toMatchObject({ id: s.user.id });
  });

  it('lets a @Public() message through without a session', async () => {
    const client = await t.connect();
    expect(await client.ask('ping')).toEqual({ event: 'pong', data: 'ok' });
  });
});

describe('an application without gateways', () => {
  let app: INestApplication;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    const { createTestApp } = await import('../apps/test-app.js');
    app = await createTestApp({ database: db.options });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('still closes WebSocket upgrade requests at once: recording handshakes keeps no socket open', async () => {
    const { port } = app.getHttpServer().address() as { port: number };
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('error', () => resolve('closed'));
      setTimeout(() => resolve('hanging'), 3000);
    });
    socket.terminate();
    expect(outcome).toBe('closed');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe.each(WS_SETUPS)(
  'ArrafAuthExceptionFilter bound to a gateway leaves socket errors as Nest answers them (%s)',
  (setup) => {
    const plain = useWsApp({ setup });
    const filtered = useWsApp({ setup, arrafFilter: true });

    it("answers the gateway's own errors exactly as without the filter, and refusals with { code, en, ar }", async () => {
      for (const event of ['fail', 'crash']) {
        const reference = await (await plain.connect()).ask(event);
        expect(reference.event).toBe('exception');
        expect(await (await filtered.connect()).ask(event)).toEqual(reference);
      }
      expect(await (await filtered.connect()).ask('whoami')).toEqual(refusal('UNAUTHENTICATED'));
    });
  },
);
