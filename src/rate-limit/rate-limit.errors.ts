import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ArrafAuthErrorCode } from '../errors/error-codes.js';

/** Whole seconds until `resetAt` (epoch ms), at least 1: the value of a `Retry-After` header. */
export function retryAfterSeconds(resetAt: number): number {
  return Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
}

/** A 429 with `Retry-After`. */
export function tooManyRequests(code: ArrafAuthErrorCode, resetAt: number): ArrafAuthException {
  return new ArrafAuthException(code, { headers: { 'Retry-After': String(retryAfterSeconds(resetAt)) } });
}
