import 'reflect-metadata';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import { ARRAF_AUTH_ENTITIES, Verification } from '../../src/entities/arraf-auth.entities.js';
import type { ResolvedArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import type { VerificationPolicy } from '../../src/verification/verification.interfaces.js';
import { VerificationService } from '../../src/verification/verification.service.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { codeKey } from '../e2e/otp.helpers.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const OLD_SECRET = 'an-older-secret-still-accepted-for-verifying-0123';

function codePolicy(type: string, overrides: Partial<VerificationPolicy> = {}): VerificationPolicy {
  return {
    type: type as VerificationPolicy['type'],
    kind: 'code',
    length: 6,
    ttlSeconds: 300,
    maxAttempts: 5,
    budget: { limit: 15, windowSeconds: 3600 },
    ...overrides,
  };
}

const linkPolicy = (type: string): VerificationPolicy => ({ ...codePolicy(type), kind: 'link', length: 32 });

function wrong(code: string, i: number): string {
  return String((Number(code) + i) % 1_000_000).padStart(6, '0');
}

describe.each(testDatabases())('VerificationService on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let moduleRef: TestingModule;
  let service: VerificationService;
  let counter = 0;
  const subject = () => ({ identifier: `+9665500${String(++counter).padStart(5, '0')}` });

  /** Issues a code and returns it (the delivery is where the only copy goes). */
  async function issueCode(policy: VerificationPolicy, identifier: string): Promise<string> {
    let code = '';
    await service.issue(policy, { identifier }, { deliver: ({ secret }) => void (code = secret) });
    return code;
  }

  beforeAll(async () => {
    database = await db.create();
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...database.options,
          entities: ARRAF_AUTH_ENTITIES,
          synchronize: true,
        } as DataSourceOptions),
      ],
      providers: [
        VerificationService,
        RateLimiter,
        { provide: RATE_LIMIT_STORE, useClass: MemoryRateLimitStore },
        {
          provide: ARRAF_AUTH_OPTIONS,
          useValue: resolveArrafAuthOptions({ secret: [TEST_SECRET, OLD_SECRET] }),
        },
      ],
    }).compile();
    await moduleRef.init();
    service = moduleRef.get(VerificationService);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  const rows = () => moduleRef.get(DataSource).getRepository(Verification);

  it('stores a code only as an HMAC bound to type and identifier, and a link only as its SHA-256', async () => {
    const { identifier } = subject();
    const code = await issueCode(codePolicy('otp:sign-in'), identifier);
    const row = await rows().findOneByOrFail({ identifier, type: 'otp:sign-in' });
    expect(row.valueHash).toBe(
      createHmac('sha256', codeKey(TEST_SECRET))
        .update(`arraf-auth:verification|otp:sign-in|${identifier}|${code}`)
        .digest('hex'),
    );
    // Keyed by a key derived for this purpose, never by the raw secret.
    expect(row.valueHash).not.toBe(
      createHmac('sha256', TEST_SECRET)
        .update(`arraf-auth:verification|otp:sign-in|${identifier}|${code}`)
        .digest('hex'),
    );
    let token = '';
    await service.issue(
      linkPolicy('email:verify-email'),
      { identifier: `u1:${counter}` },
      {
        deliver: ({ secret }) => void (token = secret),
      },
    );
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const link = await rows().findOneByOrFail({ identifier: `u1:${counter}` });
    expect(link.valueHash).toBe(createHash('sha256').update(token).digest('hex'));
  });

  it('issues and checks long codes (17 digits, as backup codes are) by their exact length, digits uniform', async () => {
    const policy = codePolicy('two-factor:backup-code', { length: 17, maxAttempts: 1000, budget: undefined });
    const counts = Array.from({ length: 10 }, () => 0);
    let code = '';
    for (let i = 0; i < 40; i++) {
      code = await issueCode(policy, `u17:${counter}:${i}`);
      expect(code).toMatch(/^[0-9]{17}$/);
      for (const digit of code) counts[Number(digit)]++;
    }
    // 680 digits, 68 expected per value (σ ≈ 7.8): a biased generator (modulo, or a digit never drawn) falls outside.
    for (const count of counts) expect(count).toBeGreaterThan(30);
    for (const count of counts) expect(count).toBeLessThan(110);
    const subject = { identifier: `u17:${counter}:39` };
    for (const typed of [
      code.slice(0, 10),
      code.slice(0, 16),
      `${code}0`,
      `${code.slice(0, 16)}${(Number(code[16]) + 1) % 10}`,
    ]) {
      expect(await service.redeemCode(policy, subject, typed)).toStrictEqual({ ok: false, reason: 'invalid' });
    }
    expect(await service.redeemCode(policy, subject, code)).toMatchObject({ ok: true });
  });

  it('lets at most maxAttempts of 40 parallel wrong codes be compared, then refuses the right code', async () => {
    const policy = codePolicy('otp:sign-in');
    const { identifier } = subject();
    const code = await issueCode(policy, identifier);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => service.redeemCode(policy, { identifier }, wrong(code, i + 1))),
    );
    const reasons = results.map((r) => (r.ok ? 'ok' : r.reason));
    expect(reasons.filter((r) => r === 'invalid')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'ok')).toHaveLength(0);
    expect((await rows().findOneByOrFail({ identifier })).attempts).toBe(5);
    const right = await service.redeemCode(policy, { identifier }, code);
    expect(right).toMatchObject({ ok: false });
  });

  it('consumes a code exactly once when 20 right guesses arrive together', async () => {
    const policy = codePolicy('otp:sign-in', { maxAttempts: 50, budget: { limit: 100, windowSeconds: 3600 } });
    const { identifier } = subject();
    const code = await issueCode(policy, identifier);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => service.redeemCode(policy, { identifier }, code)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await rows().countBy({ identifier })).toBe(0);
  });

  it('keeps the failure budget across new codes: 3 × maxAttempts wrong guesses, then every code is refused', async () => {
    const policy = codePolicy('otp:sign-in', { maxAttempts: 2, budget: { limit: 6, windowSeconds: 3600 } });
    const { identifier } = subject();
    for (let round = 0; round < 3; round++) {
      const code = await issueCode(policy, identifier);
      for (let i = 1; i <= 2; i++)
        expect(await service.redeemCode(policy, { identifier }, wrong(code, i))).toStrictEqual({
          ok: false,
          reason: 'invalid',
        });
    }
    const fresh = await issueCode(policy, identifier);
    const refused = await service.redeemCode(policy, { identifier }, fresh);
    expect(refused).toMatchObject({ ok: false, reason: 'budget' });
    expect(!refused.ok && refused.reason === 'budget' && refused.retryAt - Date.now()).toBeGreaterThan(3_500_000);
    expect((await rows().findOneByOrFail({ identifier })).attempts).toBe(0);
  });

  it('binds a code to its type: a sign-in code never redeems a reset code, even with the same hash copied', async () => {
    const signIn = codePolicy('otp:sign-in');
    const reset = codePolicy('otp:reset-password');
    const { identifier } = subject();
    const code = await issueCode(signIn, identifier);
    await issueCode(reset, identifier);
    const signInRow = await rows().findOneByOrFail({ identifier, type: 'otp:sign-in' });
    await rows().update({ identifier, type: 'otp:reset-password' }, { valueHash: signInRow.valueHash });
    expect(await service.redeemCode(reset, { identifier }, code)).toStrictEqual({ ok: false, reason: 'invalid' });
    expect((await service.redeemCode(signIn, { identifier }, code)).ok).toBe(true);
  });

  it('binds a code to its identifier: another recipient’s code fails, even with the hash copied', async () => {
    const policy = codePolicy('otp:sign-in');
    const a = subject().identifier;
    const b = subject().identifier;
    const codeA = await issueCode(policy, a);
    await issueCode(policy, b);
    const rowA = await rows().findOneByOrFail({ identifier: a });
    await rows().update({ identifier: b }, { valueHash: rowA.valueHash });
    expect(await service.redeemCode(policy, { identifier: b }, codeA)).toStrictEqual({ ok: false, reason: 'invalid' });
  });

  it('never takes an OAuth state row, or a link of another purpose, as a link or a code', async () => {
    const state = randomBytes(32).toString('base64url');
    const identifier = `user-${counter}:${'a'.repeat(64)}`;
    await rows().insert({
      id: createHash('sha256').update(`arraf-auth:oauth-state:${state}`).digest('hex').slice(0, 36),
      identifier,
      type: 'oauth-state',
      valueHash: createHash('sha256').update(state).digest('hex'),
      expiresAt: new Date(Date.now() + 600_000),
      attempts: 0,
    });
    for (const type of ['email:reset-password', 'email:verify-email', 'otp:sign-in', 'otp:reset-password']) {
      expect(await service.findLink(linkPolicy(type), state)).toBeNull();
      expect(await service.redeemCode(codePolicy(type), { identifier }, state)).toStrictEqual({
        ok: false,
        reason: 'invalid',
      });
    }
    let token = '';
    await service.issue(
      linkPolicy('email:verify-email'),
      { identifier: `${identifier}-v` },
      {
        deliver: ({ secret }) => void (token = secret),
      },
    );
    expect(await service.findLink(linkPolicy('email:reset-password'), token)).toBeNull();
    expect(await service.findLink(linkPolicy('email:verify-email'), token)).not.toBeNull();
  });

  it('accepts a code stored under an older secret (rotation) and refuses an expired one', async () => {
    const policy = codePolicy('otp:sign-in');
    const { identifier } = subject();
    // Issued by an instance that still signed with OLD_SECRET (before the rotation).
    const options = moduleRef.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS);
    const before = new VerificationService(
      { ...options, secrets: [OLD_SECRET] },
      moduleRef.get(DataSource),
      moduleRef.get(RateLimiter),
    );
    let code = '';
    await before.issue(policy, { identifier }, { deliver: ({ secret }) => void (code = secret) });
    expect((await service.redeemCode(policy, { identifier }, code)).ok).toBe(true);

    const expired = await issueCode(policy, identifier);
    await rows().update({ identifier }, { expiresAt: new Date(Date.now() - 1000) });
    expect(await service.redeemCode(policy, { identifier }, expired)).toStrictEqual({ ok: false, reason: 'expired' });
    expect(await rows().countBy({ identifier })).toBe(0);
  });

  it('leaves no usable secret after a failed delivery, and keeps a matched code when beforeConsume throws', async () => {
    const policy = codePolicy('otp:sign-in');
    const { identifier } = subject();
    const first = await issueCode(policy, identifier);
    let lost = '';
    await expect(
      service.issue(
        policy,
        { identifier },
        {
          deliver: ({ secret }) => {
            lost = secret;
            throw new Error('provider down');
          },
        },
      ),
    ).rejects.toThrow('provider down');
    expect(await rows().countBy({ identifier })).toBe(0);
    expect((await service.redeemCode(policy, { identifier }, first)).ok).toBe(false);
    expect((await service.redeemCode(policy, { identifier }, lost)).ok).toBe(false);

    const code = await issueCode(policy, identifier);
    await expect(
      service.redeemCode(policy, { identifier }, code, {
        beforeConsume: () => {
          throw new Error('weak password');
        },
      }),
    ).rejects.toThrow('weak password');
    expect((await service.redeemCode(policy, { identifier }, code)).ok).toBe(true);
  });

  it('keeps the previous secret after a failed delivery with replaceOlder "after-delivery"', async () => {
    const policy = codePolicy('email:reset-password');
    const identifier = `user-${++counter}:${'b'.repeat(64)}`;
    let first = '';
    await service.issue(
      policy,
      { identifier },
      {
        replaceOlder: 'after-delivery',
        deliver: ({ secret }) => void (first = secret),
      },
    );
    await expect(
      service.issue(
        policy,
        { identifier },
        {
          replaceOlder: 'after-delivery',
          deliver: () => {
            throw new Error('mail down');
          },
        },
      ),
    ).rejects.toThrow('mail down');
    expect((await service.redeemCode(policy, { identifier }, first)).ok).toBe(true);
  });
});
