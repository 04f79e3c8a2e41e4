import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type Provider, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { ARRAF_AUTH_ENTITIES, ArrafAuthModule, SessionGuard } from '../../src/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

// README.md as a user reads it: every `ts` block compiles as written, complete with its imports,
// against the built package (`@arraf-auth/nestjs` resolves to dist/ through the package's own
// exports map), under `strict`. A block whose first line is `// <path>.ts` is that file of an
// application, so blocks can import each other (`./app.module.js`). Blocks preceded by
// `<!-- snippet: partial -->` are fragments on purpose and are skipped; there are few.
const root = process.cwd();
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const PARTIAL = '<!-- snippet: partial -->';
const MAX_PARTIAL = 3;

interface Block {
  lang: string;
  code: string;
  /** 1-based README line of the first code line. */
  line: number;
  partial: boolean;
}

function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    let previous = i - 1;
    while (previous >= 0 && lines[previous].trim() === '') previous--;
    blocks.push({
      lang: open[1],
      code: lines.slice(i + 1, end).join('\n'),
      line: i + 2,
      partial: previous >= 0 && lines[previous].trim() === PARTIAL,
    });
    i = end;
  }
  return blocks;
}

/** Lines outside code blocks, each with its 1-based line number. */
function proseLines(markdown: string): { text: string; line: number }[] {
  let fenced = false;
  return markdown.split('\n').flatMap((text, i) => {
    if (/^```/.test(text)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ text, line: i + 1 }];
  });
}

/** GFM cells: split on pipes that are not escaped. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

function tables(markdown: string): { line: number; rows: string[] }[] {
  const result: { line: number; rows: string[] }[] = [];
  let current: { line: number; rows: string[] } | undefined;
  for (const { text, line } of proseLines(markdown)) {
    if (text.trimStart().startsWith('|')) {
      if (!current) result.push((current = { line, rows: [] }));
      current.rows.push(text);
    } else current = undefined;
  }
  return result;
}

const blocks = codeBlocks(readme);
const tsBlocks = blocks.filter((b) => b.lang === 'ts');

/** Type-checks the complete `ts` blocks as files of one application inside this repository. */
function compileSnippets(): { file: string; block: Block; messages: string[] }[] {
  const base = join(root, 'readme-snippets');
  const files = new Map<string, Block>();
  tsBlocks
    .filter((b) => !b.partial)
    .forEach((block, i) => {
      const named = /^\/\/ ((?:src|test)\/[\w./-]+\.ts)\s*$/.exec(block.code.split('\n')[0]);
      files.set(join(base, named ? named[1] : `snippets/block-${i + 1}.ts`), block);
    });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    useDefineForClassFields: false,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.directoryExists = (name) =>
    [...files.keys()].some((file) => file.startsWith(`${name}/`)) || (directoryExists?.call(host, name) ?? true);
  host.readFile = (name) => files.get(name)?.code ?? readFile.call(host, name);
  host.getSourceFile = (name, version, onError, create) =>
    files.has(name)
      ? ts.createSourceFile(name, files.get(name)!.code, version, true)
      : getSourceFile.call(host, name, version, onError, create);
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files].map(([file, block]) => {
    const source = program.getSourceFile(file)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    const messages = diagnostics.map((d) => {
      const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      return `README.md:${block.line + at} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    return { file, block, messages };
  });
}

describe('README.md', () => {
  it('has TypeScript snippets, and few of them are marked partial', () => {
    expect(tsBlocks.length).toBeGreaterThanOrEqual(10);
    expect(tsBlocks.filter((b) => b.partial).length).toBeLessThanOrEqual(MAX_PARTIAL);
  });

  it('compiles every complete `ts` snippet with its imports against the built package under strict', () => {
    const results = compileSnippets();
    expect(results.length).toBe(tsBlocks.filter((b) => !b.partial).length);
    expect(results.flatMap((r) => r.messages)).toEqual([]);
  }, 120_000);

  it('imports what every complete snippet uses: no snippet relies on names from elsewhere', () => {
    for (const block of tsBlocks.filter((b) => !b.partial)) {
      expect([block.line, /^import /m.test(block.code)]).toEqual([block.line, true]);
    }
  });

  it('shows the topics a new user needs, each in a compiled snippet', () => {
    const complete = tsBlocks
      .filter((b) => !b.partial)
      .map((b) => b.code)
      .join('\n');
    const wanted: [string, RegExp][] = [
      ['SQLite for development', /type: 'better-sqlite3'/],
      ['PostgreSQL for production', /type: 'postgres'/],
      ['appUrl for local development', /appUrl: .*'http:\/\/localhost:\d+'/],
      ['forRootAsync with ConfigModule', /ConfigModule\.forRoot\([^]*ArrafAuthModule\.forRootAsync\(/],
      ['the extended User', /class AppUser extends User/],
      ['its migration', /implements MigrationInterface[^]*addColumn\(/],
      ['a typed current-user decorator', /createParamDecorator\(\(field: keyof AppUser/],
      ['the global guard with useExisting', /provide: APP_GUARD, useExisting: SessionGuard/],
      ['overriding the guard in tests', /overrideProvider\(SessionGuard\)/],
      ['the testing kit', /from '@arraf-auth\/nestjs\/testing'/],
    ];
    for (const [topic, pattern] of wanted) expect([topic, pattern.test(complete)]).toEqual([topic, true]);
    expect(readme).toMatch(/403 `INVALID_ORIGIN`/);
  });

  it('gives the Jest configuration this repository runs with (no libphonenumber JSON warning)', () => {
    const jest = blocks.find((b) => b.lang === 'js' && b.code.includes('moduleNameMapper'));
    expect(jest).toBeDefined();
    const mapper = (code: string) => /moduleNameMapper: (\{.*\}),?$/m.exec(code)?.[1];
    expect(mapper(jest!.code)).toBe(mapper(readFileSync(join(root, 'jest.config.js'), 'utf8')));
    expect(jest!.code).toMatch(/useESM: true/);
    expect(readme).toContain('NODE_OPTIONS=--experimental-vm-modules');
  });

  it('states the Node versions of `engines` and explains allowScripts for argon2 and better-sqlite3', () => {
    const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Usage'));
    expect(install).toContain(`\`${engines.node}\``);
    expect(install).toContain('EBADENGINE');
    const allow = codeBlocks(install).find((b) => b.lang === 'json' && b.code.includes('allowScripts'));
    expect(JSON.parse(allow!.code)).toEqual({ allowScripts: { argon2: true, 'better-sqlite3': true } });
  });

  it('renders every table: a header separator under the first row, the same cell count on each row', () => {
    const found = tables(readme);
    expect(found.length).toBeGreaterThanOrEqual(5);
    for (const table of found) {
      const [header, separator, ...rows] = table.rows;
      expect([table.line, separator !== undefined && /^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(separator)]).toEqual([
        table.line,
        true,
      ]);
      const width = cells(header).length;
      for (const row of rows) expect([table.line, row, cells(row).length]).toEqual([table.line, row, width]);
    }
  });

  it('keeps the OAuth rows inside the Routes table', () => {
    const routes = tables(readme).find((t) => t.rows.some((r) => r.includes('POST /auth/otp/send')));
    expect(routes).toBeDefined();
    const paths = routes!.rows.map((r) => cells(r)[0]);
    expect(paths).toEqual(expect.arrayContaining(['`GET /auth/sign-in/:provider`', '`GET /auth/callback/:provider`']));
  });
});

// The README's advice on overriding the guard in tests, run: with `useExisting`, overrideProvider
// reaches the global guard; with `useClass`, neither override does (the reason the README avoids it).
@Controller()
class OpenController {
  @Get('global')
  global() {
    return { ok: true };
  }

  @Get('per-route')
  @UseGuards(SessionGuard)
  perRoute() {
    return { ok: true };
  }
}

/** [GET /global, GET /per-route] statuses without a cookie, for an app with `globalGuard` (if any) and one override. */
async function statusesWith(globalGuard: Provider | undefined, override: 'provider' | 'guard'): Promise<number[]> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      }),
      ArrafAuthModule.forRoot({ secret: 'readme-guard-secret-0123456789abcdefghijkl' }),
    ],
    controllers: [OpenController],
    providers: globalGuard ? [globalGuard] : [],
  })
  class GuardedApp {}

  const allow = { canActivate: () => true };
  const builder = Test.createTestingModule({ imports: [GuardedApp] });
  const overridden =
    override === 'provider'
      ? builder.overrideProvider(SessionGuard).useValue(allow)
      : builder.overrideGuard(SessionGuard).useValue(allow);
  const app = (await overridden.compile()).createNestApplication({ logger: false });
  await app.init();
  try {
    const server = app.getHttpServer();
    return [(await request(server).get('/global')).status, (await request(server).get('/per-route')).status];
  } finally {
    await app.close();
  }
}

describe('README: overriding SessionGuard in tests', () => {
  it('overrideProvider(SessionGuard) replaces a global guard registered with useExisting', async () => {
    const [global] = await statusesWith({ provide: APP_GUARD, useExisting: SessionGuard }, 'provider');
    expect(global).toBe(200);
  });

  it('overrideGuard(SessionGuard) replaces @UseGuards(SessionGuard)', async () => {
    expect(await statusesWith(undefined, 'guard')).toEqual([200, 200]);
  });

  it('neither override reaches a global guard registered with useClass (why the README uses useExisting)', async () => {
    const useClass = { provide: APP_GUARD, useClass: SessionGuard };
    expect((await statusesWith(useClass, 'provider'))[0]).toBe(401);
    expect((await statusesWith(useClass, 'guard'))[0]).toBe(401);
  });
});
