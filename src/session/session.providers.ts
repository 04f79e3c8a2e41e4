import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, SESSION_CODEC, SESSION_STORE } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { CachingSessionStore } from './caching-session.store.js';
import { DatabaseSessionCodec } from './database-session.codec.js';
import { type InvalidationChannel, LocalInvalidationChannel } from './invalidation-channel.js';
import { JwtSessionCodec } from './jwt-session.codec.js';
import { PostgresInvalidationChannel } from './postgres-invalidation.channel.js';
import { RedisInvalidationChannel } from './redis-invalidation.channel.js';
import { SESSION_CACHE, SESSION_CACHE_SETTINGS, SESSION_INVALIDATION_CHANNEL } from './session-cache.constants.js';
import { SessionCache } from './session-cache.js';
import { SessionInvalidation } from './session-invalidation.js';
import { AfterCommit } from '../security-events/after-commit.js';
import { TypeOrmSessionStore } from './typeorm-session.store.js';

/**
 * The invalidation channel `session.cache` uses: its own Redis, else the rate limiter's Redis, else
 * PostgreSQL `LISTEN/NOTIFY` on a PostgreSQL database, else this process only. Nothing connects
 * while the cache is off.
 */
function invalidationChannel(options: ResolvedArrafAuthOptions, dataSource: DataSource): InvalidationChannel {
  const { cache } = options.session;
  const storage = options.rateLimit.storage;
  const redis = cache.redis ?? (storage.type === 'redis' ? storage.url : undefined);
  if (!cache.enabled) return new LocalInvalidationChannel();
  if (redis) return new RedisInvalidationChannel(redis);
  if (dataSource.options.type === 'postgres') return new PostgresInvalidationChannel(dataSource);
  return new LocalInvalidationChannel();
}

/**
 * What `SessionService` is built from: the store under `SESSION_STORE` (`TypeOrmSessionStore`, or
 * with `session.cache` that store behind `CachingSessionStore`; an override can wrap either by
 * injecting it) and the codec of the configured strategy under `SESSION_CODEC`.
 */
export const SESSION_LAYER_PROVIDERS: Provider[] = [
  TypeOrmSessionStore,
  {
    provide: SESSION_CACHE_SETTINGS,
    inject: [ARRAF_AUTH_OPTIONS],
    useFactory: (o: ResolvedArrafAuthOptions) => o.session.cache,
  },
  {
    provide: SESSION_CACHE,
    inject: [ARRAF_AUTH_OPTIONS],
    useFactory: ({ session }: ResolvedArrafAuthOptions) =>
      new SessionCache({ max: session.cache.max, ttlSeconds: session.cache.ttl }),
  },
  { provide: SESSION_INVALIDATION_CHANNEL, inject: [ARRAF_AUTH_OPTIONS, DataSource], useFactory: invalidationChannel },
  // The one after-commit queue: invalidations inside a transaction are sent once it commits.
  AfterCommit,
  SessionInvalidation,
  CachingSessionStore,
  {
    provide: SESSION_STORE,
    inject: [ARRAF_AUTH_OPTIONS, TypeOrmSessionStore, CachingSessionStore],
    useFactory: (options: ResolvedArrafAuthOptions, database: TypeOrmSessionStore, cached: CachingSessionStore) =>
      options.session.cache.enabled ? cached : database,
  },
  JwtSessionCodec,
  DatabaseSessionCodec,
  {
    provide: SESSION_CODEC,
    inject: [ARRAF_AUTH_OPTIONS, JwtSessionCodec, DatabaseSessionCodec],
    useFactory: (options: ResolvedArrafAuthOptions, jwt: JwtSessionCodec, database: DatabaseSessionCodec) =>
      options.session.strategy === 'jwt' ? jwt : database,
  },
];
