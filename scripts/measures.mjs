#!/usr/bin/env node
// Prints the size measures of src/ that the README's Contributing section keeps: files over 300 lines,
// functions over 60 (migrations aside), pairs of duplicated blocks of six or more lines (through the
// `duplicates` command where the machine has it), and which unit specs and flow suites exist.
// Usage: node scripts/measures.mjs [--strict]   (--strict exits 1 when a limit is exceeded)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;
const MAX_DUPLICATE_PAIRS = 5;
const root = new URL('..', import.meta.url).pathname;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const files = walk(join(root, 'src')).filter((f) => !f.includes('/migrations/'));
const longFiles = [];
const longFunctions = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  const rel = relative(root, file);
  if (lines > MAX_FILE_LINES) longFiles.push(`${rel}: ${lines} lines`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION_LINES) {
        const name = node.name?.getText(source) ?? '(anonymous)';
        longFunctions.push(`${rel}:${start + 1} ${name}: ${length} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

let duplicatePairs;
/** Of the pairs: both sides in migrations, and rows the tool marks `boilerplate` (thin or folder-wide shapes). */
let duplicateKinds = { migrations: 0, boilerplate: 0 };
let duplicateReport = '';
try {
  duplicateReport = execFileSync('duplicates', ['--repo', 'src', '--most', '200', '--seconds', '60'], {
    cwd: root,
    encoding: 'utf8',
  });
  const head = duplicateReport.split('\n')[0];
  duplicatePairs = /^no duplicates/.test(head) ? 0 : Number(/(\d+) pairs?/.exec(head)?.[1] ?? NaN);
  const rows = duplicateReport.split('\n').filter((line) => /^D\d+ /.test(line));
  duplicateKinds = {
    migrations: rows.filter((row) => /^D\d+ migrations\/\S+ ~ migrations\//.test(row)).length,
    boilerplate: rows.filter((row) => / boilerplate\b/.test(row)).length,
  };
} catch {
  duplicatePairs = undefined;
}

const unitSpecs = readdirSync(join(root, 'test/unit')).filter((f) => f.endsWith('.spec.ts'));
const report = [
  `src files (migrations aside): ${files.length}`,
  `files over ${MAX_FILE_LINES} lines: ${longFiles.length}${longFiles.map((l) => `\n  ${l}`).join('')}`,
  `functions over ${MAX_FUNCTION_LINES} lines: ${longFunctions.length}${longFunctions.map((l) => `\n  ${l}`).join('')}`,
  duplicatePairs === undefined
    ? 'duplicated blocks (6+ lines): not measured (the `duplicates` command is not on this machine)'
    : `duplicated blocks (6+ lines) in src/: ${duplicatePairs} pairs (limit ${MAX_DUPLICATE_PAIRS}); ` +
      `of them ${duplicateKinds.migrations} within migrations, ${duplicateKinds.boilerplate} marked boilerplate ` +
      `by the tool, ${duplicatePairs - duplicateKinds.migrations - duplicateKinds.boilerplate} others`,
  `unit specs: ${unitSpecs.length} (${unitSpecs.join(', ')})`,
];
console.log(report.join('\n'));
if (duplicatePairs) console.log(duplicateReport.trimEnd());

const over =
  longFiles.length > 0 ||
  longFunctions.length > 0 ||
  (duplicatePairs !== undefined && duplicatePairs > MAX_DUPLICATE_PAIRS);
if (process.argv.includes('--strict') && over) process.exit(1);
