import {
  type MigrationInterface,
  type QueryRunner,
  Table,
  type TableColumnOptions,
  TableForeignKey,
  TableIndex,
} from 'typeorm';

type Dialect = 'postgres' | 'mysql' | 'sqlite';

const SQLITE_TYPES = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'react-native', 'expo']);

function dialectOf(queryRunner: QueryRunner): Dialect {
  const type = queryRunner.connection.driver.options.type;
  if (type === 'postgres') return 'postgres';
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') return 'mysql';
  if (SQLITE_TYPES.has(type)) return 'sqlite';
  throw new Error(`ArrafAuthTwoFactor: unsupported database type '${type}' (use PostgreSQL, MySQL/MariaDB or SQLite)`);
}

/** Column builders matching what TypeORM derives from the entities on each driver (no pending schema change). */
function columns(dialect: Dialect) {
  const mysql = dialect === 'mysql';
  const timestampType = dialect === 'postgres' ? 'timestamp' : 'datetime';
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
    /** Looked up by equality: binary collation on MySQL so matches are exact. */
    identifier: (name: string, length: number, extra: Partial<TableColumnOptions> = {}) =>
      varchar(name, length, { ...(mysql ? { collation: 'utf8mb4_bin' } : {}), ...extra }),
    text: (name: string): TableColumnOptions => ({ name, type: 'text', isNullable: false }),
    boolean: (name: string): TableColumnOptions =>
      mysql
        ? { name, type: 'tinyint', isNullable: false, default: 0 }
        : { name, type: 'boolean', isNullable: false, default: dialect === 'postgres' ? 'false' : 0 },
    int: (name: string): TableColumnOptions => ({
      name,
      type: mysql ? 'int' : 'integer',
      isNullable: false,
      default: 0,
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
  };
}

function cascadeTo(name: string, column: string, table: string): TableForeignKey {
  return new TableForeignKey({
    name,
    columnNames: [column],
    referencedTableName: table,
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
    onUpdate: 'NO ACTION',
  });
}

/**
 * Creates `two_factors` (TOTP authenticators), `two_factor_proofs` (when a session passed a second
 * factor) and `passkeys` (WebAuthn credentials), on top of `ArrafAuthInit`. Names are explicit on the
 * entities, so the same on every driver.
 */
export class ArrafAuthTwoFactor1795968100000 implements MigrationInterface {
  name = 'ArrafAuthTwoFactor1795968100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(dialectOf(queryRunner));
    const pk = (name: string, constraint: string): TableColumnOptions => ({
      ...c.varchar(name, 36),
      isPrimary: true,
      primaryKeyConstraintName: constraint,
    });
    await queryRunner.createTable(
      new Table({
        name: 'two_factors',
        columns: [
          pk('userId', 'PK_two_factors'),
          c.varchar('secret', 255),
          c.boolean('enabled'),
          c.int('lastUsedStep'),
          c.createdAt(),
        ],
        foreignKeys: [cascadeTo('FK_two_factors_user', 'userId', 'users')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'two_factor_proofs',
        columns: [pk('sessionId', 'PK_two_factor_proofs'), c.date('verifiedAt')],
        foreignKeys: [cascadeTo('FK_two_factor_proofs_session', 'sessionId', 'sessions')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'passkeys',
        columns: [
          pk('id', 'PK_passkeys'),
          c.varchar('userId', 36),
          c.identifier('credentialId', 512),
          c.text('publicKey'),
          c.bigint('counter'),
          c.varchar('transports', 255, { isNullable: true }),
          c.varchar('name', 100),
          c.varchar('deviceType', 32),
          c.boolean('backedUp'),
          c.createdAt(),
          c.date('lastUsedAt', true),
        ],
        indices: [
          new TableIndex({ name: 'IDX_passkeys_userId', columnNames: ['userId'] }),
          new TableIndex({ name: 'UQ_passkeys_credentialId', columnNames: ['credentialId'], isUnique: true }),
        ],
        foreignKeys: [cascadeTo('FK_passkeys_user', 'userId', 'users')],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['passkeys', 'two_factor_proofs', 'two_factors']) {
      await queryRunner.dropTable(table, true, true, true);
    }
  }
}
