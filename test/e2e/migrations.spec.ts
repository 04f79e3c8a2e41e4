import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Column,
  DataSource,
  type DataSourceOptions,
  Entity,
  type MigrationInterface,
  QueryFailedError,
  type QueryRunner,
  TableColumn,
} from 'typeorm';
import { Account } from '../../src/entities/account.entity.js';
import { ARRAF_AUTH_ENTITIES, arrafAuthEntities } from '../../src/entities/arraf-auth.entities.js';
import { Session } from '../../src/entities/session.entity.js';
import { User } from '../../src/entities/user.entity.js';
import { Verification } from '../../src/entities/verification.entity.js';
import {
  ARRAF_AUTH_MIGRATIONS,
  ArrafAuthInit1732700000000,
  ArrafAuthVerificationLookups1732900000000,
} from '../../src/migrations/arraf-auth.migrations.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const OUR_TABLES = ['users', 'sessions', 'accounts', 'verifications'];

/** An application's own user entity, on the library's table. */
@Entity('users')
class AppUser extends User {
  @Column({ type: 'varchar', length: 10, nullable: true })
  locale!: string | null;
}

/** The application's migration for its extra column, run after the library's. */
class AddUserLocale1732800000000 implements MigrationInterface {
  name = 'AddUserLocale1732800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'locale', type: 'varchar', length: '10', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'locale');
  }
}

function newUser(fields: Partial<User> = {}): Partial<User> {
  return { id: randomUUID(), email: null, phone: null, ...fields };
}

function newSession(userId: string, fields: Partial<Session> = {}): Partial<Session> {
  const now = new Date();
  return {
    id: randomUUID(),
    userId,
    tokenHash: randomBytes(32).toString('hex'),
    expiresAt: new Date(now.getTime() + 86_400_000),
    lastActiveAt: now,
    ...fields,
  };
}

function newAccount(userId: string, fields: Partial<Account> = {}): Partial<Account> {
  return { id: randomUUID(), userId, providerId: 'google', accountId: randomUUID(), ...fields };
}

/**
 * TypeORM handles MariaDB's information_schema quirks (e.g. `COLUMN_DEFAULT` 'NULL' on nullable
 * columns) only under `type: 'mariadb'`; under 'mysql' every nullable column would look changed.
 */
async function withServerType(options: DataSourceOptions): Promise<DataSourceOptions> {
  if (options.type !== 'mysql' || !options.url) return options;
  const { default: mysql2 } = await import('mysql2/promise');
  const conn = await mysql2.createConnection(options.url);
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const version = String((rows as { version: string }[])[0].version);
    return /mariadb/i.test(version) ? { ...options, type: 'mariadb' } : options;
  } finally {
    await conn.end();
  }
}

async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

