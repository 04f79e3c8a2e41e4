import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { DataSource, type EntityManager } from 'typeorm';
import { Transactions } from '../../src/database/transactions.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The module's one way into a transaction, on each database. The SQLite cases are the ones TypeORM's
 * shared query runner got wrong: two transactions begun together (the second BEGIN failed and rolled
 * the first back), one begun while another awaited I/O (a savepoint of it: the first one's rollback
 * undid the second's committed work, the second's rollback undid the first's), and a statement
 * outside any transaction (taken into the open one and rolled back with it).
 */
describe.each(testDatabases())('Transactions on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let ds: DataSource;
  let transactions: Transactions;

  beforeAll(async () => {
    database = await db.create();
    ds = await new DataSource(database.options).initialize();
    await ds.query('CREATE TABLE tx_probe (who VARCHAR(32) NOT NULL)');
    const moduleRef = await Test.createTestingModule({
      providers: [{ provide: DataSource, useValue: ds }, Transactions],
    }).compile();
    transactions = moduleRef.get(Transactions);
  });

  afterAll(async () => {
    await ds?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await ds.query('DELETE FROM tx_probe');
  });

  const insert = (manager: EntityManager, who: string) =>
    manager.query(`INSERT INTO tx_probe (who) VALUES (${db.name === 'postgres' ? '$1' : '?'})`, [who]);
  const written = async () =>
    ((await ds.query('SELECT who FROM tx_probe ORDER BY who')) as { who: string }[]).map((row) => row.who);

  /** A transaction that writes `who`, waits `ms` (I/O), then commits or, with `fail`, rolls back. */
  const write = (who: string, ms: number, fail = false) =>
    transactions.run(async (tx) => {
      await insert(tx, who);
      await pause(ms);
      if (fail) throw new Error(`injected: ${who} failed`);
      return who;
    });

  it('two transactions begun in the same tick both commit', async () => {
    await expect(Promise.all([write('a', 5), write('b', 5)])).resolves.toEqual(['a', 'b']);
    expect(await written()).toEqual(['a', 'b']);
  });

  it('a rollback undoes only its own transaction, whichever began first', async () => {
    const results = await Promise.allSettled([write('a', 10, true), pause(1).then(() => write('b', 5))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    const later = await Promise.allSettled([write('c', 5), pause(1).then(() => write('d', 20, true))]);
    expect(later.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await written()).toEqual(['b', 'c']);
  });

  it('a statement outside the open transaction is not rolled back with it', async () => {
    const failing = write('a', 10, true);
    await pause(1);
    await insert(ds.manager, 'outside');
    await expect(failing).rejects.toThrow('injected');
    expect(await written()).toEqual(['outside']);
  });

  it("joins the caller's transaction, and a transaction begun inside another does not wait for itself", async () => {
    await expect(
      transactions.run(async (tx) => {
        await transactions.run((joined) => insert(joined, 'joined'), { manager: tx });
        // Without a manager: its own transaction on PostgreSQL/MariaDB, a savepoint of this one on SQLite.
        await transactions.run((inner) => insert(inner, 'inner'));
        throw new Error('injected: outer failed');
      }),
    ).rejects.toThrow('injected');
    expect(await written()).toEqual(db.name === 'sqlite' ? [] : ['inner']);
  });

  it("with `savepoint`, a failure undoes only the work, and the caller's transaction commits", async () => {
    await transactions.run(async (tx) => {
      await insert(tx, 'outer');
      const failed = transactions.run(
        async (nested) => {
          await insert(nested, 'nested');
          throw new Error('injected: nested failed');
        },
        { manager: tx, savepoint: true },
      );
      await expect(failed).rejects.toThrow('injected');
    });
    expect(await written()).toEqual(['outer']);
  });
});
