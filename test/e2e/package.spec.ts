import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The package as npm publishes it and an application installs it. A copy of the working tree without
// anything git ignores (so no dist/) stands for a clean clone: `npm pack` there must build through
// `prepack`. The tarball is then installed into a new application with its peers, from the registry,
// through an npm cache of its own that starts empty (as on a new machine), and used under plain `node`.
const root = process.cwd();
const run = promisify(execFile);
const PACKAGE = '@arraf-auth/nestjs';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('the packed package in a new application', () => {
  let work: string;
  let clean: string;
  let project: string;
  let cache: string;
  let packed: PackResult;
  let installLog: string;
  let installed: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'arraf-package-'));
    clean = join(work, 'clean');
    project = join(work, 'app');
    cache = join(work, 'npm-cache');
    mkdirSync(project);
    // Tracked and new files, as a commit of this working tree would hold them; node_modules linked, not copied.
    const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const file of stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(root, file))) continue; // deleted in the working tree
      mkdirSync(dirname(join(clean, file)), { recursive: true });
      cpSync(join(root, file), join(clean, file));
    }
    symlinkSync(join(root, 'node_modules'), join(clean, 'node_modules'), 'dir');

    const pack = await run('npm', ['pack', '--json', '--pack-destination', project], {
      cwd: clean,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    packed = (JSON.parse(pack.stdout) as PackResult[])[0];

    // As the README's Install section says: npm 11 runs argon2's install script only when allowed. It
    // checks the prebuilt binary and compiles argon2 where that binary does not run (it crashes on some
    // machines, this CI machine among them).
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        version: '1.0.0',
        private: true,
        type: 'module',
        allowScripts: { argon2: true },
      }),
    );
    // npm installs the peers (Nest, TypeORM, rxjs, reflect-metadata) itself.
    const install = await run(
      'npm',
      ['install', '--cache', cache, '--prefer-online', '--no-audit', '--no-fund', `./${packed.filename}`],
      { cwd: project, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
    );
    installLog = `${install.stdout}\n${install.stderr}`;
    installed = join(project, 'node_modules', ...PACKAGE.split('/'));
  }, 480_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds in `prepack` on a clean clone and ships dist/, src/, LICENSE, README, SECURITY.md and CHANGELOG', () => {
    const paths = packed.files.map((f) => f.path);
    expect(existsSync(join(clean, 'dist/index.js'))).toBe(true); // built by prepack, not copied
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'LICENSE',
        'README.md',
        'SECURITY.md',
        'CHANGELOG.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.js.map',
        'dist/testing/index.js',
        'dist/testing/index.d.ts',
        'dist/cli/arraf-auth.cli.js',
        'src/index.ts',
      ]),
    );
    expect(paths.filter((p) => !/^(dist|src)\//.test(p)).sort()).toEqual(
      ['CHANGELOG.md', 'LICENSE', 'README.md', 'SECURITY.md', 'package.json'].sort(),
    );
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('ships source maps whose every source file is in the package', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    const maps = [...paths].filter((p) => p.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = resolve(dirname(join(installed, map)), source);
        if (!existsSync(target)) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('installs with its peers from the registry, warning about engines only as the README says', () => {
    const peers = ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', 'typeorm', 'rxjs', 'reflect-metadata'];
    // The Nest packages the module registers classes from are peers, so the application holds one copy.
    peers.push('@nestjs/jwt', '@nestjs/passport', 'passport');
    for (const peer of peers)
      expect([peer, existsSync(join(project, 'node_modules', peer, 'package.json'))]).toEqual([peer, true]);
    const warned = [...installLog.matchAll(/EBADENGINE\s+package: '([^@']+)@/g)].map((m) => m[1]);
    const [major, minor] = process.versions.node.split('.').map(Number);
    // README, Install: Node 22.13+ and 24.11+ install without warnings; Node 20 warns about file-type only.
    if (major >= 24 || (major === 22 && minor >= 13)) expect(warned).toEqual([]);
    else expect([...new Set(warned)]).toEqual(['file-type']);
  });

  it("installs one copy of @nestjs/passport and @nestjs/jwt: the application's, not a nested one", () => {
    for (const peer of ['@nestjs/jwt', '@nestjs/passport', 'passport'])
      expect([peer, existsSync(join(installed, 'node_modules', peer))]).toEqual([peer, false]);
  });

  it('type-checks an application under strict with skipLibCheck off and no optional peer installed', async () => {
    // ioredis, @nestjs/graphql and @nestjs/websockets are optional peers: the published .d.ts files
    // must not need them. Only @types/node is lent from this repository (an application has its own).
    for (const optional of ['ioredis', '@nestjs/graphql', '@nestjs/websockets'])
      expect([optional, existsSync(join(project, 'node_modules', optional))]).toEqual([optional, false]);
    writeFileSync(
      join(project, 'consumer.ts'),
      `import 'reflect-metadata';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import {
  ArrafAuthModule, CurrentUser, RATE_LIMIT_STORE, RateLimit, RateLimitGuard, RedisRateLimitStore,
  SessionGuard, UnifonicSmsProvider, User, type ArrafAuthOptions, type RedisRateLimitClient,
} from '${PACKAGE}';
import { createTestSession, InMemorySmsProvider } from '${PACKAGE}/testing';

declare const redis: RedisRateLimitClient;
const options: ArrafAuthOptions = { secret: 'x'.repeat(32), sms: new UnifonicSmsProvider({ appSid: 'a', senderId: 'b' }) };

@Controller()
class ProfileController {
  @Get('me')
  @UseGuards(SessionGuard, RateLimitGuard)
  @RateLimit('sign-in:ip')
  me(@CurrentUser() user: User): string {
    return user.id;
  }
}

@Module({
  imports: [ArrafAuthModule.forRoot(options)],
  controllers: [ProfileController],
  providers: [{ provide: RATE_LIMIT_STORE, useValue: new RedisRateLimitStore(redis, false) }],
})
export class AppModule {}
export const kit = [createTestSession, new InMemorySmsProvider()] as const;
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, timeout: 120_000 }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(result.split('\n').filter(Boolean)).toEqual([]);
  }, 180_000);

  it('imports both entry points under plain node', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import 'reflect-metadata';
         import { ArrafAuthModule, SessionGuard, ConsoleSmsProvider, normalizePhone } from '${PACKAGE}';
         import { createTestSession, InMemorySmsProvider } from '${PACKAGE}/testing';
         console.log(JSON.stringify({ forRoot: typeof ArrafAuthModule.forRoot, guard: typeof SessionGuard,
           sms: typeof ConsoleSmsProvider, phone: normalizePhone('0551234567'),
           session: typeof createTestSession, memory: typeof new InMemorySmsProvider().send }));`,
      ],
      { cwd: project },
    );
    expect(JSON.parse(stdout)).toEqual({
      forRoot: 'function',
      guard: 'function',
      sms: 'function',
      phone: '+966551234567',
      session: 'function',
      memory: 'function',
    });
  });

  it('prints a new 256-bit base64url secret on each `npx arraf-auth secret` in an application', async () => {
    const once = () =>
      run('npx', ['--offline', '--cache', cache, 'arraf-auth', 'secret'], { cwd: project, timeout: 60_000 }).then(
        (r) => r.stdout,
      );
    const [first, second] = await Promise.all([once(), once()]);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(first.trim(), 'base64url')).toHaveLength(32);
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(first).not.toBe(second);
  });

  it('prints its usage and exits with status 1 on an unknown command', async () => {
    const failure = await run('npx', ['--offline', '--cache', cache, 'arraf-auth', 'frobnicate'], {
      cwd: project,
      timeout: 60_000,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('Usage: arraf-auth secret');
  });

  it('runs in this repository as `node dist/cli/arraf-auth.cli.js secret`', async () => {
    const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(bin).toEqual({ 'arraf-auth': 'dist/cli/arraf-auth.cli.js' });
    const { stdout } = await run(process.execPath, [bin['arraf-auth'], 'secret'], { cwd: root });
    expect(stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });
});
