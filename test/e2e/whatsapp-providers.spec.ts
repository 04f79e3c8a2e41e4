import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { SmsProvider } from '../../src/sms/sms-provider.interface.js';
import { TaqnyatSmsProvider } from '../../src/sms/taqnyat.sms-provider.js';
import { TwilioSmsProvider } from '../../src/sms/twilio.sms-provider.js';
import { UnifonicSmsProvider } from '../../src/sms/unifonic.sms-provider.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { otpClient, saudiMobile } from './otp.helpers.js';
import { type FakeVendor, formFields, jsonBody, type SeenRequest, startVendor } from './vendor-fake.helpers.js';

const TO = '+966551234567';
const CODE = '482913';
const MESSAGE = `رمز التحقق: ${CODE}`;
const TEMPLATE = 'arraf_otp';
const TAQNYAT_TOKEN = 'taqnyat-bearer-0123456789abcdef0123456789abcdef';
const UNIFONIC_PUBLIC = 'unifonic-public-id-0123';
const UNIFONIC_SECRET = 'unifonicSecret0123456789abcdefXYZ';
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'twilioAuthToken0123456789abcdef0';
const TWILIO_WA_FROM = '+14155238886';

/** Meta's authentication-template parameters: the code in the body and on the copy-code button. */
const AUTH_COMPONENTS = [
  { type: 'body', parameters: [{ type: 'text', text: CODE }] },
  { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: CODE }] },
];

/**
 * Each vendor's documented WhatsApp request, as its fake checks it: `problems` lists every way a
 * request differs (method, path, content type, credentials, fields), and the fake refuses such a
 * request the way the vendor does.
 */
interface WhatsAppCase {
  vendor: string;
  create(baseUrl: string, timeoutMs?: number): SmsProvider;
  createSmsOnly(baseUrl: string): SmsProvider;
  problems(request: SeenRequest, locale: 'ar' | 'en'): string[];
  success: { status: number; body: unknown; messageId: string };
  refusal: { status: number; body: unknown };
  secrets: string[];
}

