import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';

/** A database a suite can run against. `create()` makes a fresh, empty database for one suite. */
export interface TestDatabase {
  name: 'sqlite' | 'postgres' | 'mysql';
  create(): Promise<{ options: DataSourceOptions; drop(): Promise<void> }>;
}

function uniqueName(): string {
  return `arraf_test_${randomBytes(5).toString('hex')}`;
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  async create() {
    const file = join(tmpdir(), `${uniqueName()}.db`);
    return {
      options: { type: 'better-sqlite3', database: file },
      async drop() {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
      },
    };
  },
};

function postgres(url: string): TestDatabase {
  return {
    name: 'postgres',
    async create() {
      const { default: pg } = await import('pg');
      const name = uniqueName();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${name}`;
      return {
        options: { type: 'postgres', url: dbUrl.toString() },
        async drop() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await client.end();
        },
      };
    },
  };
}

function mysql(url: string): TestDatabase {
  return {
    name: 'mysql',
    async create() {
      const { default: mysql2 } = await import('mysql2/promise');
      const name = uniqueName();
      const admin = await mysql2.createConnection(url);
      // The server's usual accent- and case-insensitive default, on purpose: lookups must still be exact.
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      const [rows] = await admin.query('SELECT VERSION() AS version');
      await admin.end();
      // TypeORM reads MariaDB's column defaults correctly only when told it is MariaDB.
      const type = /mariadb/i.test((rows as { version: string }[])[0].version) ? 'mariadb' : 'mysql';
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${name}`;
      return {
        options: { type, url: dbUrl.toString() },
        async drop() {
          const conn = await mysql2.createConnection(url);
          await conn.query(`DROP DATABASE IF EXISTS ${name}`);
          await conn.end();
        },
      };
    },
  };
}

/**
 * The databases database suites run on: SQLite always; PostgreSQL and MariaDB/MySQL when
 * `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` are set. Use with `describe.each(testDatabases())`.
 */
export function testDatabases(): TestDatabase[] {
  const list: TestDatabase[] = [sqlite];
  if (process.env.TEST_POSTGRES_URL) list.push(postgres(process.env.TEST_POSTGRES_URL));
  if (process.env.TEST_MYSQL_URL) list.push(mysql(process.env.TEST_MYSQL_URL));
  return list;
}
