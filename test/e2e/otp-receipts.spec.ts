import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import { TwilioSmsProvider } from '../../src/sms/twilio.sms-provider.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { expectError, otpClient, saudiMobile, uniqueIp } from './otp.helpers.js';
import { type FakeVendor, formFields, startVendor } from './vendor-fake.helpers.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilioAuthToken0123456789abcdef0';
const APP_URL = 'https://app.example.sa';

const db = testDatabases()[0];
let database: Awaited<ReturnType<typeof db.create>>;
let vendor: FakeVendor;
let app: INestApplication;
let messages = 0;

function twilio(baseUrl: string): TwilioSmsProvider {
  return new TwilioSmsProvider({
    accountSid: SID,
    authToken: TOKEN,
    from: '+15005550006',
    baseUrl,
    whatsapp: { from: '+14155238886', contentSid: 'HXauth000' },
  });
}

/** The requests the fake Twilio got for `e164`, as form fields. */
function sentTo(e164: string): Record<string, string | string[]>[] {
  return vendor.seen.map((r) => formFields(r.body)).filter((f) => f.To === e164 || f.To === `whatsapp:${e164}`);
}

/** The code in a WhatsApp request (ContentVariables `{"1":"<code>"}`). */
const codeOf = (fields: Record<string, string | string[]>) =>
  JSON.parse(String(fields.ContentVariables))['1'] as string;

/** Sends a code for a new number; returns it with its WhatsApp request. */
async function sendCode() {
  const phone = saudiMobile();
  const client = otpClient(app);
  const res = await client.send(phone.local);
  expect({ status: res.status, channel: res.body.channel }).toEqual({ status: 200, channel: 'whatsapp' });
  const [whatsapp] = sentTo(phone.e164);
  return { phone, client, whatsapp, code: codeOf(whatsapp) };
}

/** Posts a Twilio status callback to the path of `callback`, from a vendor server (a foreign Origin). */
function postReceipt(callback: string, fields: Record<string, string>, ip = uniqueIp()) {
  return request(app.getHttpServer())
    .post(new URL(callback).pathname)
    .set('X-Forwarded-For', ip)
    .set('Origin', 'https://api.twilio.com')
    .type('form')
    .send(fields);
}

beforeAll(async () => {
  database = await db.create();
  vendor = await startVendor(() => ({ status: 201, body: { sid: `SM${String(++messages).padStart(32, '0')}` } }));
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  ({ app } = await createOtpTestApp({
    database: database.options,
    smsVia: 'option',
    auth: {
      appUrl: APP_URL,
      sms: twilio(vendor.baseUrl),
      otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 3 },
      rateLimit: { limits: { 'otp-receipt:ip': { limit: 3 } } },
    },
  }));
});

afterAll(async () => {
  await app?.close();
  await vendor?.close();
  await database?.drop();
  jest.restoreAllMocks();
});

