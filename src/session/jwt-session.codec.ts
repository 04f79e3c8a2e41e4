import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { KeyObject } from 'node:crypto';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { deriveKey, hs256Signature, safeEqual, secretKey, sha256 } from '../crypto/crypto.util.js';
import type { Session } from '../entities/session.entity.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { SessionCodec, SessionLookupKey } from './session-codec.interface.js';

/** Audience of session JWTs, so no other JWT signed by the application passes as a session. */
export const SESSION_JWT_AUDIENCE = 'arraf-auth:session';
/** Explicit type of session JWTs (RFC 8725 §3.11): a JWT of another kind is refused even with a valid signature. */
export const SESSION_JWT_TYPE = 'arraf-session+jwt';
/** What session JWT keys are derived for (HKDF `info`): no other token shares the key. */
export const SESSION_JWT_KEY_PURPOSE = 'session-jwt';
/** A compact JWS as jsonwebtoken/jws accept it: base64url header and payload, optional signature. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface SessionJwtPayload {
  sub: string;
  sid: string;
  email: string | null;
}

/**
 * The `jwt` strategy: `{ sub, sid, email }` signed HS256 with `@nestjs/jwt` under a key derived
 * from each secret for this purpose alone; the first secret signs, all verify (rotation), picked
 * by `kid`. The JWT names the session row, which is still checked on every request.
 */
@Injectable()
export class JwtSessionCodec implements SessionCodec {
  /** Signing key first; all keys by id for verification. */
  private readonly keys: { id: string; key: KeyObject }[];

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly jwt: JwtService,
  ) {
    this.keys = options.secrets.map((secret) => ({
      id: sha256(`arraf-auth:kid:${secret}`).slice(0, 16),
      key: secretKey(deriveKey(secret, SESSION_JWT_KEY_PURPOSE)),
    }));
  }

  /** `exp` is the session's expiry; the random token is not in the JWT (the row is found by `sid`). */
  encode(session: Session, email: string | null): string {
    const [signing] = this.keys;
    const payload: SessionJwtPayload & { exp: number } = {
      sub: session.userId,
      sid: session.id,
      email,
      exp: Math.floor(session.expiresAt.getTime() / 1000),
    };
    return this.jwt.sign(payload, {
      secret: signing.key as unknown as string,
      algorithm: 'HS256',
      audience: SESSION_JWT_AUDIENCE,
      header: { alg: 'HS256', typ: SESSION_JWT_TYPE, kid: signing.id },
    });
  }

  /** A new JWT carrying the renewed `exp`. */
  reissue(session: Session, email: string | null): string {
    return this.encode(session, email);
  }

  decode(credential: string): SessionLookupKey | null {
    const payload = this.verify(credential);
    return payload ? { by: 'id', sessionId: payload.sid, userId: payload.sub } : null;
  }

  /**
   * Verifies a session JWT: HS256 only, the `typ` of a session JWT, the key chosen by `kid` from the
   * local keyring, a constant-time signature comparison, then `nbf`, `exp` and the audience. The
   * checks of `jsonwebtoken.verify(token, key, { algorithms: ['HS256'], audience })` plus `typ`,
   * without its per-call option handling, which cost more than the HMAC itself on the hot path
   * (bench/results.md). `exp` is also required: every session JWT carries one.
   */
  private verify(token: string): SessionJwtPayload | null {
    if (!COMPACT_JWS.test(token)) return null;
    const headerEnd = token.indexOf('.');
    const payloadEnd = token.indexOf('.', headerEnd + 1);
    const header = parseJsonPart(token.slice(0, headerEnd));
    if (!header || header.alg !== 'HS256' || header.typ !== SESSION_JWT_TYPE) return null;
    const entry = this.keys.find((k) => k.id === header.kid);
    if (!entry) return null;
    const expected = hs256Signature(entry.key, token.slice(0, payloadEnd));
    if (!safeEqual(token.slice(payloadEnd + 1), expected)) return null;
    const payload = parseJsonPart(token.slice(headerEnd + 1, payloadEnd));
    if (!payload) return null;
    const now = Math.floor(Date.now() / 1000);
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) return null;
    if (typeof payload.exp !== 'number' || now >= payload.exp) return null;
    const audience = payload.aud;
    if (!(Array.isArray(audience) ? audience.includes(SESSION_JWT_AUDIENCE) : audience === SESSION_JWT_AUDIENCE)) {
      return null;
    }
    return typeof payload.sid === 'string' && typeof payload.sub === 'string'
      ? (payload as unknown as SessionJwtPayload)
      : null;
  }
}

/** A base64url JSON object of a JWS, or `null` when it does not decode to one. */
function parseJsonPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
