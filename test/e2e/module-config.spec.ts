import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  type ConfigurableModuleOptionsFactory,
  Controller,
  type DynamicModule,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  UseGuards,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import {
  ARRAF_AUTH_ENTITIES,
  ARRAF_AUTH_OPTIONS,
  ArrafAuthConfigError,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentSession,
  CurrentUser,
  type ResolvedArrafAuthOptions,
  type Session,
  SessionGuard,
  SessionService,
  type User,
} from '../../src/index.js';
import { createTestSession } from '../../src/testing/index.js';

const SECRET = 'module-config-secret-0123456789abcdefghijklmnop';

/** A guarded application route, written the way an application would. */
@Controller('me')
@UseGuards(SessionGuard)
class MeController {
  @Get()
  me(@CurrentUser('id') id: string) {
    return { id };
  }
}

/** An options factory class for `useClass` / `useExisting`; reads the secret from ConfigService. */
@Injectable()
class AuthConfigFactory implements ConfigurableModuleOptionsFactory<ArrafAuthOptions, 'createArrafAuthOptions'> {
  calls = 0;
  constructor(private readonly config: ConfigService) {}

  createArrafAuthOptions(): ArrafAuthOptions {
    this.calls += 1;
    return { secret: this.config.getOrThrow<string>('AUTH_SECRET') };
  }
}

@Module({ imports: [ConfigModule], providers: [AuthConfigFactory], exports: [AuthConfigFactory] })
class AuthConfigModule {}

/** A feature module that does not import ArrafAuthModule, relying on it being global. */
@Injectable()
class ProfileService {
  constructor(
    readonly sessions: SessionService,
    @Inject(ARRAF_AUTH_OPTIONS) readonly options: ResolvedArrafAuthOptions,
  ) {}

  countSessions(userId: string, currentId: string) {
    return this.sessions.listSessions(userId, currentId).then((list) => list.length);
  }
}

@Controller('profile')
@UseGuards(SessionGuard)
class ProfileController {
  constructor(private readonly profiles: ProfileService) {}

  @Get('sessions')
  async sessions(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return { count: await this.profiles.countSessions(user.id, session.id) };
  }
}

@Module({ controllers: [ProfileController], providers: [ProfileService] })
class ProfileModule {}

const configModule = () => ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ AUTH_SECRET: SECRET })] });

/** Compiles a testing module with an in-memory SQLite database and the given auth module. */
function compile(auth: DynamicModule, imports: DynamicModule['imports'] = []): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      }),
      ...imports,
      auth,
    ],
    controllers: [MeController],
  }).compile();
}

const open: INestApplication[] = [];

