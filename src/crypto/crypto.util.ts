import {
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';

/**
 * The only place secrets are generated, hashed and compared. Nothing else in the library calls
 * `Math.random` or compares secrets with `===`.
 */

/** A random token of `bytes` bytes (default 32 = 256 bits) as base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a high-entropy token, hex encoded: what is stored instead of the token. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** HMAC-SHA-256 under `key`, hex encoded: what is stored for low-entropy secrets (OTP codes). */
export function hmacSha256(key: string | Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}

/** A prebuilt HMAC key: hashing with it skips parsing the key on every call (the JWT hot path). */
export function secretKey(secret: string | Buffer): KeyObject {
  return createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
}

/** What a derived key is for. Each purpose gets its own key, so no value made for one passes as another. */
export type KeyPurpose = 'session-jwt' | (string & {});

/** HKDF salt: fixed and public (RFC 5869 §3.1 allows it); it only separates this library's keys from others'. */
const HKDF_SALT = 'arraf-auth/hkdf/v1';

/**
 * A 256-bit key for one purpose, derived from a configured secret with HKDF-SHA-256
 * (`info` = `arraf-auth:<purpose>`). The raw secret never keys anything itself, so a token made
 * under one purpose (a session JWT, an OTP HMAC) cannot stand in for another.
 *
 * @example const key = deriveKey(secret, 'session-jwt');
 */
export function deriveKey(secret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, `arraf-auth:${purpose}`, 32));
}

/** HMAC-SHA-256 under a prebuilt key, base64url encoded: a JWT's HS256 signature. */
export function hs256Signature(key: KeyObject, signingInput: string): string {
  return createHmac('sha256', key).update(signingInput).digest('base64url');
}

/** Constant-time string equality (lengths may differ; that alone is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    // Still spend a comparison so the early exit does not depend on content.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** A numeric code of `length` digits from `crypto.randomInt` (uniform, no modulo bias). */
export function randomDigits(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(0, 10));
  return code;
}

/** A random identifier for rows (not a secret). */
export function randomId(): string {
  return crypto.randomUUID();
}
