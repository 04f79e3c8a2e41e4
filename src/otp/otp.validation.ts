import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { OTP_MAX_NAME_LENGTH } from './otp.constants.js';

/** Body of `POST /auth/otp/send`. */
export interface OtpSendBody {
  method: 'phone';
  phone: string;
}

/** Body of `POST /auth/otp/verify`. */
export interface OtpVerifyBody {
  method: 'phone';
  phone: string;
  otp: string;
  name?: string;
}

/** Longer than any phone number or code a person types; longer input is refused before parsing. */
const MAX_FIELD_LENGTH = 64;
/** C0/C1 controls, line and paragraph separators: never part of a name. */
const CONTROL_CHARACTERS = /\p{Cc}|[\u2028\u2029]/u;

function invalid(): never {
  throw new ArrafAuthException('INVALID_INPUT');
}

/** The body as a plain object with only `allowed` keys, or 400 `INVALID_INPUT`. */
function strictObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid();
  const prototype = Object.getPrototypeOf(body);
  if (prototype !== Object.prototype && prototype !== null) invalid();
  for (const key of Object.keys(body)) if (!allowed.includes(key)) invalid();
  return body as Record<string, unknown>;
}

function shortString(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD_LENGTH) invalid();
  return value;
}

/** Validates `{ method: 'phone', phone }` strictly: no other fields. */
export function parseOtpSendBody(body: unknown): OtpSendBody {
  const input = strictObject(body, ['method', 'phone']);
  if (input.method !== 'phone') invalid();
  return { method: 'phone', phone: shortString(input.phone) };
}

/** Validates `{ method: 'phone', phone, otp, name? }` strictly: no other fields. */
export function parseOtpVerifyBody(body: unknown): OtpVerifyBody {
  const input = strictObject(body, ['method', 'phone', 'otp', 'name']);
  if (input.method !== 'phone') invalid();
  const parsed: OtpVerifyBody = { method: 'phone', phone: shortString(input.phone), otp: shortString(input.otp) };
  if (input.name !== undefined) {
    if (typeof input.name !== 'string') invalid();
    const name = input.name.normalize('NFC').trim();
    if (name.length === 0 || [...name].length > OTP_MAX_NAME_LENGTH || CONTROL_CHARACTERS.test(name)) invalid();
    parsed.name = name;
  }
  return parsed;
}
