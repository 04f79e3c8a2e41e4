import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { deriveKey } from '../crypto/crypto.util.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { readCookie } from '../session/session-cookie.js';
import {
  checkCookieName,
  OAUTH_CHECK_MAX_AGE,
  type OAuthCheckPayload,
  serializeCheckCookie,
} from './oauth-check-cookie.js';

const CHECK_AUDIENCE = 'arraf-auth:oauth-check';
/** Longest check cookie (or query parameter) looked at. */
export const MAX_PARAM_LENGTH = 4096;

function isCheckPayload(value: unknown): value is OAuthCheckPayload {
  const p = value as Partial<OAuthCheckPayload> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.pid === 'string' &&
    typeof p.st === 'string' &&
    typeof p.cv === 'string' &&
    typeof p.nn === 'string' &&
    typeof p.rt === 'string' &&
    (p.lk === undefined || typeof p.lk === 'string')
  );
}

/**
 * Signs and reads the OAuth check cookie, a JWT under keys of its own (HKDF, one per configured
 * secret so rotation keeps verifying): a check cookie can never pass as a session JWT, nor the reverse.
 */
@Injectable()
export class OAuthCheck {
  private readonly keys: readonly Buffer[];

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly jwt: JwtService,
  ) {
    this.keys = options.secrets.map((secret) => deriveKey(secret, 'oauth-check-cookie'));
  }

  /** The `Set-Cookie` value of a check cookie carrying `check` for ten minutes. */
  async issue(check: OAuthCheckPayload): Promise<string> {
    const token = await this.jwt.signAsync(check, {
      secret: this.keys[0],
      algorithm: 'HS256',
      audience: CHECK_AUDIENCE,
      expiresIn: OAUTH_CHECK_MAX_AGE,
    });
    return serializeCheckCookie(this.options.session, token, OAUTH_CHECK_MAX_AGE);
  }

  /** The `Set-Cookie` value that deletes the check cookie. */
  clear(): string {
    return serializeCheckCookie(this.options.session, '', 0);
  }

  /** The verified check cookie, or `null` when absent, forged, expired or malformed. */
  async read(cookieHeader: string | undefined): Promise<OAuthCheckPayload | null> {
    const token = readCookie(cookieHeader, checkCookieName(this.options.session));
    if (token === undefined || token.length > MAX_PARAM_LENGTH) return null;
    for (const secret of this.keys) {
      try {
        const payload: unknown = await this.jwt.verifyAsync(token, {
          secret,
          algorithms: ['HS256'],
          audience: CHECK_AUDIENCE,
        });
        return isCheckPayload(payload) ? payload : null;
      } catch {
        // Try the next key (rotation); none left means forged or expired.
      }
    }
    return null;
  }
}
