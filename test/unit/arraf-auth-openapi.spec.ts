import { describe, expect, it } from '@jest/globals';
import { ARRAF_AUTH_ERRORS } from '../../src/errors/error-codes.js';
import { arrafAuthOpenApi } from '../../src/openapi/arraf-auth.openapi.js';

type Json = Record<string, any>;

/** Every `#/components/schemas/<name>` reference in `value`. */
function schemaRefs(value: unknown): string[] {
  return [...JSON.stringify(value).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
}

describe('arrafAuthOpenApi()', () => {
  it('puts every route under the configured prefix, slashes trimmed', () => {
    const { paths } = arrafAuthOpenApi({ path: '/api/auth/' });
    expect(Object.keys(paths).length).toBe(41);
    for (const path of Object.keys(paths)) expect(path).toMatch(/^\/api\/auth\/[a-z]/);
    expect(paths['/api/auth/otp/send']).toHaveProperty('post');
    expect(paths['/api/auth/sessions/{id}']).toHaveProperty('delete');
    expect(paths['/api/auth/account/events']).toHaveProperty('get');
    expect(paths['/api/auth/account/methods/acknowledge']).toHaveProperty('post');
  });

  it('defaults to the /auth prefix and the __Host- cookie', () => {
    const doc = arrafAuthOpenApi();
    expect(doc.paths).toHaveProperty(['/auth/session', 'get']);
    expect(doc.components.securitySchemes).toEqual({
      arrafAuthSession: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: '__Host-auth_session' }),
    });
  });

  it('lists the configured providers, given as ids or as provider configs', () => {
    const doc = arrafAuthOpenApi({ providers: ['google', { id: 'github' }] });
    for (const path of ['/auth/sign-in/{provider}', '/auth/callback/{provider}']) {
      const provider = (doc.paths[path].get as Json).parameters.find((p: Json) => p.name === 'provider');
      expect(provider.schema.enum).toEqual(['google', 'github']);
    }
    const any = arrafAuthOpenApi().paths['/auth/sign-in/{provider}'].get as Json;
    expect(any.parameters[0].schema).toEqual({ type: 'string', pattern: '^[A-Za-z0-9_-]+$' });
  });

  it('adds the bearer scheme and session.token only when bearer is on', () => {
    const off = arrafAuthOpenApi();
    expect(off.components.schemas.ArrafAuthSession.properties).not.toHaveProperty('token');
    expect((off.paths['/auth/sessions'].get as Json).security).toEqual([{ arrafAuthSession: [] }]);

    const on = arrafAuthOpenApi({ bearer: true, cookieName: 'sid' });
    expect(on.components.schemas.ArrafAuthSession.properties).toHaveProperty('token');
    expect(on.components.securitySchemes.arrafAuthBearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(on.components.securitySchemes.arrafAuthSession.name).toBe('sid');
    expect((on.paths['/auth/sessions'].get as Json).security).toEqual([
      { arrafAuthSession: [] },
      { arrafAuthBearer: [] },
    ]);
  });

  it('documents the error shape with every code of the catalogue, under the status each code is sent with', () => {
    const doc = arrafAuthOpenApi();
    const error = doc.components.schemas.ArrafAuthError as Json;
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(ARRAF_AUTH_ERRORS));
    for (const operations of Object.values(doc.paths)) {
      for (const operation of Object.values(operations) as Json[]) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
          if (!/^[45]/.test(status)) continue;
          for (const code of (response.description as string).split(', ')) {
            expect([
              operation.operationId,
              code,
              ARRAF_AUTH_ERRORS[code as keyof typeof ARRAF_AUTH_ERRORS]?.status,
            ]).toEqual([operation.operationId, code, Number(status)]);
          }
        }
      }
    }
  });

  it('declares Retry-After on rate-limited answers and Set-Cookie on sign-ins', () => {
    const doc = arrafAuthOpenApi();
    const send = doc.paths['/auth/otp/send'].post as Json;
    expect(send.responses['429'].headers).toHaveProperty('Retry-After');
    const verify = doc.paths['/auth/otp/verify'].post as Json;
    expect(verify.responses['200'].headers).toHaveProperty('Set-Cookie');
    expect(verify.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ArrafAuthOtpVerifyResult',
    });
  });

  it('describes the request bodies as strictly as the routes read them', () => {
    const { schemas } = arrafAuthOpenApi().components;
    expect(schemas.ArrafAuthOtpVerifyBody).toMatchObject({
      additionalProperties: false,
      required: ['method', 'phone', 'otp'],
    });
    expect(schemas.ArrafAuthEmailSignInBody).toMatchObject({ required: ['method', 'email', 'password'] });
    const signIn = arrafAuthOpenApi().paths['/auth/sign-in'].post as Json;
    expect(signIn.requestBody.content['application/json'].schema.oneOf).toHaveLength(2);
  });

  it('resolves every schema reference and uses operation ids unique across the document', () => {
    const doc = arrafAuthOpenApi({ bearer: true });
    for (const name of new Set(schemaRefs(doc)))
      expect([name, doc.components.schemas[name]]).toEqual([name, expect.any(Object)]);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as Json).operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^arrafAuth_/);
  });
});

describe('arrafAuthOpenApi() request bodies', () => {
  it('are generated from the schemas the routes validate with: same sizes, patterns, required keys, strictness', () => {
    const { schemas } = arrafAuthOpenApi().components as { schemas: Record<string, Json> };
    expect(schemas.ArrafAuthOtpSendBody).toEqual({
      type: 'object',
      properties: {
        method: { type: 'string', enum: ['phone'] },
        phone: expect.objectContaining({ type: 'string', minLength: 1, maxLength: 64 }),
        channel: expect.objectContaining({ type: 'string', enum: ['sms', 'whatsapp'] }),
      },
      required: ['method', 'phone'],
      additionalProperties: false,
    });
    expect(schemas.ArrafAuthResetPasswordEmailLinkBody).toMatchObject({
      required: ['method', 'token', 'newPassword'],
      additionalProperties: false,
      properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
    });
    expect(schemas.ArrafAuthVerifyEmailCodeBody.properties.otp).toMatchObject({ pattern: '^[0-9]{6}$' });
    expect(schemas.ArrafAuthForgotPasswordEmailBody).toMatchObject({ required: ['method', 'email'] });
    expect(schemas.ArrafAuthPhoneSignInBody.properties.channel).toMatchObject({ enum: ['sms', 'whatsapp'] });
    for (const [name, schema] of Object.entries(schemas).filter(([n]) => n.endsWith('Body')))
      expect([name, schema.additionalProperties]).toEqual([name, false]);
  });
});
