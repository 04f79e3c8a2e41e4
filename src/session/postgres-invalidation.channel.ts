import type { Client, ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import {
  INVALIDATION_CHANNEL_NAME,
  type InvalidationChannel,
  type InvalidationListener,
} from './invalidation-channel.js';

const RECONNECT_MAX_MS = 1000;
/** Milliseconds a publish may take before it counts as failed (as on the Redis channel). */
const PUBLISH_TIMEOUT_MS = 1000;

/** The connection settings of a TypeORM PostgreSQL DataSource, for a `pg` client of our own. */
function clientConfig(dataSource: DataSource): ClientConfig {
  const options = dataSource.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: string | (() => string | Promise<string>);
    database?: string;
    ssl?: ClientConfig['ssl'];
    applicationName?: string;
  };
  return {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    database: options.database,
    ssl: options.ssl,
    application_name: 'arraf-auth-session-cache',
    connectionTimeoutMillis: 2000,
    keepAlive: true,
  };
}

/**
 * Invalidations over PostgreSQL `LISTEN/NOTIFY`, for deployments with no Redis: a dedicated `pg`
 * connection listens (a pooled one would be handed to other queries), and another one publishes
 * with `pg_notify`. Not the application's pool: a revocation is published while its transaction
 * commits, holding a pooled connection, so with as many commits at once as the pool has
 * connections each publish would wait for ever for one of them. The listener reconnects in the
 * background; the publisher on the next publish after it failed.
 */
export class PostgresInvalidationChannel implements InvalidationChannel {
  readonly kind = 'postgres' as const;
  private client?: Client;
  private publisher?: Promise<Client>;
  private closed = false;
  private retries = 0;
  private listener?: InvalidationListener;

  constructor(private readonly dataSource: DataSource) {}

  async start(listener: InvalidationListener): Promise<void> {
    this.listener = listener;
    await this.connect();
  }

  async publish(payload: string): Promise<void> {
    if (this.closed) throw new Error('PostgreSQL invalidation channel closed');
    const opening = (this.publisher ??= this.openPublisher());
    try {
      const client = await opening;
      await client.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL_NAME, payload]);
    } catch (error) {
      // A timed-out or broken connection is not used again: the next publish opens a new one.
      this.forgetPublisher(opening);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const publisher = this.publisher;
    this.publisher = undefined;
    await Promise.all([
      this.client?.end().catch(() => undefined),
      publisher?.then((client) => client.end()).catch(() => undefined),
    ]);
  }

  /** The publishing connection: opened on first use, its queries bounded like a Redis publish. */
  private openPublisher(): Promise<Client> {
    const opening: Promise<Client> = (async () => {
      const { Client: PgClient } = (await import('pg')).default;
      const client = new PgClient({
        ...clientConfig(this.dataSource),
        application_name: 'arraf-auth-session-cache-notify',
        query_timeout: PUBLISH_TIMEOUT_MS,
      });
      // A broken connection fails its queries and ends; its end makes the next publish open another.
      client.on('error', () => undefined);
      client.on('end', () => this.forgetPublisher(opening));
      await client.connect();
      if (this.closed) {
        await client.end();
        throw new Error('PostgreSQL invalidation channel closed');
      }
      return client;
    })();
    return opening;
  }

  /** Forgets the publishing connection `opening` (unless another replaced it already) and closes it. */
  private forgetPublisher(opening: Promise<Client>): void {
    if (this.publisher === opening) this.publisher = undefined;
    opening.then((client) => client.end()).catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const { Client: PgClient } = (await import('pg')).default;
    const client = new PgClient(clientConfig(this.dataSource));
    this.client = client;
    let lost = false;
    const onLost = (reason: string) => {
      if (lost) return;
      lost = true;
      this.listener?.down(reason);
      client.end().catch(() => undefined);
      if (this.closed) return;
      const delay = Math.min(100 * ++this.retries, RECONNECT_MAX_MS);
      setTimeout(() => void this.connect(), delay).unref();
    };
    client.on('error', (error: Error) => onLost(`PostgreSQL listener: ${error.message}`));
    client.on('end', () => onLost('PostgreSQL listener connection ended'));
    client.on('notification', (message) => {
      if (message.channel === INVALIDATION_CHANNEL_NAME && message.payload) this.listener?.message(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL_NAME}`);
      this.retries = 0;
    } catch (error) {
      onLost(`PostgreSQL listener: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
