import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import type { OtpChannel, SmsMessage, SmsSendResult } from '../../src/sms/sms-provider.interface.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { expectError, otpClient, otpSuite, saudiMobile, sessionCookie } from './otp.helpers.js';

/** A provider that declares both channels, records every call and fails the channels in `down`. */
class TwoChannelSms extends InMemorySmsProvider {
  readonly channels: readonly OtpChannel[] = ['sms', 'whatsapp'];
  readonly calls: SmsMessage[] = [];
  readonly down = new Set<OtpChannel>();

  override async send(message: SmsMessage): Promise<SmsSendResult> {
    this.calls.push(message);
    if (this.down.has(message.channel ?? 'sms')) return { success: false, error: `${message.channel} is down` };
    return super.send(message);
  }
}

/** Per-address limits of every route lifted, so parallel clients only meet the guard under test. */
const OPEN_ROUTES = { 'otp-send:ip': { limit: 100_000 }, 'otp-verify:ip': { limit: 100_000 } };

const db = testDatabases()[0];
const suite = otpSuite(db);

async function start(auth: Partial<ArrafAuthOptions>, sms?: InMemorySmsProvider) {
  const { app, sms: memory } = await createOtpTestApp({
    database: suite.options(),
    smsVia: sms ? 'option' : 'override',
    auth: { ...(sms ? { sms } : {}), ...auth },
  });
  return suite.track({ app, sms: sms ?? memory });
}

describe('phone codes over SMS or WhatsApp', () => {
  let app: INestApplication;
  let sms: TwoChannelSms;

  beforeAll(async () => {
    sms = new TwoChannelSms();
    ({ app } = await start({ otp: { channels: ['whatsapp', 'sms'] }, rateLimit: { limits: OPEN_ROUTES } }, sms));
  });

  afterEach(() => {
    sms.down.clear();
  });

  it('sends on WhatsApp by default when otp.channels starts with it, names the channel, and the code signs in', async () => {
    const phone = saudiMobile();
    const client = otpClient(app);
    const res = await client.send(phone.local);
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ success: true, maskedPhone: expect.any(String), channel: 'whatsapp' });
    const sent = sms.calls.filter((m) => m.to === phone.e164);
    expect(sent.map((m) => m.channel)).toEqual(['whatsapp']);
    const verified = await client.verify(phone.local, sent[0].code);
    expect(verified.status).toBe(200);
    expect(sessionCookie(verified)).toMatch(/=/);
  });

  it('honours channel: "sms" in the body', async () => {
    const phone = saudiMobile();
    const res = await otpClient(app).sendBody({ method: 'phone', phone: phone.local, channel: 'sms' });
    expect(res.body.channel).toBe('sms');
    expect(sms.calls.filter((m) => m.to === phone.e164).map((m) => m.channel)).toEqual(['sms']);
  });

  it('falls back once to SMS with the same code when WhatsApp fails, and that code signs in', async () => {
    sms.down.add('whatsapp');
    const phone = saudiMobile();
    const client = otpClient(app);
    const res = await client.send(phone.local);
    expect(res.status).toBe(200);
    expect(res.body.channel).toBe('sms');
    const sent = sms.calls.filter((m) => m.to === phone.e164);
    expect(sent.map((m) => m.channel)).toEqual(['whatsapp', 'sms']);
    expect(sent[1].code).toBe(sent[0].code);
    expect((await client.verify(phone.local, sent[0].code)).status).toBe(200);
  });

  it('answers 502 SMS_FAILED after one try per channel and leaves no usable code', async () => {
    sms.down.add('whatsapp').add('sms');
    const phone = saudiMobile();
    const client = otpClient(app);
    expectError(await client.send(phone.local), 502, 'SMS_FAILED');
    const sent = sms.calls.filter((m) => m.to === phone.e164);
    expect(sent.map((m) => m.channel)).toEqual(['whatsapp', 'sms']);
    expectError(await client.verify(phone.local, sent[0].code), 400, 'OTP_INVALID');
  });

  it('names the channel in the phone branch of POST /auth/sign-in', async () => {
    const phone = saudiMobile();
    const res = await request(app.getHttpServer())
      .post('/auth/sign-in')
      .send({ method: 'phone', phone: phone.local, channel: 'whatsapp' });
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 200,
      body: { nextStep: 'otp', channel: 'whatsapp' },
    });
  });

  it('refuses an unknown channel with 400 INVALID_INPUT naming the field', async () => {
    const res = await otpClient(app).sendBody({ method: 'phone', phone: saudiMobile().local, channel: 'voice' });
    expectError(res, 400, 'INVALID_INPUT');
    expect(res.body.error.field).toBe('channel');
  });

  it('refuses a landline with 400 PHONE_NOT_MOBILE before anything is sent', async () => {
    const before = sms.calls.length;
    expectError(await otpClient(app).send('0112345678'), 400, 'PHONE_NOT_MOBILE');
    expectError(await otpClient(app).send('+966 11 234 5678'), 400, 'PHONE_NOT_MOBILE');
    expect(sms.calls.length).toBe(before);
  });
});

