/** The table of {@link SecurityEvent}. */
export const SECURITY_EVENT_TABLE = 'security_events';

/** Every security event type, in one list (the exact strings stored in `security_events.type`). */
export const SECURITY_EVENT_TYPES = [
  'sign_in.succeeded',
  'sign_in.failed',
  'sign_out',
  'session.revoked',
  'password.set',
  'password.changed',
  'password.reset',
  'password.removed',
  'method.added',
  'method.removed',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.backup_codes_regenerated',
  'two_factor.backup_code_used',
  'passkey.added',
  'passkey.removed',
  'account.exported',
  'account.deleted',
] as const;

/** What happened to an account, e.g. `'sign_in.succeeded'`. */
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/**
 * How it happened: `'phone'`, `'email'`, `'password'`, `` `oauth:${providerId}` ``, `'passkey'`,
 * `'totp'` or `'backup_code'`.
 */
export type SecurityEventMethod =
  'phone' | 'email' | 'password' | `oauth:${string}` | 'passkey' | 'totp' | 'backup_code';

/** Small facts about an event (a reason, a count, a session id): never a secret or an identifier in clear. */
export type SecurityEventDetail = Record<string, string | number | boolean | null>;

/** Where a request came from, as plain data: the edge reads it from the request. */
export interface SecurityEventClient {
  ip?: string | null;
  userAgent?: string | null;
}

/** What {@link SecurityEventsService.record} stores. */
export interface SecurityEventInput extends SecurityEventClient {
  type: SecurityEventType;
  /** The account, or `null` when none is known (a failed sign-in for an unknown identifier). */
  userId: string | null;
  method?: SecurityEventMethod | string;
  detail?: SecurityEventDetail;
}

/** A stored event, as the bus delivers it and `GET account/events` lists it (without `userId`). */
export interface PublishedSecurityEvent<T extends SecurityEventType = SecurityEventType> {
  id: string;
  type: T;
  userId: string | null;
  method: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: SecurityEventDetail | null;
  createdAt: Date;
}

/** A listener of the {@link SecurityEventBus}; a rejection or throw is logged, never fails the request. */
export type SecurityEventListener<T extends SecurityEventType = SecurityEventType> = (
  event: PublishedSecurityEvent<T>,
) => void | Promise<void>;

/** The name an event has on `@nestjs/event-emitter`: `@OnEvent('arraf-auth.sign_in.succeeded')`. */
export function securityEventName(type: SecurityEventType): `arraf-auth.${SecurityEventType}` {
  return `arraf-auth.${type}`;
}
