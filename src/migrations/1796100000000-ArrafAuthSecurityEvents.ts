import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { dialectOf, migrationColumns } from './migration-columns.js';

/**
 * Creates `security_events` on top of the earlier migrations: one row per sign-in, sign-out or
 * account change, listed newest first per user (index on `userId, createdAt`). No foreign key: a
 * deleted account's last event stays.
 */
export class ArrafAuthSecurityEvents1796100000000 implements MigrationInterface {
  name = 'ArrafAuthSecurityEvents1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = migrationColumns(dialectOf(queryRunner, 'ArrafAuthSecurityEvents'));
    const optional = { isNullable: true };
    await queryRunner.createTable(
      new Table({
        name: 'security_events',
        columns: [
          c.primaryId('id', 'PK_security_events'),
          c.varchar('userId', 36, optional),
          c.varchar('type', 64),
          c.varchar('method', 32, optional),
          c.varchar('ip', 45, optional),
          c.varchar('userAgent', 512, optional),
          c.text('detail', true),
          c.createdAt(),
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
