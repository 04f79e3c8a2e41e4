import type { Redis, RedisOptions } from 'ioredis';
import {
  INVALIDATION_CHANNEL_NAME,
  type InvalidationChannel,
  type InvalidationListener,
} from './invalidation-channel.js';

/** Milliseconds a publish may take before it counts as failed. */
const PUBLISH_TIMEOUT_MS = 1000;

/**
 * Invalidations over Redis pub/sub: one connection subscribed (a subscribed Redis connection can
 * do nothing else) and one that publishes. Both fail fast and reconnect in the background.
 */
export class RedisInvalidationChannel implements InvalidationChannel {
  readonly kind = 'redis' as const;
  private subscriber?: Redis;
  private publisher?: Redis;

  constructor(private readonly url: string) {}

  async start(listener: InvalidationListener): Promise<void> {
    let RedisClient: typeof Redis;
    try {
      ({ Redis: RedisClient } = await import('ioredis'));
    } catch {
      throw new Error('ArrafAuthModule: session.cache over Redis needs the ioredis package: npm install ioredis');
    }
    const settings: RedisOptions = {
      connectTimeout: 2000,
      commandTimeout: PUBLISH_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
      lazyConnect: true,
    };
    this.publisher = new RedisClient(this.url, settings);
    // The subscriber needs its offline queue: ioredis re-subscribes through it after a reconnect.
    this.subscriber = new RedisClient(this.url, { ...settings, enableOfflineQueue: true, commandTimeout: undefined });
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, payload: string) => listener.message(payload));
    this.subscriber.on('close', () => listener.down('Redis subscriber connection closed'));
    await Promise.all([
      this.publisher.connect().catch(() => undefined),
      this.subscriber
        .connect()
        .then(() => this.subscriber!.subscribe(INVALIDATION_CHANNEL_NAME))
        .catch((error: unknown) => listener.down(error instanceof Error ? error.message : String(error))),
    ]);
  }

  async publish(payload: string): Promise<void> {
    if (!this.publisher) throw new Error('Redis invalidation channel not started');
    await this.publisher.publish(INVALIDATION_CHANNEL_NAME, payload);
  }

  async close(): Promise<void> {
    const clients = [this.subscriber, this.publisher].filter((client): client is Redis => client !== undefined);
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
