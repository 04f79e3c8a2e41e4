import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import type { Session } from '../entities/session.entity.js';
import type { SessionCodec, SessionLookupKey } from './session-codec.interface.js';

/** A 256-bit token from `randomToken(32)`: 43 base64url characters. Anything else is not ours. */
const RANDOM_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The `database` strategy: the credential is the random token itself; the row stores its SHA-256
 * (a plain hash suffices for a 256-bit secret), so a database leak yields no usable token.
 */
@Injectable()
export class DatabaseSessionCodec implements SessionCodec {
  encode(_session: Session, _email: string | null, token: string): string {
    return token;
  }

  /** The token never changes; renewal only moves the row's expiry. */
  reissue(_session: Session, _email: string | null, credential: string): string {
    return credential;
  }

  decode(credential: string): SessionLookupKey | null {
    // Malformed values never reach the database.
    // The same hex SHA-256 as `sha256()` of src/crypto, one-shot: `createHash` builds a Hash object per call.
    return RANDOM_TOKEN.test(credential) ? { by: 'tokenHash', tokenHash: hash('sha256', credential, 'hex') } : null;
  }
}
