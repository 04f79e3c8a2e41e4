import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// `npx arraf-auth secret` (README) as an application runs it: the packed package installed in a
// fresh project (npm makes the bin executable and links it), then `npx arraf-auth secret`. Inside
// this repository the same file runs as `node dist/cli/arraf-auth.cli.js secret`.
const root = process.cwd();
const run = promisify(execFile);

describe('arraf-auth secret', () => {
  let project: string;
  let cache: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'arraf-consumer-'));
    cache = mkdtempSync(join(tmpdir(), 'arraf-npm-cache-'));
    await run('npm', ['pack', root, '--silent'], { cwd: project, timeout: 60_000 });
    const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'))!;
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // From the registry into an npm cache of its own that starts empty, so the test passes on a new
    // machine whose cache holds nothing (`--offline` only worked where the cache was already warm).
    await run(
      'npm',
      [
        'install',
        '--cache',
        cache,
        '--prefer-online',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--omit=peer',
        `./${tarball}`,
      ],
      { cwd: project, timeout: 240_000 },
    );
  }, 300_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
    if (cache) rmSync(cache, { recursive: true, force: true });
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
