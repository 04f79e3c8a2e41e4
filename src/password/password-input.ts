import { ArrafAuthException } from '../errors/arraf-auth.exception.js';

/**
 * Strict readers for the bodies of the password routes: a JSON object with only the listed keys,
 * each of the right type and size. Anything else is 400 `INVALID_INPUT` before any work is done or
 * anything is stored. Values are returned raw; email, phone and password are normalised by the
 * code that uses them (with their own error codes).
 */

/** Longest raw email or phone string looked at. */
const MAX_IDENTIFIER_LENGTH = 320;
/** Longest display name, in code points after trimming. */
export const MAX_NAME_LENGTH = 255;
/** A link token: 32 random bytes, base64url. */
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** An emailed code: exactly six ASCII digits. */
const EMAIL_CODE = /^[0-9]{6}$/;

/** How a reset or verification secret is delivered. */
export type DeliveryMode = 'otp' | 'link';

export interface SignUpInput {
  email?: string;
  phone?: string;
  password?: string;
  name: string | null;
}

export type SignInInput = { method: 'email'; email: string; password: string } | { method: 'phone'; phone: string };

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
  revokeOtherSessions: boolean;
}

export type ForgotPasswordInput =
  { method: 'email'; email: string; mode: DeliveryMode } | { method: 'phone'; phone: string };

export type ResetPasswordInput =
  | { method: 'email'; email: string; otp: string; newPassword: string }
  | { method: 'email'; email?: string; token: string; newPassword: string }
  | { method: 'phone'; phone: string; otp: string; newPassword: string };

export type VerifyEmailInput = { email: string; otp: string } | { token: string };

function invalid(): never {
  throw new ArrafAuthException('INVALID_INPUT');
}

/**
 * The request body when it was sent as JSON, else 400: a form post cannot reach these routes
 * (no cross-site "simple request" login or sign-up). With `optional`, a request without any body
 * is `undefined`.
 */
export function jsonBody(
  request: { headers: Record<string, string | string[] | undefined>; body?: unknown },
  optional = false,
): unknown {
  const type = request.headers['content-type'];
  if (type === undefined && optional) {
    const body = request.body;
    if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0))
      return undefined;
  }
  if (typeof type !== 'string' || !/^application\/json\s*(;|$)/i.test(type)) invalid();
  return request.body;
}

/** The body as a plain object with no keys outside `allowed` (prototype tricks included). */
function object(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid();
  const prototype = Object.getPrototypeOf(body);
  if (prototype !== Object.prototype && prototype !== null) invalid();
  for (const key of Object.keys(body)) if (!allowed.includes(key)) invalid();
  return body as Record<string, unknown>;
}

function string(value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) invalid();
  return value;
}

function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : read(value);
}

/** A password field: a non-empty string of at most `maxBytes` UTF-8 bytes (long-password DoS). */
function password(value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value, 'utf8') > maxBytes) invalid();
  return value;
}

/**
 * A new password: any non-empty string. Its size is judged by the password rules, which refuse an
 * oversized one with `PASSWORD_TOO_LONG` before any normalisation or hashing.
 */
function newPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) invalid();
  return value;
}

function identifier(value: unknown): string {
  return string(value, MAX_IDENTIFIER_LENGTH);
}

function mode(value: unknown): DeliveryMode {
  if (value === undefined) return 'otp';
  if (value !== 'otp' && value !== 'link') invalid();
  return value;
}

function emailCode(value: unknown): string {
  if (typeof value !== 'string' || !EMAIL_CODE.test(value)) invalid();
  return value;
}

function linkToken(value: unknown): string {
  if (typeof value !== 'string' || !LINK_TOKEN.test(value)) invalid();
  return value;
}

/** A display name: trimmed, 1 to 255 code points, no control or invisible formatting characters. */
function displayName(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH * 2) invalid();
  const name = value.normalize('NFC').trim();
  if (name === '') return null;
  if ([...name].length > MAX_NAME_LENGTH || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name)) invalid();
  return name;
}

