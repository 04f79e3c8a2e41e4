import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions, TableForeignKey } from 'typeorm';

/** The timestamp type TypeORM derives from `type: Date` on each driver. */
function timestampType(queryRunner: QueryRunner): string {
  return queryRunner.connection.driver.options.type === 'postgres' ? 'timestamp' : 'datetime';
}

/**
 * Creates `sign_in_method_marks` (when a user's phone was attached, when the email was last proven,
 * and the window of methods to flag after an email-proven reset), on top of `ArrafAuthTwoFactor`.
 */
export class ArrafAuthSignInMethods1796200000000 implements MigrationInterface {
  name = 'ArrafAuthSignInMethods1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const type = timestampType(queryRunner);
    const date = (name: string): TableColumnOptions => ({ name, type, isNullable: true });
    await queryRunner.createTable(
      new Table({
        name: 'sign_in_method_marks',
        columns: [
          {
            name: 'userId',
            type: 'varchar',
            length: '36',
            isNullable: false,
            isPrimary: true,
            primaryKeyConstraintName: 'PK_sign_in_method_marks',
          },
          date('phoneAddedAt'),
          date('emailProvenAt'),
          date('reviewFrom'),
          date('reviewUntil'),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_sign_in_method_marks_user',
            columnNames: ['userId'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'NO ACTION',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sign_in_method_marks', true, true, true);
  }
}
