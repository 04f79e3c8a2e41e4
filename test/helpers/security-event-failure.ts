import type { EntitySubscriberInterface, InsertEvent } from 'typeorm';
import { SecurityEvent } from '../../src/index.js';

/**
 * Fails the next write of an event of type `armed` after its row is written (a TypeORM subscriber:
 * push it onto the application's `DataSource.subscribers`), so a suite can see what the failure
 * leaves behind: with the event in its change's transaction, nothing.
 */
export class FailAfterEventInsert implements EntitySubscriberInterface<SecurityEvent> {
  armed: string | null = null;
  /** `before`: the INSERT itself fails (nothing written), as when the database refuses the write. */
  when: 'before' | 'after' = 'after';

  listenTo() {
    return SecurityEvent;
  }

  beforeInsert(event: InsertEvent<SecurityEvent>): void {
    if (this.when === 'before') this.fail(event);
  }

  afterInsert(event: InsertEvent<SecurityEvent>): void {
    if (this.when === 'after') this.fail(event);
  }

  private fail(event: InsertEvent<SecurityEvent>): void {
    if (this.armed !== null && event.entity.type === this.armed) {
      this.armed = null;
      throw new Error(`injected failure ${this.when} the event row was written`);
    }
  }
}
