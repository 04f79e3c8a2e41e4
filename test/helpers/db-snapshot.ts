import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Account, Session, User, Verification } from '../../src/index.js';

/** Row counts of the four library tables. */
export interface TableCounts {
  users: number;
  accounts: number;
  sessions: number;
  verifications: number;
}

/** Counts and a SHA-256 over every row of the four library tables: equal before and after means nothing changed. */
export interface DatabaseSnapshot {
  counts: TableCounts;
  checksum: string;
}

const TABLES = { users: User, accounts: Account, sessions: Session, verifications: Verification } as const;

/** Reads every row of users, accounts, sessions and verifications, ordered by id, and hashes them. */
export async function snapshotDatabase(dataSource: DataSource): Promise<DatabaseSnapshot> {
  const hash = createHash('sha256');
  const counts = {} as TableCounts;
  for (const [name, entity] of Object.entries(TABLES) as [keyof TableCounts, (typeof TABLES)[keyof TableCounts]][]) {
    const rows = await dataSource.getRepository<object>(entity).find({ order: { id: 'ASC' } as never });
    counts[name] = rows.length;
    hash.update(`${name}:${JSON.stringify(rows)}\n`);
  }
  return { counts, checksum: hash.digest('hex') };
}