function expectExact(problems: string[], label: string, actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    problems.push(`${label}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
}

const taqnyat: WhatsAppCase = {
  vendor: 'Taqnyat',
  create: (baseUrl, timeoutMs) =>
    new TaqnyatSmsProvider({
      bearerToken: TAQNYAT_TOKEN,
      sender: 'Arraf',
      baseUrl,
      timeoutMs,
      whatsapp: { templateName: TEMPLATE, languages: { ar: 'ar', en: 'en_US' } },
    }),
  createSmsOnly: (baseUrl) => new TaqnyatSmsProvider({ bearerToken: TAQNYAT_TOKEN, sender: 'Arraf', baseUrl }),
  problems(request, locale) {
    const problems: string[] = [];
    expectExact(problems, 'method and path', `${request.method} ${request.url}`, 'POST /wa/v2/messages/');
    expectExact(problems, 'authorization', request.headers.authorization, `Bearer ${TAQNYAT_TOKEN}`);
    expectExact(problems, 'content type', request.headers['content-type'], 'application/json');
    expectExact(problems, 'body', jsonBody(request.body), {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: TO.slice(1),
      type: 'template',
      template: { name: TEMPLATE, language: { code: locale === 'en' ? 'en_US' : 'ar' }, components: AUTH_COMPONENTS },
    });
    return problems;
  },
  success: {
    status: 200,
    body: { messaging_product: 'whatsapp', contacts: [{ wa_id: TO.slice(1) }], messages: [{ id: 'wamid.HBgM' }] },
    messageId: 'wamid.HBgM',
  },
  refusal: {
    status: 400,
    body: { error: { code: 132001, message: 'Template name does not exist in the translation' } },
  },
  secrets: [TAQNYAT_TOKEN],
};

const unifonic: WhatsAppCase = {
  vendor: 'Unifonic',
  create: (baseUrl, timeoutMs) =>
    new UnifonicSmsProvider({
      appSid: 'uNiF0n1cAppSid2024xxxxxxxx',
      baseUrl,
      timeoutMs,
      whatsapp: { publicId: UNIFONIC_PUBLIC, secret: UNIFONIC_SECRET, templateName: TEMPLATE, baseUrl },
    }),
  createSmsOnly: (baseUrl) => new UnifonicSmsProvider({ appSid: 'uNiF0n1cAppSid2024xxxxxxxx', baseUrl }),
  problems(request, locale) {
    const problems: string[] = [];
    expectExact(problems, 'method and path', `${request.method} ${request.url}`, 'POST /v1/messages');
    expectExact(problems, 'PublicId', request.headers.publicid, UNIFONIC_PUBLIC);
    expectExact(problems, 'Secret', request.headers.secret, UNIFONIC_SECRET);
    expectExact(problems, 'content type', request.headers['content-type'], 'application/json');
    expectExact(problems, 'body', jsonBody(request.body), {
      recipient: { contact: TO, channel: 'whatsapp' },
      content: { type: 'template', name: TEMPLATE, language: { code: locale }, components: AUTH_COMPONENTS },
    });
    return problems;
  },
  success: { status: 200, body: { id: 'a1b2c3d4-unifonic', status: 'queued' }, messageId: 'a1b2c3d4-unifonic' },
  refusal: { status: 400, body: { code: 'InvalidTemplate', message: 'Template not found' } },
  secrets: [UNIFONIC_SECRET],
};

const twilio: WhatsAppCase = {
  vendor: 'Twilio',
  create: (baseUrl, timeoutMs) =>
    new TwilioSmsProvider({
      accountSid: TWILIO_SID,
      authToken: TWILIO_TOKEN,
      from: '+15005550006',
      baseUrl,
      timeoutMs,
      whatsapp: { from: TWILIO_WA_FROM, contentSid: { ar: 'HXarabic000', en: 'HXenglish000' } },
    }),
  createSmsOnly: (baseUrl) =>
    new TwilioSmsProvider({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: '+15005550006', baseUrl }),
  problems(request, locale) {
    const problems: string[] = [];
    const basic = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
    expectExact(
      problems,
      'method and path',
      `${request.method} ${request.url}`,
      `POST /2010-04-01/Accounts/${TWILIO_SID}/Messages.json`,
    );
    expectExact(problems, 'authorization', request.headers.authorization, basic);
    expectExact(problems, 'content type', request.headers['content-type'], 'application/x-www-form-urlencoded');
    expectExact(problems, 'form', formFields(request.body), {
      To: `whatsapp:${TO}`,
      From: `whatsapp:${TWILIO_WA_FROM}`,
      ContentSid: locale === 'en' ? 'HXenglish000' : 'HXarabic000',
      ContentVariables: JSON.stringify({ 1: CODE }),
    });
    return problems;
  },
  success: {
    status: 201,
    body: { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' },
    messageId: 'SM0123456789abcdef0123456789abcdef',
  },
  refusal: { status: 400, body: { code: 63016, message: 'Failed to send freeform message outside the window' } },
  secrets: [TWILIO_TOKEN],
};

describe.each([taqnyat, unifonic, twilio])('$vendor WhatsApp channel', (vc) => {
  let vendor: FakeVendor;
  let locale: 'ar' | 'en' = 'ar';

  beforeAll(async () => {
    vendor = await startVendor((request) =>
      vc.problems(request, locale).length === 0 ? vc.success : { status: 400, body: { message: 'bad request' } },
    );
  });

  afterEach(() => {
    vendor.seen.length = 0;
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await vendor.close();
  });

  it.each(['ar', 'en'] as const)('sends the %s authentication template exactly as documented', async (lang) => {
    locale = lang;
    const result = await vc
      .create(vendor.baseUrl)
      .send({ to: TO, code: CODE, message: MESSAGE, channel: 'whatsapp', locale: lang });
    expect(vendor.seen).toHaveLength(1);
    expect(vc.problems(vendor.seen[0], lang)).toEqual([]);
    expect(result).toEqual({ success: true, messageId: vc.success.messageId });
  });

  it('declares WhatsApp only when configured, and an SMS-only one refuses a WhatsApp send without calling', async () => {
    expect(vc.create(vendor.baseUrl).channels).toEqual(['sms', 'whatsapp']);
    const smsOnly = vc.createSmsOnly(vendor.baseUrl);
    expect(smsOnly.channels).toEqual(['sms']);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const result = await smsOnly.send({ to: TO, code: CODE, message: MESSAGE, channel: 'whatsapp' });
    expect(result.success).toBe(false);
    expect(vendor.seen).toHaveLength(0);
  });

  it("reports the vendor's refusal as a failed send, without the code or the credentials", async () => {
    const refusing = await startVendor(() => vc.refusal);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const result = await vc
      .create(refusing.baseUrl)
      .send({ to: TO, code: CODE, message: MESSAGE, channel: 'whatsapp' })
      .finally(() => refusing.close());
    expect(result.success).toBe(false);
    expect(result.error).toMatch(new RegExp(`^${vc.vendor} WhatsApp: HTTP 400`));
    const logged = error.mock.calls.map(([line]) => String(line)).join('\n');
    for (const secret of [...vc.secrets, CODE, '966551234567']) {
      expect(result.error ?? '').not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
  });

  it('gives up after timeoutMs on a vendor that never answers', async () => {
    const hung = await startVendor(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const result = await vc
        .create(hung.baseUrl, 200)
        .send({ to: TO, code: CODE, message: MESSAGE, channel: 'whatsapp' });
      expect(result).toEqual({ success: false, error: `${vc.vendor} WhatsApp: timed out after 200 ms` });
    } finally {
      await hung.close();
    }
  });
});

describe('fallback through POST /auth/otp/send with a real vendor provider', () => {
  const db = testDatabases()[0];
  let database: Awaited<ReturnType<typeof db.create>>;

  beforeAll(async () => {
    database = await db.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('sends the same code by SMS when the WhatsApp API times out, and that code signs in', async () => {
    // WhatsApp hangs; SMS answers as Taqnyat documents.
    const vendor = await startVendor((request) =>
      request.url.startsWith('/wa/')
        ? undefined
        : { status: 201, body: { statusCode: 201, messageId: 7001, accepted: '[966…]', rejected: '[]' } },
    );
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const provider = new TaqnyatSmsProvider({
      bearerToken: TAQNYAT_TOKEN,
      sender: 'Arraf',
      baseUrl: vendor.baseUrl,
      timeoutMs: 300,
      whatsapp: { templateName: TEMPLATE },
    });
    const { app } = await createOtpTestApp({
      database: database.options,
      smsVia: 'option',
      auth: { sms: provider, otp: { channels: ['whatsapp', 'sms'] } },
    });
    try {
      const phone = saudiMobile();
      const client = otpClient(app);
      const res = await client.send(phone.local);
      expect({ status: res.status, channel: res.body.channel }).toEqual({ status: 200, channel: 'sms' });
      expect(vendor.seen.map((r) => r.url)).toEqual(['/wa/v2/messages/', '/v1/messages']);
      const whatsappCode = (
        jsonBody(vendor.seen[0].body) as { template: { components: { parameters: { text: string }[] }[] } }
      ).template.components[0].parameters[0].text;
      const smsText = (jsonBody(vendor.seen[1].body) as { body: string }).body;
      expect(smsText).toContain(whatsappCode);
      expect((await client.verify(phone.local, whatsappCode)).status).toBe(200);
    } finally {
      await app.close();
      await vendor.close();
    }
  });
});
