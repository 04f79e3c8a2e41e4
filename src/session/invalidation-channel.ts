/** What a channel tells the instance that listens on it. */
export interface InvalidationListener {
  /** A message published by any instance, this one included. */
  message(payload: string): void;
  /** The subscription is lost (connection closed or failed): nothing published now reaches us. */
  down(reason: string): void;
}

/**
 * How session invalidations travel between instances of the application. Delivery is what the
 * transport gives (Redis pub/sub, PostgreSQL NOTIFY): at most once, in order per publisher. The
 * cache never trusts it blindly: `SessionInvalidation` sends heartbeats through it and switches
 * the cache off when they do not come back in time.
 */
export interface InvalidationChannel {
  /** `'redis'`, `'postgres'` or `'local'` (this process only), for logs and diagnostics. */
  readonly kind: 'redis' | 'postgres' | 'local';
  /** Starts listening (and keeps reconnecting in the background); resolves once the first attempt ended. */
  start(listener: InvalidationListener): Promise<void>;
  /** Publishes to every instance; throws when the message could not be handed to the transport. */
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

/** The name messages travel under (Redis channel, PostgreSQL NOTIFY channel). */
export const INVALIDATION_CHANNEL_NAME = 'arraf_auth_sessions';

/** One process only: what it publishes it hears at once, and it is never down. */
export class LocalInvalidationChannel implements InvalidationChannel {
  readonly kind = 'local' as const;
  private listener?: InvalidationListener;

  start(listener: InvalidationListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }

  publish(payload: string): Promise<void> {
    this.listener?.message(payload);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listener = undefined;
    return Promise.resolve();
  }
}