describe.each(testDatabases())('ARRAF_AUTH_MIGRATIONS on $name', (db: TestDatabase) => {
  const cleanups: (() => Promise<void>)[] = [];

  /** A DataSource on a fresh database of its own, with the given migrations applied. */
  async function migrated(
    entities: DataSourceOptions['entities'],
    migrations: DataSourceOptions['migrations'] = ARRAF_AUTH_MIGRATIONS,
  ): Promise<DataSource> {
    const { options, drop } = await db.create();
    const dataSource = new DataSource({ ...(await withServerType(options)), entities, migrations, logging: false });
    cleanups.push(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await drop();
    });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    return dataSource;
  }

  let ds: DataSource;

  beforeAll(async () => {
    ds = await migrated(ARRAF_AUTH_ENTITIES);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('leaves no pending schema change and no pending migration', async () => {
    expect(await pendingSchemaChanges(ds)).toEqual([]);
    expect(await ds.showMigrations()).toBe(false);
  });

  it('rejects a duplicate session tokenHash', async () => {
    const user = await ds.getRepository(User).save(newUser());
    const session = newSession(user.id);
    await ds.getRepository(Session).insert(session);
    await expect(
      ds.getRepository(Session).insert(newSession(user.id, { tokenHash: session.tokenHash })),
    ).rejects.toBeInstanceOf(QueryFailedError);
  });

  it('rejects a duplicate user email and phone, but allows many users without either', async () => {
    const users = ds.getRepository(User);
    await users.insert(newUser({ email: 'dup@example.com', phone: '+966500000001' }));
    await expect(users.insert(newUser({ email: 'dup@example.com' }))).rejects.toBeInstanceOf(QueryFailedError);
    await expect(users.insert(newUser({ phone: '+966500000001' }))).rejects.toBeInstanceOf(QueryFailedError);

    const a = newUser();
    const b = newUser();
    await users.insert([a, b]);
    expect(await users.countBy([{ id: a.id }, { id: b.id }])).toBe(2);
  });

  it('rejects a duplicate (providerId, accountId) but allows the same accountId at another provider', async () => {
    const user = await ds.getRepository(User).save(newUser());
    const accounts = ds.getRepository(Account);
    await accounts.insert(newAccount(user.id, { providerId: 'github', accountId: '42' }));
    await expect(
      accounts.insert(newAccount(user.id, { providerId: 'github', accountId: '42' })),
    ).rejects.toBeInstanceOf(QueryFailedError);
    await accounts.insert(newAccount(user.id, { providerId: 'google', accountId: '42' }));
  });

  it('cascades a user deletion to their sessions and accounts', async () => {
    const user = await ds.getRepository(User).save(newUser({ email: 'cascade@example.com' }));
    await ds.getRepository(Session).insert([newSession(user.id), newSession(user.id)]);
    await ds.getRepository(Account).insert(newAccount(user.id));
    expect(await ds.getRepository(Session).countBy({ userId: user.id })).toBe(2);

    await ds.getRepository(User).delete({ id: user.id });
    expect(await ds.getRepository(Session).countBy({ userId: user.id })).toBe(0);
    expect(await ds.getRepository(Account).countBy({ userId: user.id })).toBe(0);
  });

  it('rejects a session for a user that does not exist', async () => {
    await expect(ds.getRepository(Session).insert(newSession(randomUUID()))).rejects.toBeInstanceOf(QueryFailedError);
  });

  // MySQL's default collations would make these equal; the migration's binary collation must not.
  it('compares identifiers exactly: no accent- or case-insensitive matches', async () => {
    const users = ds.getRepository(User);
    await users.insert([
      newUser({ email: 'josé@x.com' }),
      newUser({ email: 'jose@x.com' }),
      newUser({ email: 'JOSE@x.com' }),
    ]);
    const found = await users.findBy({ email: 'jose@x.com' });
    expect(found.map((u) => u.email)).toEqual(['jose@x.com']);

    const verifications = ds.getRepository(Verification);
    const expiresAt = new Date(Date.now() + 300_000);
    await verifications.insert([
      { id: randomUUID(), identifier: 'josé@x.com', type: 'verify-email', valueHash: 'a'.repeat(64), expiresAt },
      { id: randomUUID(), identifier: 'jose@x.com', type: 'Verify-Email', valueHash: 'b'.repeat(64), expiresAt },
    ]);
    expect(await verifications.countBy({ identifier: 'jose@x.com', type: 'verify-email' })).toBe(0);
    expect(await verifications.countBy({ valueHash: 'A'.repeat(64) })).toBe(0);
  });

  it('indexes the verifications lookups on top of ArrafAuthInit, keeping rows, and reverts to it', async () => {
    const LOOKUPS = ['IDX_verifications_type_expiresAt', 'IDX_verifications_valueHash_type'];
    // The entities these two migrations cover: the later tables (second factors, events, method marks) are not part of them.
    const LATER = ['TwoFactor', 'TwoFactorProof', 'Passkey', 'SecurityEvent', 'SignInMethodMarks'];
    const entities = ARRAF_AUTH_ENTITIES.filter((entity) => !LATER.includes((entity as { name: string }).name));
    const initOnly = await migrated(entities, [ArrafAuthInit1732700000000]);
    // The entity declares the indexes, so a database at ArrafAuthInit alone is behind.
    expect((await pendingSchemaChanges(initOnly)).join('\n')).toMatch(/IDX_verifications_valueHash_type/);
    const row = { id: randomUUID(), identifier: 'a@x.com', type: 'verify-email', valueHash: 'c'.repeat(64) };
    await initOnly.getRepository(Verification).insert({ ...row, expiresAt: new Date(Date.now() + 60_000) });

    const indexNames = async () => {
      const table = await queryRunner.getTable('verifications');
      return table!.indices
        .map((index) => index.name)
        .filter((name) => LOOKUPS.includes(name!))
        .sort();
    };
    const queryRunner = initOnly.createQueryRunner();
    try {
      const migration = new ArrafAuthVerificationLookups1732900000000();
      await migration.up(queryRunner);
      expect(await indexNames()).toEqual(LOOKUPS);
      expect(await pendingSchemaChanges(initOnly)).toEqual([]);
      expect(await initOnly.getRepository(Verification).countBy({ valueHash: row.valueHash })).toBe(1);

      await migration.down(queryRunner);
      expect(await indexNames()).toEqual([]);
      expect(await initOnly.getRepository(Verification).countBy({ id: row.id })).toBe(1);
    } finally {
      await queryRunner.release();
    }
  });

  it('reverts cleanly, and applies again after a revert', async () => {
    const fresh = await migrated(ARRAF_AUTH_ENTITIES);
    for (let i = 0; i < ARRAF_AUTH_MIGRATIONS.length; i++) await fresh.undoLastMigration({ transaction: 'each' });

    const queryRunner = fresh.createQueryRunner();
    try {
      for (const table of OUR_TABLES) expect(await queryRunner.hasTable(table)).toBe(false);
    } finally {
      await queryRunner.release();
    }
    expect(await fresh.showMigrations()).toBe(true);

    await fresh.runMigrations({ transaction: 'each' });
    expect(await pendingSchemaChanges(fresh)).toEqual([]);
  });

  it('lets an application extend User with its own column and migration', async () => {
    const app = await migrated(arrafAuthEntities({ user: AppUser }), [
      ...ARRAF_AUTH_MIGRATIONS,
      AddUserLocale1732800000000,
    ]);
    expect(await pendingSchemaChanges(app)).toEqual([]);

    const user = await app.getRepository(AppUser).save({ ...newUser({ email: 'app@example.com' }), locale: 'ar-SA' });
    const session = newSession(user.id);
    await app.getRepository(Session).insert(session);

    const loaded = await app.getRepository(Session).findOne({ where: { id: session.id }, relations: { user: true } });
    expect(loaded?.user).toBeInstanceOf(AppUser);
    expect(loaded?.user).toMatchObject({ id: user.id, email: 'app@example.com', locale: 'ar-SA' });

    // The cascade still holds after the application's migration altered the users table.
    await app.getRepository(AppUser).delete({ id: user.id });
    expect(await app.getRepository(Session).countBy({ id: session.id })).toBe(0);
  });
});
