// Builds a "before" copy of the library for same-run before/after comparisons:
//
//   node bench/make-baseline.mjs --tree <git-rev>
//     the whole library at <git-rev> (git archive + that revision's tsconfig.build.json), in
//     node_modules/.cache/arraf-bench-tree-<commit>/dist; `npm run bench -- --only=ab` does this itself
//     (BENCH_AB_REV, default 0dd68c7) and measures it beside the current build.
//
//   node bench/make-baseline.mjs <git-rev> <src file>...
//   BENCH_BASELINE_DIR=node_modules/.cache/arraf-bench-baseline/dist npm run bench -- --only=guard
//
// Copies the working tree's src/ to node_modules/.cache/arraf-bench-baseline/src, replaces the named
// files with their content at <git-rev>, and compiles it to .../dist. Everything else is identical
// to the working tree, so the comparison isolates the named files. (Under node_modules so that
// linters and the type check leave it alone; its own package.json makes it ESM and it resolves
// this package's node_modules.)
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = join(ROOT, 'node_modules/.cache/arraf-bench-baseline');
if (process.argv[2] === '--tree') {
  const { buildBaselineTree } = await import('./lib/baseline.mjs');
  const { dist, commit } = buildBaselineTree(process.argv[3] ?? '0dd68c7');
  console.log(`baseline tree at ${commit} built in ${dist}`);
  process.exit(0);
}
const [rev, ...files] = process.argv.slice(2);
if (!rev || files.length === 0) {
  console.error('usage: node bench/make-baseline.mjs <git-rev> <src file>...');
  process.exit(2);
}

rmSync(OUT, { recursive: true, force: true });
cpSync(join(ROOT, 'src'), join(OUT, 'src'), { recursive: true });
for (const file of files) {
  if (!file.startsWith('src/')) throw new Error(`${file}: only files under src/`);
  const content = execFileSync('git', ['show', `${rev}:${file}`], { cwd: ROOT, encoding: 'utf8' });
  writeFileSync(join(OUT, file), content);
}
writeFileSync(join(OUT, 'package.json'), JSON.stringify({ type: 'module', private: true }));
writeFileSync(
  join(OUT, 'tsconfig.json'),
  JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: 'src', outDir: 'dist', noEmit: false, declaration: false, sourceMap: false },
    include: ['src'],
  }),
);
execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(OUT, 'tsconfig.json')], {
  stdio: 'inherit',
});
console.log(`baseline built in ${join(OUT, 'dist')} (${files.join(', ')} at ${rev})`);
