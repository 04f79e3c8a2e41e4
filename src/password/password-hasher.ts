import { Inject, Injectable, Logger } from '@nestjs/common';
import argon2 from 'argon2';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { randomToken } from '../crypto/crypto.util.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { contextWords, findPasswordProblem, maxPasswordBytes } from './password-policy.js';
import { errorMessage } from '../utils/error-message.js';

/** argon2id with the OWASP parameters: 19 MiB of memory, 2 iterations, 1 lane. */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** The `$argon2…$v=…$m=…,t=…,p=…$` head of a PHC string, parameters in any order. */
const PHC_HEAD = /^\$(argon2id|argon2i|argon2d)\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/;

/**
 * The password itself: the rules a new one must meet, and argon2id hashing (in libuv's thread
 * pool, off the event loop) of its NFKC form. Raw input over the byte cap is refused before any
 * work, so a huge password costs nothing.
 */
@Injectable()
export class PasswordHasher {
  private readonly logger = new Logger('ArrafAuth');
  private dummyHash?: Promise<string>;
  /** Longest raw password (UTF-8 bytes) that is ever normalised or hashed. */
  readonly maxPasswordBytes: number;

  constructor(@Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions) {
    this.maxPasswordBytes = maxPasswordBytes(options.password.maxLength);
  }

  async hash(password: string): Promise<string> {
    return argon2.hash(this.normalize(password), PASSWORD_HASH_OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    const normalized = this.normalize(password);
    try {
      return await argon2.verify(hash, normalized);
    } catch (error) {
      this.logger.error(`A stored password hash could not be read: ${errorMessage(error)}`);
      return false;
    }
  }

  needsRehash(hash: string): boolean {
    const head = PHC_HEAD.exec(hash);
    if (!head || head[1] !== 'argon2id' || Number(head[2]) < 0x13) return true;
    const params = Object.fromEntries(head[3].split(',').map((pair) => pair.split('=')));
    const memory = Number(params.m);
    const iterations = Number(params.t);
    if (!(memory > 0 && iterations > 0)) return true;
    return memory * iterations < PASSWORD_HASH_OPTIONS.memoryCost * PASSWORD_HASH_OPTIONS.timeCost;
  }

  checkNewPassword(password: unknown, context: { email?: string | null; name?: string | null } = {}): string {
    if (typeof password !== 'string' || password.length === 0) throw new ArrafAuthException('INVALID_INPUT');
    if (Buffer.byteLength(password, 'utf8') > this.maxPasswordBytes) throw new ArrafAuthException('PASSWORD_TOO_LONG');
    const normalized = password.normalize('NFKC');
    const words = contextWords({ appName: this.options.appName, ...context });
    const problem = findPasswordProblem(normalized, this.options.password, words);
    if (problem) throw new ArrafAuthException(problem);
    return normalized;
  }

  /**
   * The argon2id hash compared against when there is no real one (unknown email, no password), so
   * such a sign-in costs the same as a wrong password. Created once, on first use.
   */
  getDummyHash(): Promise<string> {
    this.dummyHash ??= this.hash(randomToken(32)).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    return this.dummyHash;
  }

  /** NFKC form of a password, refusing inputs over the byte cap before any work. */
  private normalize(password: string): string {
    if (typeof password !== 'string' || Buffer.byteLength(password, 'utf8') > this.maxPasswordBytes) {
      throw new ArrafAuthException('INVALID_INPUT');
    }
    return password.normalize('NFKC');
  }
}