async function start(auth: DynamicModule, imports: DynamicModule['imports'] = []): Promise<INestApplication> {
  const moduleRef = await compile(auth, imports);
  const app = moduleRef.createNestApplication({ logger: false });
  open.push(app);
  await app.init();
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

/**
 * Boots with the module `build()` returns and returns the boot error. `build` runs inside the
 * try: route options are validated while the dynamic module is built, the rest at compile.
 */
async function bootError(build: () => DynamicModule, imports: DynamicModule['imports'] = []): Promise<Error> {
  let moduleRef: TestingModule | undefined;
  try {
    moduleRef = await compile(build(), imports);
  } catch (error) {
    return error as Error;
  }
  await moduleRef.close();
  throw new Error('expected the application not to boot');
}

/** Asserts one ArrafAuthConfigError whose single-line message names `path`. */
function expectConfigError(error: Error, path: string): void {
  expect(error).toBeInstanceOf(ArrafAuthConfigError);
  const escaped = path.replace(/[.[\]]/g, '\\$&');
  expect(error.message).toMatch(new RegExp(`^ArrafAuthModule: invalid option ${escaped}: \\S`));
  expect(error.message).not.toContain('\n');
}

/** Options as an application might mistype them: deliberately not `ArrafAuthOptions`. */
type LooseOptions = Record<string, unknown>;

const INVALID: [behaviour: string, options: LooseOptions, path: string][] = [
  ['a missing secret', {}, 'secret'],
  ['a secret shorter than 32 characters', { secret: 'short-secret-0123456789abcdef' }, 'secret'],
  ['a placeholder secret', { secret: 'a'.repeat(32) }, 'secret'],
  ['a short entry in a secret array', { secret: [SECRET, 'too-short'] }, 'secret[1]'],
  ['an empty secret array', { secret: [] }, 'secret'],
  ['an unknown session strategy', { secret: SECRET, session: { strategy: 'cookie' } }, 'session.strategy'],
  ['an unparsable expiresIn', { secret: SECRET, session: { expiresIn: '30 days' } }, 'session.expiresIn'],
  ['a negative expiresIn', { secret: SECRET, session: { expiresIn: -60 } }, 'session.expiresIn'],
  ['a fractional expiresIn', { secret: SECRET, session: { expiresIn: 3600.5 } }, 'session.expiresIn'],
  [
    'an updateAge equal to expiresIn',
    { secret: SECRET, session: { expiresIn: '1d', updateAge: 86400 } },
    'session.updateAge',
  ],
  [
    'an updateAge longer than expiresIn',
    { secret: SECRET, session: { expiresIn: '1h', updateAge: '2h' } },
    'session.updateAge',
  ],
  ['an idleTimeout under one minute', { secret: SECRET, session: { idleTimeout: '10s' } }, 'session.idleTimeout'],
  [
    'sameSite none without secure',
    { secret: SECRET, session: { cookieOptions: { sameSite: 'none', secure: false } } },
    'session.cookieOptions.sameSite',
  ],
  [
    'hostPrefix with a domain',
    { secret: SECRET, session: { cookieOptions: { hostPrefix: true, domain: 'example.com' } } },
    'session.cookieOptions.hostPrefix',
  ],
  [
    'hostPrefix with a path other than /',
    { secret: SECRET, session: { cookieOptions: { hostPrefix: true, path: '/api' } } },
    'session.cookieOptions.hostPrefix',
  ],
  ['a cookie name with a space', { secret: SECRET, session: { cookieName: 'auth session' } }, 'session.cookieName'],
  ['a cookie name carrying __Host-', { secret: SECRET, session: { cookieName: '__Host-auth' } }, 'session.cookieName'],
  ['a trusted origin that is not a URL', { secret: SECRET, trustedOrigins: ['not a url'] }, 'trustedOrigins[0]'],
  [
    'a trusted origin that is not http(s)',
    { secret: SECRET, trustedOrigins: ['https://ok.example', 'ftp://x'] },
    'trustedOrigins[1]',
  ],
  ['an appUrl that is not a URL', { secret: SECRET, appUrl: 'example.com' }, 'appUrl'],
  ['a misspelt top-level option', { secret: SECRET, sesion: { strategy: 'database' } }, 'sesion'],
  ['an unknown session option', { secret: SECRET, session: { expiresAt: '1d' } }, 'session.expiresAt'],
  [
    'an unknown cookie option',
    { secret: SECRET, session: { cookieOptions: { sameSit: 'lax' } } },
    'session.cookieOptions.sameSit',
  ],
  ['a hook that is not a function', { secret: SECRET, hooks: { beforeSignOut: 'x' } }, 'hooks.beforeSignOut'],
  ['a route path that climbs out with ..', { secret: SECRET, routes: { path: '../x' } }, 'routes.path'],
  ['a route path with a . segment', { secret: SECRET, routes: { path: 'api/./auth' } }, 'routes.path'],
];

describe('ArrafAuthModule configuration', () => {
  describe('forRoot validation', () => {
    it.each(INVALID)('refuses to boot with %s', async (_behaviour, options, path) => {
      const error = await bootError(() => ArrafAuthModule.forRoot(options as unknown as ArrafAuthOptions));
      expectConfigError(error, path);
    });

    it("explains that updateAge's default is what a short expiresIn conflicts with", async () => {
      const error = await bootError(() => ArrafAuthModule.forRoot({ secret: SECRET, session: { expiresIn: '1h' } }));
      expectConfigError(error, 'session.updateAge');
      expect(error.message).toContain("(default '1d')");
    });

    it('accepts every valid option together', async () => {
      const moduleRef = await compile(
        ArrafAuthModule.forRoot({
          secret: [SECRET, `${SECRET}-old`],
          session: {
            strategy: 'database',
            expiresIn: '7d',
            updateAge: 3600,
            cookieName: 'sid',
            cookieOptions: { secure: true, httpOnly: true, sameSite: 'none', path: '/', hostPrefix: true },
            bearer: true,
            idleTimeout: '2h',
            freshAge: '10m',
          },
          hooks: { beforeSignOut: () => undefined },
          trustedOrigins: ['https://admin.example.com'],
          routes: { path: 'api/auth' },
          appName: 'Shop',
          appUrl: 'https://shop.example.com/app',
        }),
      );
      const options = moduleRef.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS);
      expect(options.secrets).toEqual([SECRET, `${SECRET}-old`]);
      expect(options.session).toMatchObject({
        strategy: 'database',
        expiresIn: 604800,
        updateAge: 3600,
        cookieName: '__Host-sid',
        bearer: true,
        idleTimeout: 7200,
        freshAge: 600,
      });
      expect(options.trustedOrigins).toEqual(['https://shop.example.com', 'https://admin.example.com']);
      expect(options.appUrl).toBe('https://shop.example.com');
      expect(options.appName).toBe('Shop');
      await moduleRef.close();
    });
  });

  describe('forRootAsync validation', () => {
    it.each(INVALID)('refuses to boot when the factory returns %s', async (_behaviour, options, path) => {
      const error = await bootError(() =>
        ArrafAuthModule.forRootAsync({ useFactory: async () => options as unknown as ArrafAuthOptions }),
      );
      expectConfigError(error, path);
    });

    it('refuses an invalid routes option passed beside the factory', async () => {
      const error = await bootError(() =>
        ArrafAuthModule.forRootAsync({ useFactory: () => ({ secret: SECRET }), routes: { path: '../admin' } }),
      );
      expectConfigError(error, 'routes.path');
    });

    it('refuses options from a useClass factory that are invalid', async () => {
      const error = await bootError(
        () => ArrafAuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfigFactory }),
        [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            isGlobal: true,
            load: [() => ({ AUTH_SECRET: 'b'.repeat(40) })],
          }),
        ],
      );
      expectConfigError(error, 'secret');
    });
  });

  describe('registration forms', () => {
    async function expectSignedInWorks(app: INestApplication): Promise<void> {
      const { user, cookie } = await createTestSession(app, { email: 'form@example.com' });
      await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200, { id: user.id });
      await request(app.getHttpServer()).get('/me').expect(401);
      const session = await request(app.getHttpServer()).get('/auth/session').set('Cookie', cookie).expect(200);
      expect(session.body.user).toMatchObject({ id: user.id, email: 'form@example.com' });
      expect(session.body.session).toMatchObject({ userId: user.id });
    }

    it('boots with forRoot and authenticates a signed-in request', async () => {
      await expectSignedInWorks(await start(ArrafAuthModule.forRoot({ secret: SECRET })));
    });

    it('boots with forRootAsync useFactory injecting ConfigService', async () => {
      const app = await start(
        ArrafAuthModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('AUTH_SECRET') }),
        }),
        [configModule()],
      );
      expect(app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS).secrets).toEqual([SECRET]);
      await expectSignedInWorks(app);
    });

    it('boots with forRootAsync useClass', async () => {
      const app = await start(ArrafAuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfigFactory }), [
        configModule(),
      ]);
      expect(app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS).secrets).toEqual([SECRET]);
      await expectSignedInWorks(app);
    });

    it('boots with forRootAsync useExisting, reusing the imported factory instance', async () => {
      const app = await start(
        ArrafAuthModule.forRootAsync({ imports: [AuthConfigModule], useExisting: AuthConfigFactory }),
        [configModule()],
      );
      expect(app.select(AuthConfigModule).get(AuthConfigFactory).calls).toBe(1);
      await expectSignedInWorks(app);
    });

    it('is global: a feature module that does not import it can inject SessionService and use SessionGuard', async () => {
      const app = await start(ArrafAuthModule.forRoot({ secret: SECRET }), [ProfileModule]);
      const { cookie } = await createTestSession(app);
      await request(app.getHttpServer()).get('/profile/sessions').set('Cookie', cookie).expect(200, { count: 1 });
      await request(app.getHttpServer()).get('/profile/sessions').expect(401);
    });
  });

  describe('resolved options', () => {
    it('applies every default once, into one object shared by all consumers', async () => {
      const factory = jest.fn(() => ({ secret: SECRET }));
      const app = await start(ArrafAuthModule.forRootAsync({ useFactory: factory }), [ProfileModule]);
      const options = app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS);

      expect(factory).toHaveBeenCalledTimes(1);
      expect(app.get(ProfileService, { strict: false }).options).toBe(options);
      expect(options.secrets).toEqual([SECRET]);
      expect(options.session).toEqual({
        strategy: 'jwt',
        expiresIn: 2592000,
        updateAge: 86400,
        cookieName: '__Host-auth_session',
        cookie: { secure: true, httpOnly: true, sameSite: 'lax', domain: undefined, path: '/' },
        bearer: false,
        idleTimeout: undefined,
        freshAge: 86400,
        absoluteTimeout: 7776000,
        cache: { enabled: false, max: 10000, ttl: 30, redis: undefined, maxLag: 1000, heartbeatInterval: 250 },
      });
      expect(options.hooks).toEqual({});
      expect(options.trustedOrigins).toEqual([]);
      expect(options.routes).toEqual({ enabled: true, path: 'auth' });
      expect(options.appName).toBe('Arraf');
      expect(options.appUrl).toBeUndefined();
    });

    it.each<[string, NonNullable<ArrafAuthOptions['session']>, string]>([
      ['a custom name keeps the __Host- prefix', { cookieName: 'sid' }, '__Host-sid'],
      ['secure: false drops the __Host- prefix', { cookieOptions: { secure: false } }, 'auth_session'],
      ['a domain drops the __Host- prefix', { cookieOptions: { domain: 'example.com' } }, 'auth_session'],
      ['a path other than / drops the __Host- prefix', { cookieOptions: { path: '/app' } }, 'auth_session'],
      ['hostPrefix: false drops the __Host- prefix', { cookieOptions: { hostPrefix: false } }, 'auth_session'],
    ])('names the cookie: %s', async (_behaviour, session, expected) => {
      const app = await start(ArrafAuthModule.forRoot({ secret: SECRET, session }));
      expect(app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS).session.cookieName).toBe(expected);
      // The name actually written: signing out with no session still clears the cookie.
      const res = await request(app.getHttpServer()).post('/auth/sign-out').expect(200);
      expect(res.headers['set-cookie']?.[0]).toMatch(new RegExp(`^${expected}=;`));
    });
  });

  describe('routes', () => {
    it('mounts the routes under /auth by default', async () => {
      const app = await start(ArrafAuthModule.forRoot({ secret: SECRET }));
      await request(app.getHttpServer()).get('/auth/session').expect(200, { user: null, session: null });
    });

    it('mounts the routes under routes.path, and not under /auth', async () => {
      const app = await start(ArrafAuthModule.forRoot({ secret: SECRET, routes: { path: '/api/auth/' } }));
      await request(app.getHttpServer()).get('/api/auth/session').expect(200, { user: null, session: null });
      await request(app.getHttpServer()).get('/auth/session').expect(404);
      expect(app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS).routes).toEqual({ enabled: true, path: 'api/auth' });
    });

    it('mounts no routes with routes: false while SessionGuard still protects application routes', async () => {
      const app = await start(ArrafAuthModule.forRoot({ secret: SECRET, routes: false }));
      await request(app.getHttpServer()).get('/auth/session').expect(404);
      await request(app.getHttpServer()).post('/auth/sign-out').expect(404);
      const { user, cookie } = await createTestSession(app);
      await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200, { id: user.id });
      await request(app.getHttpServer()).get('/me').expect(401);
    });

    it('honours routes passed beside useFactory in forRootAsync', async () => {
      const app = await start(
        ArrafAuthModule.forRootAsync({ useFactory: () => ({ secret: SECRET }), routes: { path: 'v1/auth' } }),
      );
      await request(app.getHttpServer()).get('/v1/auth/session').expect(200, { user: null, session: null });
      await request(app.getHttpServer()).get('/auth/session').expect(404);
      expect(app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS).routes).toEqual({ enabled: true, path: 'v1/auth' });
    });

    it('accepts routes returned from the factory when they match the registered ones', async () => {
      const app = await start(
        ArrafAuthModule.forRootAsync({
          useFactory: () => ({ secret: SECRET, routes: { path: 'v1/auth' } }),
          routes: { path: 'v1/auth' },
        }),
      );
      await request(app.getHttpServer()).get('/v1/auth/session').expect(200);
    });

    it('refuses routes returned from the factory that differ from the registered ones', async () => {
      const error = await bootError(() =>
        ArrafAuthModule.forRootAsync({ useFactory: () => ({ secret: SECRET, routes: { path: 'api/auth' } }) }),
      );
      expectConfigError(error, 'routes');
    });

    it('refuses routes: false returned from the factory when routes were registered', async () => {
      const error = await bootError(() =>
        ArrafAuthModule.forRootAsync({ useFactory: () => ({ secret: SECRET, routes: false }) }),
      );
      expectConfigError(error, 'routes');
    });
  });
});

