import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions, TableIndex } from 'typeorm';

const SQLITE_DRIVERS = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'react-native', 'expo']);

/** `createdAt` as TypeORM derives a `CreateDateColumn` on each driver (no pending schema change). */
function createdAtColumn(driver: string): TableColumnOptions {
  if (driver === 'postgres') return { name: 'createdAt', type: 'timestamp', isNullable: false, default: 'now()' };
  if (driver === 'mysql' || driver === 'mariadb' || driver === 'aurora-mysql') {
    return { name: 'createdAt', type: 'datetime', precision: 6, isNullable: false, default: 'CURRENT_TIMESTAMP(6)' };
  }
  if (SQLITE_DRIVERS.has(driver)) {
    return { name: 'createdAt', type: 'datetime', isNullable: false, default: "datetime('now')" };
  }
  throw new Error(
    `ArrafAuthSecurityEvents: unsupported database type '${driver}' (use PostgreSQL, MySQL/MariaDB or SQLite)`,
  );
}

function optionalString(name: string, length: number): TableColumnOptions {
  return { name, type: 'varchar', length: String(length), isNullable: true };
}

/**
 * Creates `security_events` on top of the earlier migrations: one row per sign-in, sign-out or
 * account change, listed newest first per user (index on `userId, createdAt`). No foreign key: a
 * deleted account's last event stays.
 */
export class ArrafAuthSecurityEvents1796100000000 implements MigrationInterface {
  name = 'ArrafAuthSecurityEvents1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'security_events',
        columns: [
          {
            name: 'id',
            type: 'varchar',
            length: '36',
            isPrimary: true,
            isNullable: false,
            primaryKeyConstraintName: 'PK_security_events',
          },
          optionalString('userId', 36),
          { name: 'type', type: 'varchar', length: '64', isNullable: false },
          optionalString('method', 32),
          optionalString('ip', 45),
          optionalString('userAgent', 512),
          { name: 'detail', type: 'text', isNullable: true },
          createdAtColumn(queryRunner.connection.driver.options.type),
        ],
        indices: [
          new TableIndex({ name: 'IDX_security_events_userId_createdAt', columnNames: ['userId', 'createdAt'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('security_events', true, true, true);
  }
}
