import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import { RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import type { DeliveryReceipt, OtpChannel } from '../../src/sms/sms-provider.interface.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { emptyRedisDatabase, otpClient, otpSuite, ownRedisDatabase, uniquePrefix } from './otp.helpers.js';

/**
 * The fake provider of the other OTP suites, declaring WhatsApp and reading receipts; no receipt ever
 * arrives, so every WhatsApp code waits `otp.fallbackAfter` and then asks for its SMS fallback.
 */
class NoReceiptProvider extends InMemorySmsProvider {
  readonly channels: readonly OtpChannel[] = ['whatsapp', 'sms'];
  readonly receiptToken = 'receipt-token-of-the-fallback-suite';

  readReceipts(): DeliveryReceipt[] {
    return [];
  }

  /** What went to `e164` on `channel`, oldest first. */
  to(e164: string, channel: OtpChannel) {
    return this.messages.filter((m) => m.to === e164 && (m.channel ?? 'sms') === channel);
  }
}

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) process.stdout.write('otp-fallback.spec: Redis storage SKIPPED: TEST_REDIS_URL not set\n');

type Storage = NonNullable<ArrafAuthOptions['rateLimit']>['storage'];
const databases = testDatabases();
/** Both stores on the first database; the other databases (the pending check reads them) on memory. */
const SCENARIOS: { name: string; db: (typeof databases)[number]; storage: Storage }[] = [
  { name: `${databases[0].name} + memory`, db: databases[0], storage: 'memory' },
  // Database 14, emptied first: no other suite counts there, so prefixes and the daily budget start at zero.
  ...(REDIS_URL
    ? [{ name: `${databases[0].name} + redis`, db: databases[0], storage: ownRedisDatabase({ redis: REDIS_URL }, 14) }]
    : []),
  ...databases.slice(1).map((db) => ({ name: `${db.name} + memory`, db, storage: 'memory' as const })),
];

const WAIT_MS = 3600;
const BUDGET_KEY = 'otp-daily-budget';
/** Per-address limits lifted, so each scenario meets only the guard under test. */
const OPEN_ROUTES = { 'otp-send:ip': { limit: 100_000 }, 'otp-verify:ip': { limit: 100_000 } };

/** A number in a prefix (digits 6) no other scenario uses, so prefix counters start at zero. */
function freshNumber(): { local: string; e164: string } {
  const national = `${uniquePrefix()}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return { local: `0${national}`, e164: `+966${national}` };
}

describe.each(SCENARIOS)('WhatsApp fallback by SMS ($name)', ({ db, storage }) => {
  const suite = otpSuite(db);
  beforeAll(() => emptyRedisDatabase(storage));

  async function start(otp: ArrafAuthOptions['otp'] = {}) {
    const sms = new NoReceiptProvider();
    const { app } = await createOtpTestApp({
      database: suite.options(),
      smsVia: 'option',
      auth: {
        sms,
        otp: {
          channels: ['whatsapp', 'sms'],
          fallbackAfter: 3,
          dailyBudget: 10_000_000,
          ...otp,
          prefixGuard: { digits: 6, ...otp?.prefixGuard },
        },
        rateLimit: { storage, limits: OPEN_ROUTES },
      },
    });
    return suite.track({ app, sms });
  }

  /** Sends a WhatsApp code to a fresh number; returns the number, its client and the code. */
  async function whatsappCode(app: INestApplication, sms: NoReceiptProvider) {
    const phone = freshNumber();
    const client = otpClient(app);
    const res = await client.send(phone.local);
    expect({ status: res.status, channel: res.body.channel }).toEqual({ status: 200, channel: 'whatsapp' });
    return { phone, client, code: sms.to(phone.e164, 'whatsapp').at(-1)!.code };
  }

  function fallbackLines(warn: ReturnType<typeof jest.spyOn>): string[] {
    return warn.mock.calls
      .map(([line]: unknown[]) => String(line))
      .filter((l: string) => l.includes('No delivery receipt'));
  }

  it('sends exactly one SMS with the same code when no receipt arrives, and that code signs in', async () => {
    const { app, sms } = await start();
    const { phone, client, code } = await whatsappCode(app, sms);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms').map((m) => m.code)).toEqual([code]);
    expect((await client.verify(phone.local, code)).status).toBe(200);
  });

  it('sends no SMS for a code verified before otp.fallbackAfter', async () => {
    const { app, sms } = await start();
    const { phone, client, code } = await whatsappCode(app, sms);
    expect((await client.verify(phone.local, code)).status).toBe(200);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms')).toEqual([]);
  });

  it('sends no SMS for a code replaced by a newer one; the newer code still gets its own', async () => {
    const { app, sms } = await start();
    const { phone, code: older } = await whatsappCode(app, sms);
    // Another client (the owner's other device): no resend cooldown between them.
    const again = otpClient(app);
    expect((await again.send(phone.local)).status).toBe(200);
    const newer = sms.to(phone.e164, 'whatsapp').at(-1)!.code;
    expect(newer).not.toBe(older);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms').map((m) => m.code)).toEqual([newer]);
    expect((await again.verify(phone.local, newer)).status).toBe(200);
  });

  it('sends no SMS once the prefix has used its hourly cap, and logs why', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { app, sms } = await start({ prefixGuard: { maxSendsPerHour: 1 } });
    const { phone, client, code } = await whatsappCode(app, sms);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms')).toEqual([]);
    expect(fallbackLines(warn)).toEqual([expect.stringMatching(/not sent by sms: OTP_PREFIX_PAUSED$/)]);
    expect(error).not.toHaveBeenCalled();
    // The WhatsApp code itself is untouched.
    expect((await client.verify(phone.local, code)).status).toBe(200);
  });

  it('sends no SMS once otp.dailyBudget is used up, and logs why', async () => {
    // The budget counter is global: start from what this suite's earlier tests counted.
    const probe = await start();
    const counted = (await probe.app.get<RateLimitStore>(RATE_LIMIT_STORE).peek(BUDGET_KEY))?.count ?? 0;
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { app, sms } = await start({ dailyBudget: counted + 1 });
    const { phone } = await whatsappCode(app, sms);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms')).toEqual([]);
    expect(fallbackLines(warn)).toEqual([expect.stringMatching(/not sent by sms: OTP_BUDGET_EXHAUSTED$/)]);
  });

  it('counts the fallback SMS against the prefix cap like any send', async () => {
    const { app, sms } = await start({ prefixGuard: { maxSendsPerHour: 2 } });
    const { phone } = await whatsappCode(app, sms);
    await sleep(WAIT_MS);
    expect(sms.to(phone.e164, 'sms')).toHaveLength(1);
    // WhatsApp code and its SMS took both slots: the next code of the prefix is refused.
    const res = await otpClient(app).send(phone.local);
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 429, code: 'OTP_PREFIX_PAUSED' });
  });
});
