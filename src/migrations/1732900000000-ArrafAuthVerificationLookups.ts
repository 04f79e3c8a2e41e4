import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/** Index names as `Verification` declares them, so a migrated database shows no pending change. */
const INDICES = [
  // `findLink`: a reset or verification link is looked up by the hash of its token and its purpose.
  new TableIndex({ name: 'IDX_verifications_valueHash_type', columnNames: ['valueHash', 'type'] }),
  // The OAuth state sweep: expired rows of one purpose.
  new TableIndex({ name: 'IDX_verifications_type_expiresAt', columnNames: ['type', 'expiresAt'] }),
];

/** Indexes the `verifications` lookups that `ArrafAuthInit` left to a table scan. Driver-neutral (Table API). */
export class ArrafAuthVerificationLookups1732900000000 implements MigrationInterface {
  // Explicit, so the migration keeps its identity when a bundler renames the class.
  name = 'ArrafAuthVerificationLookups1732900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDICES) await queryRunner.createIndex('verifications', index.clone());
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [...INDICES].reverse()) await queryRunner.dropIndex('verifications', index.name!);
  }
}
