import { Injectable, Logger } from '@nestjs/common';
import { DataSource, In, LessThan } from 'typeorm';
import { isUniqueViolation } from '../auth/auth.service.js';
import { sha256 } from '../crypto/crypto.util.js';
import { Verification } from '../entities/verification.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { OAUTH_CHECK_MAX_AGE } from './oauth-check-cookie.js';

/** The `verifications.type` of a used OAuth `state`. */
export const OAUTH_STATE_TYPE = 'oauth-state';
/** Expired state rows are swept at most this often per instance, on the write path. */
export const OAUTH_STATE_SWEEP_INTERVAL_MS = 60_000;
/** Rows per delete statement, so a sweep never holds a long lock. */
const SWEEP_BATCH = 200;
/** Batches per sweep: the work one callback a minute takes on, whatever the backlog. */
const SWEEP_MAX_BATCHES = 10;

/**
 * Remembers each OAuth `state` that completed a callback, so a replayed callback is refused. The
 * rows expire with the check cookie (ten minutes) and are deleted here, without relying on the
 * application calling `SessionService.deleteExpired()`: whenever a state is stored and a minute has
 * passed since the last sweep, expired state rows go, in batches of 200 (at most 2,000 per sweep).
 */
@Injectable()
export class OAuthStateStore {
  private readonly logger = new Logger('ArrafAuth:OAuth');
  private lastSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Marks `state` used, atomically on every database: its row id is derived from the state, so a
   * second callback with the same state (a replay) hits the primary key: 400 `OAUTH_STATE_MISMATCH`.
   */
  async consume(providerId: string, state: string): Promise<void> {
    const now = Date.now();
    const row: Partial<Verification> = {
      id: sha256(`arraf-auth:oauth-state:${state}`).slice(0, 36),
      identifier: `oauth:${providerId}`,
      type: OAUTH_STATE_TYPE,
      valueHash: sha256(state),
      expiresAt: new Date(now + OAUTH_CHECK_MAX_AGE * 1000),
      attempts: 0,
    };
    try {
      await this.dataSource.getRepository(Verification).insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ArrafAuthException('OAUTH_STATE_MISMATCH');
      throw error;
    }
    if (now - this.lastSweepAt >= OAUTH_STATE_SWEEP_INTERVAL_MS) {
      this.lastSweepAt = now;
      await this.sweep(new Date(now));
    }
  }

  /** Deletes expired state rows; a failure is logged and never fails the sign-in that triggered it. */
  private async sweep(now: Date): Promise<void> {
    const repository = this.dataSource.getRepository(Verification);
    try {
      for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
        const batch = await repository.find({
          select: { id: true },
          where: { type: OAUTH_STATE_TYPE, expiresAt: LessThan(now) },
          take: SWEEP_BATCH,
        });
        if (batch.length > 0) await repository.delete({ id: In(batch.map((r) => r.id)), type: OAUTH_STATE_TYPE });
        if (batch.length < SWEEP_BATCH) return;
      }
    } catch (error) {
      this.logger.warn(`Deleting expired OAuth state rows failed: ${error instanceof Error ? error.message : error}`);
    }
  }
}
