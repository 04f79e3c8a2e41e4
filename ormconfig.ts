import { ARRAF_AUTH_ENTITIES, ARRAF_AUTH_MIGRATIONS } from '@arraf-auth/nestjs';
import { DataSource, type DataSourceOptions } from 'typeorm';

/**
 * TypeORM options for the sample and the migration CLI, from `DATABASE_URL`:
 * `sqlite:<file>` (default `sqlite:sample.db`), `postgres://…`, `mysql://…` or `mariadb://…`.
 */
export function dataSourceOptions(databaseUrl = process.env.DATABASE_URL ?? 'sqlite:sample.db'): DataSourceOptions {
  const common = { entities: ARRAF_AUTH_ENTITIES, migrations: ARRAF_AUTH_MIGRATIONS, synchronize: false } as const;
  if (databaseUrl.startsWith('sqlite:')) {
    return { ...common, type: 'better-sqlite3', database: databaseUrl.slice('sqlite:'.length) || 'sample.db' };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return { ...common, type: 'postgres', url: databaseUrl };
  if (databaseUrl.startsWith('mysql://')) return { ...common, type: 'mysql', url: databaseUrl };
  if (databaseUrl.startsWith('mariadb://')) {
    return { ...common, type: 'mariadb', url: databaseUrl.replace(/^mariadb:/, 'mysql:') };
  }
  throw new Error(`DATABASE_URL must start with sqlite:, postgres://, mysql:// or mariadb:// (got ${databaseUrl})`);
}

export default new DataSource(dataSourceOptions());
