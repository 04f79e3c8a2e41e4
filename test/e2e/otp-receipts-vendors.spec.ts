import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import { deriveKey, hmacSha256 } from '../../src/crypto/crypto.util.js';
import type { SmsProvider } from '../../src/sms/sms-provider.interface.js';
import { TaqnyatSmsProvider } from '../../src/sms/taqnyat.sms-provider.js';
import { UnifonicSmsProvider } from '../../src/sms/unifonic.sms-provider.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { expectError, saudiMobile, uniqueIp } from './otp.helpers.js';
import { type FakeVendor, formFields, jsonBody, type SeenRequest, startVendor } from './vendor-fake.helpers.js';

// Unifonic and Taqnyat take one delivery webhook per account, set in their console, so the receipt
// URL carries the provider's own secret `whatsapp.receiptToken`. Each vendor's fake answers its SMS
// and WhatsApp sends the documented way; the tests post the delivery reports each vendor documents.

const RECEIPT_TOKEN = randomBytes(32).toString('hex');
const TEMPLATE = 'arraf_otp';

interface Sent {
  channel: 'sms' | 'whatsapp';
  to: string;
  code: string;
}

interface VendorCase {
  vendor: string;
  create(baseUrl: string, receiptToken?: string): SmsProvider;
  /** The fake's answer, and what the request sent (channel, E.164 recipient, code). */
  answer(request: SeenRequest, count: number): { status: number; body: unknown };
  read(request: SeenRequest): Sent;
  /** The vendor's delivery report for `messageId`: delivered, refused, or an interim status. */
  report(messageId: string, to: string, outcome: 'delivered' | 'refused' | 'interim'): object;
}

/** The code in a WhatsApp authentication template (the body's first parameter). */
function templateCode(template: { components?: { parameters?: { text?: string }[] }[] }): string {
  return String(template.components?.[0]?.parameters?.[0]?.text);
}

const unifonic: VendorCase = {
  vendor: 'Unifonic',
  create: (baseUrl, receiptToken) =>
    new UnifonicSmsProvider({
      appSid: 'uNiF0n1cAppSid2024xxxxxxxx',
      baseUrl,
      whatsapp: {
        publicId: 'public-id',
        secret: 'unifonicSecret0123456789',
        templateName: TEMPLATE,
        baseUrl,
        receiptToken,
      },
    }),
  answer: (req, count) =>
    req.url === '/v1/messages'
      ? { status: 200, body: { id: `b322a549-0b12-48e8-${count}`, status: 'queued' } }
      : {
          status: 200,
          body: { success: true, message: '', errorCode: 'ER-00', data: { MessageID: count, Status: 'Sent' } },
        },
  read(req) {
    if (req.url === '/v1/messages') {
      const body = jsonBody(req.body) as {
        recipient: { contact: string };
        content: Parameters<typeof templateCode>[0];
      };
      return { channel: 'whatsapp', to: body.recipient.contact, code: templateCode(body.content) };
    }
    const form = formFields(req.body);
    return { channel: 'sms', to: `+${String(form.Recipient)}`, code: /\d{6}/.exec(String(form.Body))?.[0] ?? '' };
  },
  // https://docs.unifonic.com/docs/message-delivery-status
  report: (messageId, to, outcome) => ({
    messageId,
    eventId: '34aa2adc-c166-4d1e-8348-c67b3e1f90e9',
    eventType: { delivered: 'message.delivered', refused: 'message.rejected', interim: 'message.sent' }[outcome],
    applicationId: '7d0dd3we-2da0-4a1b-82a1-6d1e3f0af019',
    conversationId: 'dc223gs5-1230-4701-9a3b-5c1d38a0dl6',
    recipient: { channel: 'whatsapp', contact: to },
    timestamp: '2026-05-02T11:36:51.000Z',
    receivedAt: '2026-05-02T11:36:51.626Z',
  }),
};

const taqnyat: VendorCase = {
  vendor: 'Taqnyat',
  create: (baseUrl, receiptToken) =>
    new TaqnyatSmsProvider({
      bearerToken: 'taqnyat-bearer-0123456789abcdef',
      sender: 'Arraf',
      baseUrl,
      whatsapp: { templateName: TEMPLATE, receiptToken },
    }),
  answer: (req, count) =>
    req.url === '/wa/v2/messages/'
      ? { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: `wamid.HBgM${count}` }] } }
      : { status: 201, body: { statusCode: 201, messageId: count, accepted: '[]', rejected: '[]' } },
  read(req) {
    if (req.url === '/wa/v2/messages/') {
      const body = jsonBody(req.body) as { to: string; template: Parameters<typeof templateCode>[0] };
      return { channel: 'whatsapp', to: `+${body.to}`, code: templateCode(body.template) };
    }
    const body = jsonBody(req.body) as { recipients: string[]; body: string };
    return { channel: 'sms', to: `+${body.recipients[0]}`, code: /\d{6}/.exec(body.body)?.[0] ?? '' };
  },
  // WhatsApp statuses as Taqnyat relays them, in Meta's Cloud API envelope (https://dev.taqnyat.sa/en/doc/whatsapp/)
  report: (messageId, to, outcome) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1314702302917944',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '966920000000', phone_number_id: '590968830767958' },
              statuses: [
                {
                  id: messageId,
                  status: { delivered: 'delivered', refused: 'failed', interim: 'sent' }[outcome],
                  timestamp: '1750857384',
                  recipient_id: to.slice(1),
                },
              ],
            },
          },
        ],
      },
    ],
  }),
};

const db = testDatabases()[0];
let database: Awaited<ReturnType<typeof db.create>>;

beforeAll(async () => {
  database = await db.create();
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});

afterAll(async () => {
  await database?.drop();
  jest.restoreAllMocks();
});

