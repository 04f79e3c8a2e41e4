import { DataSource } from 'typeorm';
import { DEFAULT_DATABASE_URL, dataSourceOptions } from './sample/database.js';

export { dataSourceOptions } from './sample/database.js';

/**
 * The sample's database as a TypeORM DataSource, for the migration CLI:
 * `npm run migration:run` / `migration:revert` / `migration:show` (they build first, then run
 * `typeorm <command> -d dist-sample/ormconfig.js`). `DATABASE_URL` picks the database, as for the
 * sample: `sqlite:<file>` (default `sqlite:sample.db`), `postgres://…`, `mysql://…`, `mariadb://…`.
 */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL || DEFAULT_DATABASE_URL));
