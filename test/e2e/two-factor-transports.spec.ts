import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module, type Type, UseGuards } from '@nestjs/common';
import { Mutation, Query, Resolver } from '@nestjs/graphql';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscribeMessage, WebSocketGateway, type WsResponse } from '@nestjs/websockets';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ARRAF_AUTH_ERRORS,
  type ArrafAuthErrorCode,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentUser,
  RequireTwoFactor,
  SessionGuard,
  TwoFactorProof,
} from '../../src/index.js';
import { createTestSession, type TestSession } from '../../src/testing/index.js';
import { loadGraphqlTestApp } from '../apps/graphql-loader.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { Authenticator } from '../apps/two-factor-test-app.js';
import { WS_SETUPS, type WsEvent, type WsSetup, WsTestClient } from '../apps/ws-test-app.js';
import { testDatabases } from '../helpers/databases.js';

/**
 * Step-up (`@RequireTwoFactor()`) and mandatory enrolment (`twoFactor.required`) on the other
 * transports: GraphQL resolvers (Apollo on Express, Mercurius on Fastify) and WebSocket gateways
 * (socket.io, `ws` on Express and Fastify). The second factor is enrolled and proven through the
 * HTTP routes, as a client does; the refusals arrive the way each transport carries errors.
 */

// Mercurius needs the CommonJS content-disposition inside Jest (see graphql-loader.ts).
await loadGraphqlTestApp();
const { ApolloDriver } = await import('@nestjs/apollo');
const { MercuriusDriver } = await import('@nestjs/mercurius');
const { GraphQLModule } = await import('@nestjs/graphql');

const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;
const DRIVERS = ['apollo', 'mercurius'] as const;
type Driver = (typeof DRIVERS)[number];

/** An application's resolver: one query behind the session guard, one mutation behind step-up. */
@Resolver()
class VaultResolver {
  @Query(() => String)
  @UseGuards(SessionGuard)
  profile(@CurrentUser('id') id: string): string {
    return id;
  }

  @Mutation(() => String)
  @RequireTwoFactor()
  openVault(@CurrentUser('id') id: string): string {
    return id;
  }
}

/** An application's gateway handlers: one behind the session guard, one behind step-up. */
class VaultHandlers {
  @SubscribeMessage('profile')
  @UseGuards(SessionGuard)
  profile(@CurrentUser('id') id: string): WsResponse<string> {
    return { event: 'profile', data: id };
  }

  @SubscribeMessage('vault')
  @RequireTwoFactor()
  vault(@CurrentUser('id') id: string): WsResponse<string> {
    return { event: 'vault', data: id };
  }
}

interface TestApp {
  app: INestApplication;
  url: string;
}

function imports(database: DataSourceOptions, auth: Partial<ArrafAuthOptions>) {
  return [
    TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, synchronize: true } as DataSourceOptions),
    ArrafAuthModule.forRoot({ secret: TEST_SECRET, ...auth }),
  ];
}

async function listen(app: INestApplication): Promise<TestApp> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

async function createGraphqlApp(driver: Driver, database: DataSourceOptions, auth: Partial<ArrafAuthOptions>) {
  const graphql =
    driver === 'apollo'
      ? GraphQLModule.forRoot({ driver: ApolloDriver, autoSchemaFile: true, includeStacktraceInErrorResponses: false })
      : GraphQLModule.forRoot({ driver: MercuriusDriver, autoSchemaFile: true });
  @Module({ imports: [...imports(database, auth), graphql], providers: [VaultResolver] })
  class GraphqlVaultModule {}
  const moduleRef = await Test.createTestingModule({ imports: [GraphqlVaultModule] }).compile();
  const app =
    driver === 'mercurius'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  return listen(app);
}