describe('fallback when no delivery receipt comes within otp.fallbackAfter', () => {
  it('asks Twilio for receipts at the secret receipt URL under appUrl', async () => {
    const { whatsapp } = await sendCode();
    expect(whatsapp.StatusCallback).toMatch(/^https:\/\/app\.example\.sa\/auth\/otp\/receipts\/[0-9a-f]{64}$/);
  });

  it('sends the same code by SMS once when no receipt arrives, and that code signs in', async () => {
    const { phone, client, code } = await sendCode();
    await sleep(3500);
    const sent = sentTo(phone.e164);
    expect(sent).toHaveLength(2);
    expect(sent[1].To).toBe(phone.e164);
    expect(String(sent[1].Body)).toContain(code);
    expect((await client.verify(phone.local, code)).status).toBe(200);
  });

  it('sends nothing more when Twilio reports the WhatsApp message delivered (no Origin check)', async () => {
    const { phone, whatsapp } = await sendCode();
    const sid = `SM${String(messages).padStart(32, '0')}`;
    const res = await postReceipt(String(whatsapp.StatusCallback), { MessageSid: sid, MessageStatus: 'delivered' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: 1 } });
    await sleep(3500);
    expect(sentTo(phone.e164)).toHaveLength(1);
  });

  it('falls back at once when Twilio reports the WhatsApp message undelivered', async () => {
    const { phone, whatsapp, code } = await sendCode();
    const sid = `SM${String(messages).padStart(32, '0')}`;
    await postReceipt(String(whatsapp.StatusCallback), { MessageSid: sid, MessageStatus: 'undelivered' }).expect(200);
    const sent = sentTo(phone.e164);
    expect(sent).toHaveLength(2);
    expect(String(sent[1].Body)).toContain(code);
  });

  it('answers 404 NOT_FOUND to a wrong receipt token and records nothing', async () => {
    const { phone } = await sendCode();
    const sid = `SM${String(messages).padStart(32, '0')}`;
    const res = await postReceipt(`${APP_URL}/auth/otp/receipts/${'0'.repeat(64)}`, {
      MessageSid: sid,
      MessageStatus: 'delivered',
    });
    expectError(res, 404, 'NOT_FOUND');
    await sleep(3500);
    expect(sentTo(phone.e164)).toHaveLength(2);
  });

  it('rate-limits the receipt route per address (otp-receipt:ip)', async () => {
    const { whatsapp } = await sendCode();
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postReceipt(String(whatsapp.StatusCallback), { MessageSid: 'SMx', MessageStatus: 'sent' }, ip);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('otp.fallbackAfter at boot', () => {
  it('needs a provider that reads receipts', async () => {
    await expect(
      createOtpTestApp({
        database: database.options,
        auth: { appUrl: APP_URL, otp: { fallbackAfter: 30 } },
      }),
    ).rejects.toThrow(/invalid option otp\.fallbackAfter: the SMS provider reads no delivery receipts/);
  });

  it('needs appUrl', async () => {
    await expect(
      createOtpTestApp({
        database: database.options,
        smsVia: 'option',
        auth: { sms: twilio(vendor.baseUrl), otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 30 } },
      }),
    ).rejects.toThrow(/invalid option otp\.fallbackAfter: needs appUrl/);
  });
});

describe('the receipt route on Fastify', () => {
  it('reads a form-encoded Twilio receipt', async () => {
    const { app: fastify } = await createOtpTestApp({
      database: database.options,
      platform: 'fastify',
      smsVia: 'option',
      auth: { appUrl: APP_URL, sms: twilio(vendor.baseUrl), otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 3 } },
    });
    try {
      const phone = saudiMobile();
      expect((await otpClient(fastify).send(phone.local)).body.channel).toBe('whatsapp');
      const [whatsapp] = sentTo(phone.e164);
      const sid = `SM${String(messages).padStart(32, '0')}`;
      const res = await request(fastify.getHttpServer())
        .post(new URL(String(whatsapp.StatusCallback)).pathname)
        .type('form')
        .send({ MessageSid: sid, MessageStatus: 'read' });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: 1 } });
      await sleep(3500);
      expect(sentTo(phone.e164)).toHaveLength(1);
    } finally {
      await fastify.close();
    }
  });
});

describe('the receipt URL under the application global prefix (setGlobalPrefix)', () => {
  it.each(['api', '/api/v1/'])('hands Twilio a URL under "%s" that receives its receipts', async (globalPrefix) => {
    const { app: prefixed } = await createOtpTestApp({
      database: database.options,
      globalPrefix,
      smsVia: 'option',
      auth: { appUrl: APP_URL, sms: twilio(vendor.baseUrl), otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 3 } },
    });
    try {
      const path = `/${globalPrefix.replace(/^\/|\/$/g, '')}/auth`;
      const phone = saudiMobile();
      const sent = await request(prefixed.getHttpServer())
        .post(`${path}/otp/send`)
        .set('X-Forwarded-For', uniqueIp())
        .send({ method: 'phone', phone: phone.local });
      expect({ status: sent.status, channel: sent.body.channel }).toEqual({ status: 200, channel: 'whatsapp' });
      const [whatsapp] = sentTo(phone.e164);
      const callback = new URL(String(whatsapp.StatusCallback));
      expect(`${callback.origin}${callback.pathname}`).toMatch(
        new RegExp(`^https://app\\.example\\.sa${path}/otp/receipts/[0-9a-f]{64}$`),
      );
      const sid = `SM${String(messages).padStart(32, '0')}`;
      const res = await request(prefixed.getHttpServer())
        .post(callback.pathname)
        .type('form')
        .send({ MessageSid: sid, MessageStatus: 'delivered' });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: 1 } });
      await sleep(3500);
      expect(sentTo(phone.e164)).toHaveLength(1);
    } finally {
      await prefixed.close();
    }
  });
});
