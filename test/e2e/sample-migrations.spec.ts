import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { tempSqliteUrl } from '../browser/sample-process.js';

// `npm run migration:run` / `migration:revert` / `migration:show` build, then run the TypeORM CLI on
// the compiled ormconfig (dist-sample/ormconfig.js). `npm test` has built already, so these run the
// CLI part of each script as written in package.json, against fresh databases.

const root = process.cwd();
const run = promisify(execFile);
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
const AUTH_TABLES = ['accounts', 'sessions', 'users', 'verifications'];

/** The command an npm script runs after its build steps. */
function cliPart(script: string): string {
  const command = scripts[script];
  expect(command).toMatch(/(^|&& )typeorm migration:\w+ -d dist-sample\/ormconfig\.js$/);
  return command.split('&&').at(-1)!.trim();
}

async function migration(script: 'migration:run' | 'migration:revert' | 'migration:show', databaseUrl: string) {
  const { stdout } = await run('sh', ['-c', cliPart(script)], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      // CI=true makes the CLI colour its output; the assertions read plain text.
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      PATH: `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH}`,
    },
    timeout: 60_000,
  });
  // eslint-disable-next-line no-control-regex
  return stdout.replace(/\u001b\[[0-9;]*m/g, '');
}

interface Target {
  name: string;
  create(): Promise<{ url: string; tables(): Promise<string[]>; drop(): Promise<void> }>;
}

const sqlite: Target = {
  name: 'sqlite',
  async create() {
    const db = tempSqliteUrl();
    const driver = 'better-sqlite3'; // no bundled types; a string keeps the type checker out of it
    const { default: Database } = (await import(driver)) as { default: any };
    return {
      url: db.url,
      async tables() {
        const conn = new Database(db.url.slice('sqlite:'.length), { readonly: true });
        const rows = conn.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
        conn.close();
        return rows.map((r) => r.name);
      },
      async drop() {
        db.remove();
      },
    };
  },
};

function postgres(serverUrl: string): Target {
  return {
    name: 'postgres',
    async create() {
      const { default: pg } = await import('pg');
      const name = `arraf_sample_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        async tables() {
          const client = new pg.Client({ connectionString: url.toString() });
          await client.connect();
          const { rows } = await client.query("select tablename from pg_tables where schemaname = 'public'");
          await client.end();
          return rows.map((r: { tablename: string }) => r.tablename);
        },
        async drop() {
          const client = new pg.Client({ connectionString: serverUrl });
          await client.connect();
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await client.end();
        },
      };
    },
  };
}

function mysql(serverUrl: string): Target {
  return {
    name: 'mysql',
    async create() {
      const { default: mysql2 } = await import('mysql2/promise');
      const name = `arraf_sample_${randomBytes(5).toString('hex')}`;
      const admin = await mysql2.createConnection(serverUrl);
      await admin.query(`CREATE DATABASE ${name}`);
      const [rows] = await admin.query('SELECT VERSION() AS version');
      await admin.end();
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      // The sample's mariadb:// scheme tells TypeORM it talks to MariaDB.
      if (/mariadb/i.test((rows as { version: string }[])[0].version)) url.protocol = 'mariadb:';
      return {
        url: url.toString(),
        async tables() {
          const conn = await mysql2.createConnection(`${serverUrl.replace(/\/[^/]*$/, '')}/${name}`);
          const [list] = await conn.query('SHOW TABLES');
          await conn.end();
          return (list as Record<string, string>[]).map((row) => Object.values(row)[0]);
        },
        async drop() {
          const conn = await mysql2.createConnection(serverUrl);
          await conn.query(`DROP DATABASE IF EXISTS ${name}`);
          await conn.end();
        },
      };
    },
  };
}

const targets: Target[] = [sqlite];
if (process.env.TEST_POSTGRES_URL) targets.push(postgres(process.env.TEST_POSTGRES_URL));
if (process.env.TEST_MYSQL_URL) targets.push(mysql(process.env.TEST_MYSQL_URL));

describe('migration scripts (npm run migration:show / run / revert)', () => {
  // Each database in parallel: every CLI call loads Node, TypeORM and the module (a few seconds).
  it.concurrent.each(targets)(
    'on $name: show lists the migration pending, run applies it, revert removes it',
    async (target) => {
      const db = await target.create();
      try {
        const pending = await migration('migration:show', db.url);
        expect(pending).toMatch(/^\[ \] ArrafAuthInit\d+$/m);
        expect(pending).toMatch(/^\[ \] ArrafAuthVerificationLookups\d+$/m);

        const applied = await migration('migration:run', db.url);
        expect(applied).toMatch(/Migration ArrafAuthInit\d+ has been executed successfully/);
        expect(applied).toMatch(/Migration ArrafAuthVerificationLookups\d+ has been executed successfully/);
        expect(await db.tables()).toEqual(expect.arrayContaining([...AUTH_TABLES, 'migrations']));
        const shown = await migration('migration:show', db.url);
        expect(shown).toMatch(/^\[X\] 1 ArrafAuthInit\d+$/m);
        expect(shown).toMatch(/^\[X\] 2 ArrafAuthVerificationLookups\d+$/m);
        // Issue 16: second factors and passkeys come in the third migration, reverted first.
        expect(shown).toMatch(/^\[X\] 3 ArrafAuthTwoFactor\d+$/m);
        expect(await db.tables()).toEqual(expect.arrayContaining(['two_factors', 'two_factor_proofs', 'passkeys']));
        // Issue 18: security events, then the sign-in method marks, reverted before them.
        expect(shown).toMatch(/^\[X\] 5 ArrafAuthSignInMethods\d+$/m);
        expect(await migration('migration:revert', db.url)).toMatch(
          /Migration ArrafAuthSignInMethods\d+ has been reverted successfully/,
        );
        expect(await migration('migration:revert', db.url)).toMatch(
          /Migration ArrafAuthSecurityEvents\d+ has been reverted successfully/,
        );
        const revertedTwoFactor = await migration('migration:revert', db.url);
        expect(revertedTwoFactor).toMatch(/Migration ArrafAuthTwoFactor\d+ has been reverted successfully/);
        expect(await db.tables()).not.toContain('passkeys');

        // Newest first: the lookups' indexes, then the tables.
        expect(await migration('migration:revert', db.url)).toMatch(
          /Migration ArrafAuthVerificationLookups\d+ has been reverted successfully/,
        );
        const reverted = await migration('migration:revert', db.url);
        expect(reverted).toMatch(/Migration ArrafAuthInit\d+ has been reverted successfully/);
        const left = await db.tables();
        for (const table of AUTH_TABLES) expect(left).not.toContain(table);
      } finally {
        await db.drop();
      }
    },
    // Eight CLI runs per database, in parallel with the other suites on a small CI machine.
    180_000,
  );
});
