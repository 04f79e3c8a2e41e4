import { type MigrationInterface, type QueryRunner, Table, TableIndex, TableUnique } from 'typeorm';
import { cascadeTo, dialectOf, migrationColumns } from './migration-columns.js';

/**
 * Constraint and index names are the ones TypeORM's DefaultNamingStrategy gives the entities, written
 * down so this migration never depends on the entities being registered. MySQL has no unique
 * constraints, only unique indexes, which TypeORM names `IDX_…` instead of `UQ_…`.
 */
const NAMES = {
  users: {
    pk: 'PK_a3ffb1c0c8416b9fc6f907b7433',
    email: { unique: 'UQ_97672ac88f789774dd47f7c8be3', mysqlIndex: 'IDX_97672ac88f789774dd47f7c8be' },
    phone: { unique: 'UQ_a000cca60bcf04454e727699490', mysqlIndex: 'IDX_a000cca60bcf04454e72769949' },
  },
  sessions: {
    pk: 'PK_3238ef96f18b355b671619111bc',
    tokenHash: { unique: 'UQ_bace6c68efc156fddac9b14bda2', mysqlIndex: 'IDX_bace6c68efc156fddac9b14bda' },
    userId: 'IDX_57de40bc620f456c7311aa3a1e',
    expiresAt: 'IDX_50762206f116cd47d1c3fec396',
    userFk: 'FK_57de40bc620f456c7311aa3a1e6',
  },
  accounts: {
    pk: 'PK_5a7a02c20412299d198e097a8fe',
    // Named explicitly on the entity, so the same on every driver.
    providerAccount: { unique: 'UQ_accounts_provider_account', mysqlIndex: 'UQ_accounts_provider_account' },
    userId: 'IDX_3aa23c0a6d107393e8b40e3e2a',
    userFk: 'FK_3aa23c0a6d107393e8b40e3e2a6',
  },
  verifications: {
    pk: 'PK_2127ad1b143cf012280390b01d1',
    expiresAt: 'IDX_9396c99745fc563de4d5b13aed',
    identifierType: 'IDX_verifications_identifier_type',
  },
} as const;

/** Creates the `users`, `sessions`, `accounts` and `verifications` tables on PostgreSQL, MySQL/MariaDB or SQLite. */
export class ArrafAuthInit1732700000000 implements MigrationInterface {
  // Explicit, so the migration keeps its identity when a bundler renames the class.
  name = 'ArrafAuthInit1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner, 'ArrafAuthInit');
    const c = migrationColumns(dialect);

    // A unique key is a constraint on PostgreSQL/SQLite and a unique index on MySQL.
    const uniqueKeys = (keys: { name: { unique: string; mysqlIndex: string }; columnNames: string[] }[]) =>
      dialect === 'mysql'
        ? {
            uniques: [],
            indices: keys.map(
              (k) => new TableIndex({ name: k.name.mysqlIndex, columnNames: k.columnNames, isUnique: true }),
            ),
          }
        : {
            uniques: keys.map((k) => new TableUnique({ name: k.name.unique, columnNames: k.columnNames })),
            indices: [],
          };
    const userFk = (name: string) => cascadeTo(name, 'userId', 'users');
    const withPk = (pk: string) => c.primaryId('id', pk);

    const userKeys = uniqueKeys([
      { name: NAMES.users.email, columnNames: ['email'] },
      { name: NAMES.users.phone, columnNames: ['phone'] },
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          withPk(NAMES.users.pk),
          c.identifier('email', 254, { isNullable: true }),
          c.boolean('emailVerified'),
          c.identifier('phone', 20, { isNullable: true }),
          c.boolean('phoneVerified'),
          c.varchar('name', 255, { isNullable: true }),
          c.varchar('image', 2048, { isNullable: true }),
          c.createdAt(),
          c.updatedAt(),
        ],
        uniques: userKeys.uniques,
        indices: userKeys.indices,
      }),
    );

    const sessionKeys = uniqueKeys([{ name: NAMES.sessions.tokenHash, columnNames: ['tokenHash'] }]);
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          withPk(NAMES.sessions.pk),
          c.varchar('userId', 36),
          c.identifier('tokenHash', 64),
          c.date('expiresAt'),
          c.date('lastActiveAt'),
          c.varchar('ipAddress', 45, { isNullable: true }),
          c.varchar('userAgent', 512, { isNullable: true }),
          c.createdAt(),
        ],
        uniques: sessionKeys.uniques,
        indices: [
          ...sessionKeys.indices,
          new TableIndex({ name: NAMES.sessions.userId, columnNames: ['userId'] }),
          new TableIndex({ name: NAMES.sessions.expiresAt, columnNames: ['expiresAt'] }),
        ],
        foreignKeys: [userFk(NAMES.sessions.userFk)],
      }),
    );

    const accountKeys = uniqueKeys([
      { name: NAMES.accounts.providerAccount, columnNames: ['providerId', 'accountId'] },
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'accounts',
        columns: [
          withPk(NAMES.accounts.pk),
          c.varchar('userId', 36),
          c.identifier('providerId', 64),
          c.identifier('accountId', 255),
          c.varchar('password', 255, { isNullable: true }),
          c.text('accessToken', true),
          c.text('refreshToken', true),
          c.text('idToken', true),
          c.date('accessTokenExpiresAt', true),
          c.varchar('scope', 1024, { isNullable: true }),
          c.createdAt(),
          c.updatedAt(),
        ],
        uniques: accountKeys.uniques,
        indices: [...accountKeys.indices, new TableIndex({ name: NAMES.accounts.userId, columnNames: ['userId'] })],
        foreignKeys: [userFk(NAMES.accounts.userFk)],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'verifications',
        columns: [
          withPk(NAMES.verifications.pk),
          c.identifier('identifier', 255),
          c.identifier('type', 64),
          c.identifier('valueHash', 64),
          c.date('expiresAt'),
          c.int('attempts'),
          c.createdAt(),
        ],
        indices: [
          new TableIndex({ name: NAMES.verifications.expiresAt, columnNames: ['expiresAt'] }),
          new TableIndex({ name: NAMES.verifications.identifierType, columnNames: ['identifier', 'type'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Reverse order: the tables that reference `users` go first.
    for (const table of ['verifications', 'accounts', 'sessions', 'users']) {
      await queryRunner.dropTable(table, true, true, true);
    }
  }
}