describe.each([unifonic, taqnyat])('$vendor delivery reports (whatsapp.receiptToken)', (vendor) => {
  let fake: FakeVendor;
  let app: INestApplication;
  const messageIds: string[] = [];

  beforeAll(async () => {
    fake = await startVendor((req) => {
      const answer = vendor.answer(req, fake.seen.length);
      const body = answer.body as { id?: string; messages?: { id: string }[] };
      const id = body.id ?? body.messages?.[0]?.id;
      if (id) messageIds.push(id);
      return answer;
    });
    // No appUrl: the vendor's console holds the URL, the module never hands one out.
    ({ app } = await createOtpTestApp({
      database: database.options,
      smsVia: 'option',
      globalPrefix: 'api',
      auth: {
        sms: vendor.create(fake.baseUrl, RECEIPT_TOKEN),
        otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 3 },
      },
    }));
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const sentTo = (e164: string) => fake.seen.map((r) => vendor.read(r)).filter((s) => s.to === e164);

  /** Sends a code to a new number over WhatsApp; returns the number, the code and the vendor's message id. */
  async function sendCode() {
    const phone = saudiMobile();
    const ip = uniqueIp();
    const res = await request(app.getHttpServer())
      .post('/api/auth/otp/send')
      .set('X-Forwarded-For', ip)
      .send({ method: 'phone', phone: phone.local });
    expect({ status: res.status, channel: res.body.channel }).toEqual({ status: 200, channel: 'whatsapp' });
    const [whatsapp] = sentTo(phone.e164);
    expect(whatsapp.channel).toBe('whatsapp');
    return { phone, ip, code: whatsapp.code, messageId: messageIds[messageIds.length - 1] };
  }

  function postReport(report: object, token = RECEIPT_TOKEN) {
    return request(app.getHttpServer())
      .post(`/api/auth/otp/receipts/${token}`)
      .set('X-Forwarded-For', uniqueIp())
      .send(report);
  }

  it('sends the same code by SMS once when no delivery report comes in time, and that code signs in', async () => {
    const { phone, ip, code } = await sendCode();
    await sleep(3500);
    expect(sentTo(phone.e164)).toEqual([
      { channel: 'whatsapp', to: phone.e164, code },
      { channel: 'sms', to: phone.e164, code },
    ]);
    const verified = await request(app.getHttpServer())
      .post('/api/auth/otp/verify')
      .set('X-Forwarded-For', ip)
      .send({ method: 'phone', phone: phone.local, otp: code });
    expect(verified.status).toBe(200);
  });

  it('sends nothing more once the vendor reports the WhatsApp message delivered', async () => {
    const { phone, messageId } = await sendCode();
    const res = await postReport(vendor.report(messageId, phone.e164, 'delivered'));
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: 1 } });
    await sleep(3500);
    expect(sentTo(phone.e164)).toHaveLength(1);
  });

  it('falls back at once when the vendor reports the WhatsApp message refused', async () => {
    const { phone, code, messageId } = await sendCode();
    const res = await postReport(vendor.report(messageId, phone.e164, 'refused'));
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { received: 1 } });
    expect(sentTo(phone.e164).map((s) => [s.channel, s.code])).toEqual([
      ['whatsapp', code],
      ['sms', code],
    ]);
  });

  it('refuses a delivered report under a wrong token (404) and reads no interim status, so the fallback still comes', async () => {
    const { phone, messageId } = await sendCode();
    const delivered = vendor.report(messageId, phone.e164, 'delivered');
    expectError(await postReport(delivered, randomBytes(32).toString('hex')), 404, 'NOT_FOUND');
    // The token a module derives from its secret opens nothing once the provider has its own.
    const derived = hmacSha256(deriveKey(TEST_SECRET, 'otp-receipt-url'), 'otp-receipts');
    expectError(await postReport(delivered, derived), 404, 'NOT_FOUND');
    const interim = await postReport(vendor.report(messageId, phone.e164, 'interim'));
    expect({ status: interim.status, body: interim.body }).toEqual({ status: 200, body: { received: 0 } });
    await sleep(3500);
    expect(sentTo(phone.e164).map((s) => s.channel)).toEqual(['whatsapp', 'sms']);
  });
});

describe('whatsapp.receiptToken at boot', () => {
  it.each([
    ['Unifonic', (token: string) => unifonic.create('http://127.0.0.1:9', token)],
    ['Taqnyat', (token: string) => taqnyat.create('http://127.0.0.1:9', token)],
  ])('%s refuses a guessable receipt token', (_vendor, create) => {
    expect(() => create('short')).toThrow(/"whatsapp\.receiptToken" must be 32 to 128 letters/);
    expect(() => create(`${'a'.repeat(40)}/../`)).toThrow(/whatsapp\.receiptToken/);
  });

  it('otp.fallbackAfter with Unifonic needs whatsapp.receiptToken', async () => {
    await expect(
      createOtpTestApp({
        database: database.options,
        smsVia: 'option',
        auth: {
          appUrl: 'https://app.example.sa',
          sms: unifonic.create('http://127.0.0.1:9'),
          otp: { channels: ['whatsapp', 'sms'], fallbackAfter: 30 },
        },
      }),
    ).rejects.toThrow(/otp\.fallbackAfter: the SMS provider reads no delivery receipts.*whatsapp\.receiptToken/);
  });

  it('a provider without receipts still answers 404 on the receipt route', async () => {
    const { app } = await createOtpTestApp({ database: database.options });
    try {
      expectError(
        await request(app.getHttpServer()).post(`/auth/otp/receipts/${RECEIPT_TOKEN}`).send({}),
        404,
        'NOT_FOUND',
      );
    } finally {
      await app.close();
    }
  });
});
