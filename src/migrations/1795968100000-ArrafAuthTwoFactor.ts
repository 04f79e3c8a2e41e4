import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { cascadeTo, dialectOf, migrationColumns } from './migration-columns.js';

/**
 * Creates `two_factors` (TOTP authenticators), `two_factor_proofs` (when a session passed a second
 * factor) and `passkeys` (WebAuthn credentials), on top of `ArrafAuthInit`. Names are explicit on the
 * entities, so the same on every driver.
 */
export class ArrafAuthTwoFactor1795968100000 implements MigrationInterface {
  name = 'ArrafAuthTwoFactor1795968100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = migrationColumns(dialectOf(queryRunner, 'ArrafAuthTwoFactor'));
    await queryRunner.createTable(
      new Table({
        name: 'two_factors',
        columns: [
          c.primaryId('userId', 'PK_two_factors'),
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
        columns: [c.primaryId('sessionId', 'PK_two_factor_proofs'), c.date('verifiedAt')],
        foreignKeys: [cascadeTo('FK_two_factor_proofs_session', 'sessionId', 'sessions')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'passkeys',
        columns: [
          c.primaryId('id', 'PK_passkeys'),
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
