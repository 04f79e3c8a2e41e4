import { TWO_FACTOR_BODIES, type TwoFactorBodyName } from '../schemas/two-factor-bodies.js';
import { bodyComponents } from './openapi.bodies.js';
import type { PathContext, Paths } from './openapi.paths.js';
import { type SignedInRoute, signedInOperation } from './openapi.signed-in.js';
import { body, errors, object, ok, ref, type Schema, setCookie, str, trueOnly } from './openapi.schemas.js';

/** Request bodies of the second-factor routes, generated from the schemas the routes validate with. */
const BODY_COMPONENTS: Record<string, TwoFactorBodyName> = {
  ArrafAuthTwoFactorEnableBody: 'twoFactorEnable',
  ArrafAuthTwoFactorCodeBody: 'twoFactorCode',
  ArrafAuthSecondFactorBody: 'secondFactor',
  ArrafAuthTwoFactorDisableBody: 'twoFactorDisable',
  ArrafAuthTwoFactorBackupCodesBody: 'twoFactorBackupCodes',
};

/** The components the second-factor paths refer to. */
export function twoFactorComponents(): Record<string, Schema> {
  const bodies = bodyComponents(BODY_COMPONENTS, TWO_FACTOR_BODIES);
  const revoked = {
    type: 'integer',
    minimum: 0,
    description: 'With `revokeOtherSessions: true`: how many other sessions were revoked.',
  };
  const backupCodes = { type: 'array', items: str({ example: '01234-567890' }), minItems: 10, maxItems: 10 };
  return {
    ...bodies,
    ArrafAuthTwoFactorEnrolment: object({
      totpUri: str({ example: 'otpauth://totp/Arraf:user%40example.sa?secret=…&issuer=Arraf' }),
      qrCode: str({ description: 'The URI as a PNG data URL.', example: 'data:image/png;base64,…' }),
      backupCodes: { ...backupCodes, description: 'Shown once; each works once.' },
    }),
    ArrafAuthBackupCodes: object({ backupCodes, revoked }, ['backupCodes']),
    ArrafAuthTwoFactorChanged: object({ success: trueOnly, revoked }, ['success']),
    // What every first factor answers (200) when the account has a second factor, with the pending cookie.
    ArrafAuthTwoFactorRequired: object({
      twoFactorRequired: trueOnly,
      methods: {
        type: 'array',
        items: str({ enum: ['totp', 'backup_code', 'passkey'] }),
        description: '`passkey`: `POST passkey/authenticate/verify` with a passkey of the same account completes it.',
      },
    }),
  };
}

type ErrorCodes = Parameters<typeof errors>;

/** A signed-in, origin-checked `POST` route that manages the second factor. */
type ManagementRoute = Omit<SignedInRoute, 'result' | 'origin'> & { result: Schema };

const MANAGEMENT_ROUTES: Record<string, ManagementRoute> = {
  'two-factor/enable': {
    id: 'twoFactorEnable',
    summary: 'Start TOTP enrolment',
    description:
      'Needs a fresh session. Returns the otpauth URI, its QR code and ten backup codes; active after `confirm`.',
    fresh: true,
    body: 'ArrafAuthTwoFactorEnableBody',
    optionalBody: true,
    result: ref('ArrafAuthTwoFactorEnrolment'),
    codes: ['INVALID_INPUT', 'INVALID_CREDENTIALS', 'TWO_FACTOR_ALREADY_ENABLED'],
  },
  'two-factor/confirm': {
    id: 'twoFactorConfirm',
    summary: 'Activate TOTP with a first code',
    description:
      'The session counts as having passed a second factor. `revokeOtherSessions: true` also signs out every other session.',
    body: 'ArrafAuthTwoFactorCodeBody',
    result: ref('ArrafAuthTwoFactorChanged'),
    codes: [
      'INVALID_INPUT',
      'TWO_FACTOR_INVALID',
      'TWO_FACTOR_NOT_ENABLED',
      'TWO_FACTOR_ALREADY_ENABLED',
      'TWO_FACTOR_TOO_MANY_ATTEMPTS',
    ],
  },
  'two-factor/disable': {
    id: 'twoFactorDisable',
    summary: 'Turn the second factor off',
    description:
      'Needs a fresh session and a code or a backup code; the backup codes stop working. ' +
      '`revokeOtherSessions: true` also signs out every other session.',
    fresh: true,
    body: 'ArrafAuthTwoFactorDisableBody',
    result: ref('ArrafAuthTwoFactorChanged'),
    codes: ['INVALID_INPUT', 'TWO_FACTOR_INVALID', 'TWO_FACTOR_NOT_ENABLED', 'TWO_FACTOR_TOO_MANY_ATTEMPTS'],
  },
  'two-factor/backup-codes': {
    id: 'twoFactorBackupCodes',
    summary: 'Replace the backup codes',
    description:
      'Needs a fresh session; the previous set stops working. `revokeOtherSessions: true` also signs out every other session.',
    fresh: true,
    body: 'ArrafAuthTwoFactorBackupCodesBody',
    optionalBody: true,
    result: ref('ArrafAuthBackupCodes'),
    codes: ['INVALID_INPUT', 'TWO_FACTOR_NOT_ENABLED'],
  },
};

function managementPath(context: PathContext, route: ManagementRoute) {
  return { post: signedInOperation(context, { ...route, origin: 'noted', result: ok('Done.', route.result) }) };
}

const VERIFY_ERRORS: ErrorCodes = [
  'INVALID_INPUT',
  'TWO_FACTOR_INVALID',
  'TWO_FACTOR_PENDING_EXPIRED',
  'TWO_FACTOR_NOT_ENABLED',
  'TWO_FACTOR_TOO_MANY_ATTEMPTS',
  'RATE_LIMITED',
  'INVALID_ORIGIN',
];

/** `POST two-factor/verify`: completes a pending sign-in, or steps a session up. */
function verifyPath({ origin, operation }: PathContext) {
  return {
    post: operation('twoFactorVerify', 'Complete a sign-in, or step up, with the second factor', {
      description:
        'With the pending cookie a first factor set (`{ twoFactorRequired: true }`): completes the sign-in and sets the session cookie. ' +
        'With a session and no pending cookie: proves the second factor for `@RequireTwoFactor()` routes. ' +
        `Five codes per pending sign-in. ${origin}`,
      requestBody: body(ref('ArrafAuthSecondFactorBody')),
      responses: {
        200: ok('Signed in (or stepped up).', ref('ArrafAuthSignInResult'), setCookie),
        ...errors(...VERIFY_ERRORS),
      },
    }),
  };
}

/** The second-factor routes. */
export function twoFactorPaths(context: PathContext): Paths {
  const managed = Object.entries(MANAGEMENT_ROUTES).map(([path, route]) => [
    `${context.prefix}/${path}`,
    managementPath(context, route),
  ]);
  return { ...Object.fromEntries(managed), [`${context.prefix}/two-factor/verify`]: verifyPath(context) };
}
