import { z } from 'zod';
import { TWO_FACTOR_BODIES, type TwoFactorBodyName } from '../schemas/two-factor-bodies.js';
import type { PathContext, Paths } from './openapi.paths.js';
import { body, errors, object, ok, ref, type Schema, setCookie, str, trueOnly } from './openapi.schemas.js';

/** Request bodies of the second-factor routes, generated from the schemas the routes validate with. */
const BODY_COMPONENTS: Record<string, TwoFactorBodyName> = {
  ArrafAuthTwoFactorEnableBody: 'twoFactorEnable',
  ArrafAuthTwoFactorCodeBody: 'twoFactorCode',
  ArrafAuthSecondFactorBody: 'secondFactor',
};

/** The components the second-factor paths refer to. */
export function twoFactorComponents(): Record<string, Schema> {
  const bodies = Object.fromEntries(
    Object.entries(BODY_COMPONENTS).map(([name, key]) => [
      name,
      z.toJSONSchema(TWO_FACTOR_BODIES[key], { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Schema,
    ]),
  );
  const backupCodes = { type: 'array', items: str({ example: '01234-567890' }), minItems: 10, maxItems: 10 };
  return {
    ...bodies,
    ArrafAuthTwoFactorEnrolment: object({
      totpUri: str({ example: 'otpauth://totp/Arraf:user%40example.sa?secret=…&issuer=Arraf' }),
      qrCode: str({ description: 'The URI as a PNG data URL.', example: 'data:image/png;base64,…' }),
      backupCodes: { ...backupCodes, description: 'Shown once; each works once.' },
    }),
    ArrafAuthBackupCodes: object({ backupCodes }),
    // What every first factor answers (200) when the account has a second factor, with the pending cookie.
    ArrafAuthTwoFactorRequired: object({
      twoFactorRequired: trueOnly,
      methods: { type: 'array', items: str({ enum: ['totp', 'backup_code'] }) },
    }),
  };
}

/** The second-factor routes. */
export function twoFactorPaths({ prefix, signedIn, origin, operation }: PathContext): Paths {
  const route = (
    id: string,
    summary: string,
    description: string,
    request: string | null,
    result: Schema,
    codes: Parameters<typeof errors>,
  ) => ({
    post: operation(id, summary, {
      description: `${description} ${origin}`,
      security: signedIn,
      ...(request ? { requestBody: body(ref(request)) } : {}),
      responses: { 200: ok('Done.', result), ...errors(...codes) },
    }),
  });
  const verifyErrors = errors(
    'INVALID_INPUT',
    'TWO_FACTOR_INVALID',
    'TWO_FACTOR_PENDING_EXPIRED',
    'TWO_FACTOR_NOT_ENABLED',
    'TWO_FACTOR_TOO_MANY_ATTEMPTS',
    'RATE_LIMITED',
    'INVALID_ORIGIN',
  );
  return {
    [`${prefix}/two-factor/enable`]: route(
      'twoFactorEnable',
      'Start TOTP enrolment',
      'Needs a fresh session. Returns the otpauth URI, its QR code and ten backup codes; active after `confirm`.',
      'ArrafAuthTwoFactorEnableBody',
      ref('ArrafAuthTwoFactorEnrolment'),
      [
        'INVALID_INPUT',
        'UNAUTHENTICATED',
        'INVALID_CREDENTIALS',
        'SESSION_NOT_FRESH',
        'TWO_FACTOR_ALREADY_ENABLED',
        'INVALID_ORIGIN',
      ],
    ),
    [`${prefix}/two-factor/confirm`]: route(
      'twoFactorConfirm',
      'Activate TOTP with a first code',
      'The session counts as having passed a second factor.',
      'ArrafAuthTwoFactorCodeBody',
      ref('ArrafAuthSuccess'),
      [
        'INVALID_INPUT',
        'UNAUTHENTICATED',
        'TWO_FACTOR_INVALID',
        'TWO_FACTOR_NOT_ENABLED',
        'TWO_FACTOR_ALREADY_ENABLED',
        'TWO_FACTOR_TOO_MANY_ATTEMPTS',
        'INVALID_ORIGIN',
      ],
    ),
    [`${prefix}/two-factor/disable`]: route(
      'twoFactorDisable',
      'Turn the second factor off',
      'Needs a fresh session and a code or a backup code; the backup codes stop working.',
      'ArrafAuthSecondFactorBody',
      ref('ArrafAuthSuccess'),
      [
        'INVALID_INPUT',
        'UNAUTHENTICATED',
        'SESSION_NOT_FRESH',
        'TWO_FACTOR_INVALID',
        'TWO_FACTOR_NOT_ENABLED',
        'TWO_FACTOR_TOO_MANY_ATTEMPTS',
        'INVALID_ORIGIN',
      ],
    ),
    [`${prefix}/two-factor/backup-codes`]: route(
      'twoFactorBackupCodes',
      'Replace the backup codes',
      'Needs a fresh session; the previous set stops working.',
      null,
      ref('ArrafAuthBackupCodes'),
      ['UNAUTHENTICATED', 'SESSION_NOT_FRESH', 'TWO_FACTOR_NOT_ENABLED', 'INVALID_ORIGIN'],
    ),
    [`${prefix}/two-factor/verify`]: {
      post: operation('twoFactorVerify', 'Complete a sign-in, or step up, with the second factor', {
        description:
          'With the pending cookie a first factor set (`{ twoFactorRequired: true }`): completes the sign-in and sets the session cookie. ' +
          'With a session and no pending cookie: proves the second factor for `@RequireTwoFactor()` routes. ' +
          `Five codes per pending sign-in. ${origin}`,
        requestBody: body(ref('ArrafAuthSecondFactorBody')),
        responses: { 200: ok('Signed in (or stepped up).', ref('ArrafAuthSignInResult'), setCookie), ...verifyErrors },
      }),
    },
  };
}
