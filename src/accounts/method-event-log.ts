import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import type {
  SecurityEventClient,
  SecurityEventDetail,
  SecurityEventMethod,
  SecurityEventType,
} from '../security-events/security-event.types.js';

/** A security event of a sign-in method change. */
export interface MethodEvent {
  type: Extract<
    SecurityEventType,
    'method.added' | 'method.removed' | 'password.set' | 'password.changed' | 'password.removed' | 'passkey.removed'
  >;
  method: SecurityEventMethod;
  detail?: SecurityEventDetail;
}

/** Who made the change: recorded with its events. */
export type MethodEventClient = SecurityEventClient;

/** Writes the security events of sign-in method changes, in the transaction of the change. */
@Injectable()
export class MethodEventLog {
  constructor(private readonly events: SecurityEventsService) {}

  record(userId: string, event: MethodEvent, client: MethodEventClient, tx: EntityManager): Promise<void> {
    return this.events.record(
      { ...event, userId, ip: client.ip ?? null, userAgent: client.userAgent ?? null },
      { manager: tx },
    );
  }
}