describe('package manifest', () => {
  const root = new URL('../../', import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    name: string;
    type: string;
    main: string;
    types: string;
    files: string[];
    exports: Record<string, { types: string; default: string } | string>;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    devDependencies: Record<string, string>;
    allowScripts: Record<string, boolean>;
  };

  it('is an ESM package named @arraf-auth/nestjs publishing dist, the src its source maps point to, and its docs', () => {
    expect(pkg.name).toBe('@arraf-auth/nestjs');
    expect(pkg.type).toBe('module');
    expect(pkg.files).toEqual(['dist', 'src', 'SECURITY.md', 'CHANGELOG.md']);
  });

  it.each([
    ['.', 'index'],
    ['./testing', 'testing/index'],
  ])('exports %s with types and default that the build produces from src', (entry, file) => {
    const target = pkg.exports[entry];
    expect(target).toEqual({ types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` });
    expect(existsSync(new URL(`src/${file}.ts`, root))).toBe(true);
  });

  it('declares the dependencies the SPEC requires, the Nest packages it registers classes from as required peers', () => {
    // Peers, so an application holds one copy of @nestjs/passport's AuthGuard and @nestjs/jwt's JwtService.
    for (const name of ['@nestjs/jwt', '@nestjs/passport', 'passport']) {
      expect(pkg.peerDependencies).toHaveProperty([name]);
      expect(pkg.peerDependenciesMeta?.[name]?.optional).not.toBe(true);
      expect(pkg.dependencies).not.toHaveProperty([name]);
      expect(pkg.devDependencies).toHaveProperty([name]);
    }
  });

  it('declares ioredis, @nestjs/graphql and @nestjs/websockets as optional peers', () => {
    for (const name of ['ioredis', '@nestjs/graphql', '@nestjs/websockets']) {
      expect([name, pkg.peerDependenciesMeta?.[name]?.optional]).toEqual([name, true]);
      expect(pkg.dependencies).not.toHaveProperty([name]);
    }
  });

  it('leaves Nest, TypeORM and rxjs to the application as peer dependencies', () => {
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', 'typeorm', 'rxjs']) {
      expect(pkg.peerDependencies).toHaveProperty([name]);
      expect(pkg.dependencies).not.toHaveProperty([name]);
      expect(pkg.devDependencies).toHaveProperty([name]);
    }
  });

  it('allows the better-sqlite3 install script', () => {
    expect(pkg.allowScripts['better-sqlite3']).toBe(true);
  });
});
