import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ARRAF_AUTH_ENTITIES } from '../../src/entities/arraf-auth.entities.js';
import { User } from '../../src/entities/user.entity.js';
import {
  ARRAF_AUTH_MIGRATIONS,
  ArrafAuthSecurityEvents1796100000000,
} from '../../src/migrations/arraf-auth.migrations.js';
import { SecurityEvent } from '../../src/security-events/security-event.entity.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

/** MariaDB's information_schema quirks are handled only under `type: 'mariadb'`. */
async function withServerType(options: DataSourceOptions): Promise<DataSourceOptions> {
  if (options.type !== 'mysql' || !options.url) return options;
  const { default: mysql2 } = await import('mysql2/promise');
  const conn = await mysql2.createConnection(options.url);
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const mariadb = /mariadb/i.test(String((rows as { version: string }[])[0].version));
    return mariadb ? { ...options, type: 'mariadb' } : options;
  } finally {
    await conn.end();
  }
}

describe.each(testDatabases())('security events migration on $name', (db: TestDatabase) => {
  let drop: () => Promise<void>;
  let ds: DataSource;
  const before = ARRAF_AUTH_MIGRATIONS.slice(0, ARRAF_AUTH_MIGRATIONS.indexOf(ArrafAuthSecurityEvents1796100000000));

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    const options = await withServerType(created.options);
    // The schema as it was before this migration, with a user in it; then this migration on top.
    const previous = new DataSource({ ...options, migrations: before, logging: false });
    await previous.initialize();
    await previous.runMigrations({ transaction: 'each' });
    const q = (name: string) => previous.driver.escape(name);
    const no = previous.driver.options.type === 'postgres' ? 'false' : '0';
    await previous.query(
      `INSERT INTO users (id, ${q('emailVerified')}, ${q('phoneVerified')}) VALUES ('existing-user', ${no}, ${no})`,
    );
    await previous.destroy();
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

  it("keeps a deleted user's events (no foreign key) and stores milliseconds and long user agents", async () => {
    const user = await ds.getRepository(User).save({ id: randomUUID(), email: null, phone: null });
    const createdAt = new Date('2026-03-01T10:11:12.345Z');
    const event = {
      id: randomUUID(),
      userId: user.id,
      type: 'account.deleted',
      method: 'oauth:a-provider-with-long-id',
      ip: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
      userAgent: 'u'.repeat(512),
      detail: JSON.stringify({ reason: 'x' }),
      createdAt,
    };
    await ds.getRepository(SecurityEvent).insert(event);
    await ds.getRepository(User).delete({ id: user.id });
    const stored = await ds.getRepository(SecurityEvent).findOneByOrFail({ id: event.id });
    expect(stored).toMatchObject({ ...event, createdAt });
    // An event without a user (a failed sign-in for an unknown account).
    await ds.getRepository(SecurityEvent).insert({ ...event, id: randomUUID(), userId: null, detail: null });
  });

  it('reverts cleanly to the previous schema and applies again', async () => {
    // Migrations newer than this one (the sign-in method marks) are reverted first.
    const newer =
      ARRAF_AUTH_MIGRATIONS.length - 1 - ARRAF_AUTH_MIGRATIONS.indexOf(ArrafAuthSecurityEvents1796100000000);
    for (let i = 0; i <= newer; i++) await ds.undoLastMigration({ transaction: 'each' });
    const runner = ds.createQueryRunner();
    try {
      expect(await runner.hasTable('security_events')).toBe(false);
      expect(await runner.hasTable('passkeys')).toBe(true);
    } finally {
      await runner.release();
    }
    expect(await ds.getRepository(User).countBy({ id: 'existing-user' })).toBe(1);
    await ds.runMigrations({ transaction: 'each' });
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries).toEqual([]);
  });
});