/** `POST sign-up`: `{ email?, phone?, password?, name? }`, email or phone, a password with an email. */
export function readSignUp(body: unknown): SignUpInput {
  const b = object(body, ['email', 'phone', 'password', 'name']);
  const input: SignUpInput = {
    email: optional(b.email, identifier),
    phone: optional(b.phone, identifier),
    password: optional(b.password, newPassword),
    name: displayName(b.name),
  };
  if (input.email === undefined && input.phone === undefined) invalid();
  if (input.email !== undefined && input.password === undefined) invalid();
  return input;
}

/** The `method` of a sign-in, forgot or reset body, or 400. */
export function readMethod(body: unknown): 'email' | 'phone' {
  const method = (body as { method?: unknown } | null | undefined)?.method;
  if (typeof body !== 'object' || body === null || (method !== 'email' && method !== 'phone')) invalid();
  return method;
}

/** `POST sign-in`: `{ method: 'email', email, password }` or `{ method: 'phone', phone }`. */
export function readSignIn(body: unknown, maxPasswordBytes: number): SignInInput {
  if (readMethod(body) === 'phone') {
    const b = object(body, ['method', 'phone']);
    return { method: 'phone', phone: identifier(b.phone) };
  }
  const b = object(body, ['method', 'email', 'password']);
  return { method: 'email', email: identifier(b.email), password: password(b.password, maxPasswordBytes) };
}

/** `POST change-password`: `{ currentPassword, newPassword, revokeOtherSessions? }`. */
export function readChangePassword(body: unknown, maxPasswordBytes: number): ChangePasswordInput {
  const b = object(body, ['currentPassword', 'newPassword', 'revokeOtherSessions']);
  if (b.revokeOtherSessions !== undefined && typeof b.revokeOtherSessions !== 'boolean') invalid();
  return {
    currentPassword: password(b.currentPassword, maxPasswordBytes),
    newPassword: newPassword(b.newPassword),
    revokeOtherSessions: b.revokeOtherSessions ?? true,
  };
}

/** `POST forgot-password`: `{ method: 'email', email, mode? }` or `{ method: 'phone', phone }`. */
export function readForgotPassword(body: unknown): ForgotPasswordInput {
  if (readMethod(body) === 'phone') {
    const b = object(body, ['method', 'phone']);
    return { method: 'phone', phone: identifier(b.phone) };
  }
  const b = object(body, ['method', 'email', 'mode']);
  return { method: 'email', email: identifier(b.email), mode: mode(b.mode) };
}

/**
 * `POST reset-password`: `{ method: 'email', email, otp, newPassword }`,
 * `{ method: 'email', token, newPassword }` (an `email` beside the token must match it) or
 * `{ method: 'phone', phone, otp, newPassword }` (the SMS code's format is checked by OtpService).
 */
export function readResetPassword(body: unknown): ResetPasswordInput {
  if (readMethod(body) === 'phone') {
    const b = object(body, ['method', 'phone', 'otp', 'newPassword']);
    return {
      method: 'phone',
      phone: identifier(b.phone),
      otp: string(b.otp, 32),
      newPassword: newPassword(b.newPassword),
    };
  }
  const b = object(body, ['method', 'email', 'otp', 'token', 'newPassword']);
  const password = newPassword(b.newPassword);
  if (b.token !== undefined) {
    if (b.otp !== undefined) invalid();
    return { method: 'email', email: optional(b.email, identifier), token: linkToken(b.token), newPassword: password };
  }
  return { method: 'email', email: identifier(b.email), otp: emailCode(b.otp), newPassword: password };
}

/** `POST verify-email/send`: `{ mode? }` (an empty body is `{}`). */
export function readSendVerification(body: unknown): { mode: DeliveryMode } {
  if (body === undefined || body === null) return { mode: 'otp' };
  const b = object(body, ['mode']);
  return { mode: mode(b.mode) };
}

/** `POST verify-email`: `{ email, otp }` or `{ token }`. */
export function readVerifyEmail(body: unknown): VerifyEmailInput {
  const b = object(body, ['email', 'otp', 'token']);
  if (b.token !== undefined) {
    if (b.email !== undefined || b.otp !== undefined) invalid();
    return { token: linkToken(b.token) };
  }
  return { email: identifier(b.email), otp: emailCode(b.otp) };
}
