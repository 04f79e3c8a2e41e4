// Fresh, migrated databases for the benchmark, and fast bulk seeding in SQL.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_ENTITIES, ARRAF_AUTH_MIGRATIONS } from '@arraf-auth/nestjs';

export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the same server as the admin URL. */
export function postgresUrl(name) {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function migrate(options) {
  const dataSource = new DataSource({
    ...options,
    entities: ARRAF_AUTH_ENTITIES,
    migrations: ARRAF_AUTH_MIGRATIONS,
    logging: false,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
}

/** A new SQLite file in `dir`, migrated with ARRAF_AUTH_MIGRATIONS. Returns its path. */
export async function freshSqlite(dir, name = 'bench.db') {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  await migrate({ type: 'better-sqlite3', database: file });
  return file;
}

/** Drops and recreates PostgreSQL database `name`, migrated with ARRAF_AUTH_MIGRATIONS. Returns its URL. */
export async function freshPostgres(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  await withPostgres(POSTGRES_ADMIN_URL, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = postgresUrl(name);
  await migrate({ type: 'postgres', url });
  return url;
}

export async function dropPostgres(name) {
  await withPostgres(POSTGRES_ADMIN_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Inserts `count` session rows (and `users` users they belong to, once) with generate_series.
 * Ids are md5-derived UUIDs and token hashes SHA-256 values, so the indexes see random keys as in
 * production. `expired` rows expired a day ago; the others expire in 30 days.
 */
export async function seedSessions(client, { from = 1, count, users = 1000, expired = false }) {
  await client.query(
    `INSERT INTO users (id, email, "emailVerified", "phoneVerified", name)
     SELECT md5('user' || g)::uuid::text, 'seed' || g || '@example.com', true, false, 'Seed ' || g
     FROM generate_series(1, $1::int) g
     ON CONFLICT DO NOTHING`,
    [users],
  );
  await client.query(
    `INSERT INTO sessions (id, "userId", "tokenHash", "expiresAt", "lastActiveAt", "ipAddress", "userAgent", "createdAt")
     SELECT md5('session' || g)::uuid::text,
            md5('user' || (1 + g % $3::int))::uuid::text,
            encode(sha256(('token' || g)::bytea), 'hex'),
            now() ${expired ? "- interval '1 day'" : "+ interval '30 days'"},
            now() - interval '2 days',
            '203.0.113.7',
            'Mozilla/5.0 (bench)',
            now() - interval '2 days'
     FROM generate_series($1::int, $1::int + $2::int - 1) g`,
    [from, count, users],
  );
  await client.query('ANALYZE sessions');
  await client.query('ANALYZE users');
}