async function createWsApp(setup: WsSetup, database: DataSourceOptions, auth: Partial<ArrafAuthOptions>) {
  const [adapter, platform] = setup.split('/') as ['socket.io' | 'ws', 'express' | 'fastify'];
  @WebSocketGateway(adapter === 'ws' ? { path: '/ws' } : {})
  class VaultGateway extends VaultHandlers {}
  @Module({ imports: imports(database, auth), providers: [VaultGateway as Type] })
  class WsVaultModule {}
  const moduleRef = await Test.createTestingModule({ imports: [WsVaultModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(adapter === 'ws' ? new WsAdapter(app) : new IoAdapter(app));
  return listen(app);
}

/** Boots `create` on a fresh SQLite database for the enclosing `describe`. */
function useApp(create: (database: DataSourceOptions) => Promise<TestApp>) {
  const ctx = {} as TestApp;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    Object.assign(ctx, await create(db.options));
  });
  afterAll(async () => {
    await ctx.app?.close();
    await drop?.();
  });
  return ctx;
}

/** A POST to a module route with the session cookie, from the page's own origin (as a browser sends it). */
async function post(t: TestApp, path: string, cookie: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { cookie, origin: t.url };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${t.url}/auth/${path}`, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Enrols TOTP over HTTP for the session; confirming counts as the session passing a second factor. */
async function enrol(t: TestApp, s: TestSession): Promise<Authenticator> {
  const enabled = await post(t, 'two-factor/enable', s.cookie);
  expect(enabled.status).toBe(200);
  const authenticator = new Authenticator(((await enabled.json()) as { totpUri: string }).totpUri);
  const confirmed = await post(t, 'two-factor/confirm', s.cookie, { code: await authenticator.code(-1) });
  expect(confirmed.status).toBe(200);
  return authenticator;
}

/** Makes the session's last second-factor proof older than `twoFactor.freshAge`. */
async function ageProof(t: TestApp, s: TestSession): Promise<void> {
  await t.app
    .get(DataSource)
    .getRepository(TwoFactorProof)
    .update({ sessionId: s.session.id }, { verifiedAt: new Date(Date.now() - 24 * 3_600_000) });
}

/** Step-up over HTTP: `POST two-factor/verify` with a session and the authenticator's current code. */
async function stepUp(t: TestApp, s: TestSession, authenticator: Authenticator): Promise<void> {
  const res = await post(t, 'two-factor/verify', s.cookie, { code: await authenticator.code() });
  expect(res.status).toBe(200);
}

interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function gql(t: TestApp, query: string, cookie?: string): Promise<GqlBody> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cookie !== undefined) Object.assign(headers, { cookie, origin: t.url });
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return (await res.json()) as GqlBody;
}

function expectGqlRefusal(body: GqlBody, code: ArrafAuthErrorCode): void {
  const { en, ar } = ARRAF_AUTH_ERRORS[code];
  expect(body.errors).toHaveLength(1);
  expect(body.errors![0]).toMatchObject({ message: en, extensions: { code, en, ar } });
  expect(body.data ?? null).toBeNull();
}

function wsRefusal(code: ArrafAuthErrorCode): WsEvent {
  const { en, ar } = ARRAF_AUTH_ERRORS[code];
  return { event: 'exception', data: { code, en, ar } };
}

describe.each(DRIVERS)('@RequireTwoFactor() on a GraphQL resolver (%s)', (driver) => {
  const t = useApp((database) => createGraphqlApp(driver, database, {}));

  it('refuses a session without a recent second factor with extensions.code TWO_FACTOR_REQUIRED, allows it after one', async () => {
    const s = await createTestSession(t.app, { email: `gql-${driver}-step@example.sa` });
    expectGqlRefusal(await gql(t, 'mutation { openVault }', s.cookie), 'TWO_FACTOR_REQUIRED');
    // Signed in is not enough, but it is signed in: the plain query answers.
    expect(await gql(t, '{ profile }', s.cookie)).toEqual({ data: { profile: s.user.id } });

    const authenticator = await enrol(t, s);
    expect(await gql(t, 'mutation { openVault }', s.cookie)).toEqual({ data: { openVault: s.user.id } });

    await ageProof(t, s);
    expectGqlRefusal(await gql(t, 'mutation { openVault }', s.cookie), 'TWO_FACTOR_REQUIRED');
    await stepUp(t, s, authenticator);
    expect(await gql(t, 'mutation { openVault }', s.cookie)).toEqual({ data: { openVault: s.user.id } });
  });

  it('refuses without a session with UNAUTHENTICATED', async () => {
    expectGqlRefusal(await gql(t, 'mutation { openVault }'), 'UNAUTHENTICATED');
  });
});

describe.each(DRIVERS)('twoFactor.required on a GraphQL resolver (%s)', (driver) => {
  const t = useApp((database) => createGraphqlApp(driver, database, { twoFactor: { required: true } }));

  it('refuses a user without a second factor with TWO_FACTOR_ENROLMENT_REQUIRED, answers once enrolled', async () => {
    const s = await createTestSession(t.app, { email: `gql-${driver}-required@example.sa` });
    expectGqlRefusal(await gql(t, '{ profile }', s.cookie), 'TWO_FACTOR_ENROLMENT_REQUIRED');
    expectGqlRefusal(await gql(t, 'mutation { openVault }', s.cookie), 'TWO_FACTOR_ENROLMENT_REQUIRED');
    await enrol(t, s);
    expect(await gql(t, '{ profile }', s.cookie)).toEqual({ data: { profile: s.user.id } });
    expect(await gql(t, 'mutation { openVault }', s.cookie)).toEqual({ data: { openVault: s.user.id } });
  });
});

describe.each(WS_SETUPS)('step-up and mandatory enrolment on a WebSocket gateway (%s)', (setup) => {
  const clients: WsTestClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  /** A socket opened with the session cookie from the page's own origin. */
  const connect = async (t: TestApp, cookie?: string) => {
    const headers: Record<string, string> = cookie === undefined ? {} : { cookie, origin: t.url };
    const client = await WsTestClient.connect(setup, t.url, headers);
    clients.push(client);
    return client;
  };

  describe('@RequireTwoFactor()', () => {
    const t = useApp((database) => createWsApp(setup, database, {}));

    it("refuses a message without a recent second factor with the exception event's TWO_FACTOR_REQUIRED, allows it after one", async () => {
      const s = await createTestSession(t.app, { email: `ws-${setup.replace(/\W/g, '')}-step@example.sa` });
      const client = await connect(t, s.cookie);
      expect(await client.ask('vault')).toEqual(wsRefusal('TWO_FACTOR_REQUIRED'));
      expect(await client.ask('profile')).toEqual({ event: 'profile', data: s.user.id });

      // Each message is checked again: the open socket sees the proof the HTTP routes recorded.
      const authenticator = await enrol(t, s);
      expect(await client.ask('vault')).toEqual({ event: 'vault', data: s.user.id });
      await ageProof(t, s);
      expect(await client.ask('vault')).toEqual(wsRefusal('TWO_FACTOR_REQUIRED'));
      await stepUp(t, s, authenticator);
      expect(await client.ask('vault')).toEqual({ event: 'vault', data: s.user.id });
    });

    it('refuses a socket without a session with UNAUTHENTICATED', async () => {
      const client = await connect(t);
      expect(await client.ask('vault')).toEqual(wsRefusal('UNAUTHENTICATED'));
    });
  });

  describe('twoFactor.required', () => {
    const t = useApp((database) => createWsApp(setup, database, { twoFactor: { required: true } }));

    it('refuses a user without a second factor with TWO_FACTOR_ENROLMENT_REQUIRED, answers once enrolled', async () => {
      const s = await createTestSession(t.app, { email: `ws-${setup.replace(/\W/g, '')}-required@example.sa` });
      const client = await connect(t, s.cookie);
      expect(await client.ask('profile')).toEqual(wsRefusal('TWO_FACTOR_ENROLMENT_REQUIRED'));
      expect(await client.ask('vault')).toEqual(wsRefusal('TWO_FACTOR_ENROLMENT_REQUIRED'));
      await enrol(t, s);
      expect(await client.ask('profile')).toEqual({ event: 'profile', data: s.user.id });
      expect(await client.ask('vault')).toEqual({ event: 'vault', data: s.user.id });
    });
  });
});
