import type { Provider } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS, SESSION_CODEC, SESSION_STORE } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { DatabaseSessionCodec } from './database-session.codec.js';
import { JwtSessionCodec } from './jwt-session.codec.js';
import { TypeOrmSessionStore } from './typeorm-session.store.js';

/**
 * What `SessionService` is built from: the store under `SESSION_STORE` (an alias of
 * `TypeOrmSessionStore`, so an override can wrap the default by injecting it) and the codec of the
 * configured strategy under `SESSION_CODEC`.
 */
export const SESSION_LAYER_PROVIDERS: Provider[] = [
  TypeOrmSessionStore,
  { provide: SESSION_STORE, useExisting: TypeOrmSessionStore },
  JwtSessionCodec,
  DatabaseSessionCodec,
  {
    provide: SESSION_CODEC,
    inject: [ARRAF_AUTH_OPTIONS, JwtSessionCodec, DatabaseSessionCodec],
    useFactory: (options: ResolvedArrafAuthOptions, jwt: JwtSessionCodec, database: DatabaseSessionCodec) =>
      options.session.strategy === 'jwt' ? jwt : database,
  },
];
