import { type QueryRunner, type TableColumnOptions, TableForeignKey } from 'typeorm';

/**
 * What the library's migrations share: the dialect of the connection and column builders that
 * reproduce exactly what TypeORM derives from the entities on each driver, so that a migrated
 * database shows no pending schema change. A migration already applied keeps its schema: these
 * builders return the same column options the migrations wrote out before they were shared.
 */

/** The SQL dialects the migrations are written for. */
export type Dialect = 'postgres' | 'mysql' | 'sqlite';

const SQLITE_TYPES = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'react-native', 'expo']);

/** The dialect of `queryRunner`'s database; any other database throws, naming `migration`. */
export function dialectOf(queryRunner: QueryRunner, migration: string): Dialect {
  const type = queryRunner.connection.driver.options.type;
  if (type === 'postgres') return 'postgres';
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') return 'mysql';
  if (SQLITE_TYPES.has(type)) return 'sqlite';
  throw new Error(`${migration}: unsupported database type '${type}' (use PostgreSQL, MySQL/MariaDB or SQLite)`);
}

/** Column builders for `dialect` (`NOT NULL` unless said otherwise). */
export function migrationColumns(dialect: Dialect) {
  const mysql = dialect === 'mysql';
  const timestampType = dialect === 'postgres' ? 'timestamp' : 'datetime';
  // TypeORM's own defaults for CreateDateColumn / UpdateDateColumn on each driver.
  const now = { postgres: 'now()', mysql: 'CURRENT_TIMESTAMP(6)', sqlite: "datetime('now')" }[dialect];
  const varchar = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: false,
    ...extra,
  });

  return {
    varchar,
    /** A `varchar(36)` primary key (a random UUID) with its constraint name. */
    primaryId: (name: string, constraint: string): TableColumnOptions => ({
      ...varchar(name, 36),
      isPrimary: true,
      primaryKeyConstraintName: constraint,
    }),
    /**
     * An identifier looked up by equality. MySQL's usual `*_ci` collations are case- and
     * accent-insensitive ('josé@x' = 'JOSE@x'); a binary collation makes lookups and unique keys
     * exact, like PostgreSQL and SQLite. TypeORM's MySQL schema diff ignores collation.
     */
    identifier: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions =>
      varchar(name, length, { ...(mysql ? { collation: 'utf8mb4_bin' } : {}), ...extra }),
    text: (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'text', isNullable }),
    boolean: (name: string): TableColumnOptions =>
      mysql
        ? { name, type: 'tinyint', isNullable: false, default: 0 }
        : { name, type: 'boolean', isNullable: false, default: dialect === 'postgres' ? 'false' : 0 },
    int: (name: string, defaultValue = 0): TableColumnOptions => ({
      name,
      type: mysql ? 'int' : 'integer',
      isNullable: false,
      default: defaultValue,
    }),
    bigint: (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: false, default: 0 }),
    date: (name: string, isNullable = false): TableColumnOptions => ({ name, type: timestampType, isNullable }),
    createdAt: (): TableColumnOptions => ({
      name: 'createdAt',
      type: timestampType,
      isNullable: false,
      default: now,
      ...(mysql ? { precision: 6 } : {}),
    }),
    updatedAt: (): TableColumnOptions => ({
      name: 'updatedAt',
      type: timestampType,
      isNullable: false,
      default: now,
      ...(mysql ? { precision: 6, onUpdate: 'CURRENT_TIMESTAMP(6)' } : {}),
    }),
  };
}

/** A foreign key from `column` to `table.id` that deletes the row with what it references. */
export function cascadeTo(name: string, column: string, table: string): TableForeignKey {
  return new TableForeignKey({
    name,
    columnNames: [column],
    referencedTableName: table,
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
    onUpdate: 'NO ACTION',
  });
}
