import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { deriveKey } from '../crypto/crypto.util.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

const VERSION = 'v1';

/** A decrypted secret, and whether it was sealed under an older key (re-encrypt it). */
export interface OpenedSecret {
  plaintext: string;
  stale: boolean;
}

/**
 * Seals TOTP secrets at rest with AES-256-GCM under `deriveKey(secret, 'totp')`. The user id is the
 * additional data, so a sealed secret copied onto another user's row does not open. Rotation: the
 * first configured secret seals, every configured secret opens.
 */
@Injectable()
export class TotpSecretCipher {
  private readonly keys: Buffer[];

  constructor(@Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions) {
    this.keys = options.secrets.map((secret) => deriveKey(secret, 'totp'));
  }

  seal(plaintext: string, userId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    cipher.setAAD(Buffer.from(userId, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The plaintext, or `null` when no configured key opens it (a removed secret, tampering). */
  open(sealed: string, userId: string): OpenedSecret | null {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) return null;
    for (let i = 0; i < this.keys.length; i++) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.keys[i], Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(userId, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plaintext = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
        return { plaintext: plaintext.toString('utf8'), stale: i > 0 };
      } catch {
        // Not this key: try the next configured secret.
      }
    }
    return null;
  }
}
