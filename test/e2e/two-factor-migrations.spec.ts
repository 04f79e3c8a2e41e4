import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource, type DataSourceOptions, QueryFailedError } from 'typeorm';
import { ARRAF_AUTH_ENTITIES } from '../../src/entities/arraf-auth.entities.js';
import { Session } from '../../src/entities/session.entity.js';
import { User } from '../../src/entities/user.entity.js';
import {
  ArrafAuthInit1732700000000,
  ArrafAuthTwoFactor1795968100000,
  ARRAF_AUTH_MIGRATIONS,
} from '../../src/migrations/arraf-auth.migrations.js';
import { Passkey } from '../../src/passkeys/passkey.entity.js';
import { TwoFactorProof } from '../../src/two-factor/two-factor-proof.entity.js';
import { TwoFactor } from '../../src/two-factor/two-factor.entity.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const NEW_TABLES = ['two_factors', 'two_factor_proofs', 'passkeys'];

/** MariaDB's information_schema quirks are handled only under `type: 'mariadb'`. */
async function withServerType(options: DataSourceOptions): Promise<DataSourceOptions> {
  if (options.type !== 'mysql' || !options.url) return options;
  const { default: mysql2 } = await import('mysql2/promise');
  const conn = await mysql2.createConnection(options.url);
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    return /mariadb/i.test(String((rows as { version: string }[])[0].version))
      ? { ...options, type: 'mariadb' }
      : options;
  } finally {
    await conn.end();
  }
}

describe.each(testDatabases())('second-factor migration on $name', (db: TestDatabase) => {
  let drop: () => Promise<void>;
  let ds: DataSource;

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    // First the schema as it was before this migration, with a user in it; then the new migration on top.
    const options = await withServerType(created.options);
    const before = new DataSource({ ...options, migrations: [ArrafAuthInit1732700000000], logging: false });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.query(
      `INSERT INTO users (id, ${before.driver.escape('emailVerified')}, ${before.driver.escape('phoneVerified')}) VALUES ('existing-user', ${before.driver.options.type === 'postgres' ? 'false, false' : '0, 0'})`,
    );
    await before.destroy();
    ds = new DataSource({
      ...options,
      entities: ARRAF_AUTH_ENTITIES,
      migrations: ARRAF_AUTH_MIGRATIONS,
      logging: false,
    });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await drop?.();
  });

  it('applies on top of the existing schema and leaves no pending schema change', async () => {
    expect(await ds.showMigrations()).toBe(false);
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await ds.getRepository(User).countBy({ id: 'existing-user' })).toBe(1);
  });

  it('cascades: a user takes their authenticator and passkeys along, a session its proof', async () => {
    const user = await ds.getRepository(User).save({ id: randomUUID(), email: null, phone: null });
    await ds.getRepository(TwoFactor).insert({ userId: user.id, secret: 'v1.x.y.z', enabled: true, lastUsedStep: 0 });
    const session = {
      id: randomUUID(),
      userId: user.id,
      tokenHash: randomBytes(32).toString('hex'),
      expiresAt: new Date(Date.now() + 60_000),
      lastActiveAt: new Date(),
    };
    await ds.getRepository(Session).insert(session);
    await ds.getRepository(TwoFactorProof).insert({ sessionId: session.id, verifiedAt: new Date() });
    const passkey = (credentialId: string) => ({
      id: randomUUID(),
      userId: user.id,
      credentialId,
      publicKey: 'pk',
      counter: 4_000_000_000,
      transports: 'internal',
      name: 'Laptop',
      deviceType: 'singleDevice',
      backedUp: false,
    });
    await ds.getRepository(Passkey).insert(passkey('cred-A'));
    // Credential ids are unique and compared exactly (binary collation on MySQL).
    await expect(ds.getRepository(Passkey).insert(passkey('cred-A'))).rejects.toBeInstanceOf(QueryFailedError);
    await ds.getRepository(Passkey).insert(passkey('CRED-A'));
    // The counter is an unsigned 32-bit value: wider than int, read back as a number.
    expect((await ds.getRepository(Passkey).findOneByOrFail({ credentialId: 'cred-A' })).counter).toBe(4_000_000_000);

    await ds.getRepository(Session).delete({ id: session.id });
    expect(await ds.getRepository(TwoFactorProof).countBy({ sessionId: session.id })).toBe(0);
    await ds.getRepository(User).delete({ id: user.id });
    expect(await ds.getRepository(TwoFactor).countBy({ userId: user.id })).toBe(0);
    expect(await ds.getRepository(Passkey).countBy({ userId: user.id })).toBe(0);
  });

  it('reverts cleanly to the previous schema and applies again', async () => {
    // This migration and the ones after it.
    const later = ARRAF_AUTH_MIGRATIONS.length - ARRAF_AUTH_MIGRATIONS.indexOf(ArrafAuthTwoFactor1795968100000);
    for (let i = 0; i < later; i++) await ds.undoLastMigration({ transaction: 'each' });
    const runner = ds.createQueryRunner();
    try {
      for (const table of NEW_TABLES) expect(await runner.hasTable(table)).toBe(false);
      expect(await runner.hasTable('users')).toBe(true);
    } finally {
      await runner.release();
    }
    expect(await ds.getRepository(User).countBy({ id: 'existing-user' })).toBe(1);
    await ds.runMigrations({ transaction: 'each' });
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries).toEqual([]);
  });
});
