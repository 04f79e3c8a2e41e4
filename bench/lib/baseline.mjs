// A whole earlier build of the library, for the same-run A/B of `npm run bench -- --only=ab`:
// `git archive <rev>` of src/ and the tsconfig files into node_modules/.cache/arraf-bench-tree-<rev>
// (under node_modules so linters and the type check leave it alone, and so it resolves this
// package's node_modules), compiled there with that revision's own tsconfig.build.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Builds (once per commit) and returns the dist/ folder of the library at `rev`. */
export function buildBaselineTree(rev, log = console.log) {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const out = join(ROOT, 'node_modules/.cache', `arraf-bench-tree-${commit.slice(0, 12)}`);
  const dist = join(out, 'dist');
  if (existsSync(join(dist, 'index.js'))) return { dist, commit };
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const archive = execFileSync('git', ['archive', commit, 'src', 'tsconfig.json', 'tsconfig.build.json'], {
    cwd: ROOT,
    maxBuffer: 256 * 2 ** 20,
  });
  execFileSync('tar', ['-x', '-C', out], { input: archive });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  log(`baseline: tsc -p tsconfig.build.json at ${commit.slice(0, 12)}`);
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  );
  return { dist, commit };
}