describe('a provider without a channels declaration is SMS-only', () => {
  it('sends a WhatsApp request over SMS and says so; a channel outside otp.channels is refused', async () => {
    const { app, sms } = await start({ otp: { channels: ['whatsapp', 'sms'] } });
    const phone = saudiMobile();
    const res = await otpClient(app).sendBody({ method: 'phone', phone: phone.local, channel: 'whatsapp' });
    expect(res.body).toMatchObject({ success: true, channel: 'sms' });
    expect(sms.messages.at(-1)).toMatchObject({ to: phone.e164, channel: 'sms' });

    const { app: smsOnly } = await start({});
    const refused = await otpClient(smsOnly).sendBody({
      method: 'phone',
      phone: saudiMobile().local,
      channel: 'whatsapp',
    });
    expectError(refused, 400, 'INVALID_INPUT');
  });

  it('refuses to boot when the provider declares none of otp.channels', async () => {
    await expect(start({ otp: { channels: ['whatsapp'] } })).rejects.toThrow(/otp\.channels/);
  });
});

describe('reviewer numbers (otp.testNumbers)', () => {
  const REVIEWER = '+966500000001';
  const FIXED = '135791';

  it('sends nothing, signs in with the fixed code, refuses a wrong one, and logs every use', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const { app, sms } = await start({ otp: { testNumbers: { [REVIEWER]: FIXED } } });
    const client = otpClient(app);
    const sent = await client.send('0500000001');
    expect(sent.body).toMatchObject({ success: true, channel: 'sms' });
    expect(sms.messages.filter((m) => m.to === REVIEWER)).toHaveLength(0);
    expectError(await client.verify('0500000001', '000000'), 400, 'OTP_INVALID');
    const res = await client.verify('0500000001', FIXED);
    expect(res.status).toBe(200);
    expect(res.body.user.phone).toBe(REVIEWER);
    const lines = warn.mock.calls.map(([line]) => String(line)).filter((l) => l.includes('Reviewer number +9665'));
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toContain(REVIEWER);
  });

  it('stops the boot with NODE_ENV=production unless otp.allowTestNumbersInProduction is set', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    // Production also refuses a guessable secret; a random one leaves otp.testNumbers as the only refusal.
    const secret = randomBytes(32).toString('base64url');
    try {
      await expect(start({ secret, otp: { testNumbers: { [REVIEWER]: FIXED } } })).rejects.toThrow(/otp\.testNumbers/);
      const { app } = await start({
        secret,
        otp: { testNumbers: { [REVIEWER]: FIXED }, allowTestNumbersInProduction: true },
      });
      expect((await otpClient(app).verify('0500000001', FIXED)).status).toBe(200);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('refuses a reviewer code that is not otp.length digits at boot', async () => {
    await expect(start({ otp: { testNumbers: { [REVIEWER]: '12' } } })).rejects.toThrow(/otp\.testNumbers/);
  });
});

describe('message texts at boot', () => {
  it('warns when an Arabic SMS text needs more than one UCS-2 part, naming the option and the count', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const ar = `رمز الدخول إلى تطبيقنا هو {code}. لا تشارك هذا الرمز مع أي شخص مهما كان السبب، فنحن لا نطلبه منك أبدًا.`;
    await start({ otp: { messages: { ar } } });
    const lines = warn.mock.calls.map(([line]) => String(line));
    expect(
      lines.some((l) => /^otp\.messages\.ar needs 2 SMS parts \(\d+ UCS-2 units; one part holds 70\)/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('otp.messages.en'))).toBe(false);
  });

  it('stops the boot when a text carries a link, unless otp.allowLinksInMessages is set', async () => {
    const en = 'Your code is {code}. Details: https://example.sa/help';
    await expect(start({ otp: { messages: { en } } })).rejects.toThrow(
      /otp\.messages\.en: contains the link "https:\/\/example\.sa\/help"/,
    );
    await expect(start({ otp: { messages: { en }, allowLinksInMessages: true } })).resolves.toBeDefined();
  });

  it.each([
    [{ channels: ['fax'] }, 'otp.channels'],
    [{ channels: [] }, 'otp.channels'],
    [{ prefixGuard: { minVerifiedRatio: 2 } }, 'otp.prefixGuard.minVerifiedRatio'],
    [{ prefixGuard: { digits: 0 } }, 'otp.prefixGuard.digits'],
    [{ prefixGuard: { burst: 1 } }, 'otp.prefixGuard.burst'],
    [{ dailyBudget: 0 }, 'otp.dailyBudget'],
    [{ whatsappMessages: { ar: 'no code here' } }, 'otp.whatsappMessages.ar'],
  ])('refuses otp %j at boot naming %s', async (otp, path) => {
    await expect(start({ otp: otp as ArrafAuthOptions['otp'] })).rejects.toThrow(`invalid option ${path}:`);
  });
});
