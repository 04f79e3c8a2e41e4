import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsoleSmsProvider } from '../../src/sms/console.sms-provider.js';
import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  type VendorRequest,
  type VendorVerdict,
} from '../../src/sms/http-sms.util.js';
import { MsegatSmsProvider } from '../../src/sms/msegat.sms-provider.js';
import type { SmsProvider } from '../../src/sms/sms-provider.interface.js';
import { TaqnyatSmsProvider } from '../../src/sms/taqnyat.sms-provider.js';
import { TwilioSmsProvider } from '../../src/sms/twilio.sms-provider.js';
import { UnifonicSmsProvider } from '../../src/sms/unifonic.sms-provider.js';

const TO = '+966551234567';
const TO_DIGITS = '966551234567';
const CODE = '482913';
// Arabic text checks that each encoding (form or JSON) carries UTF-8 intact.
const MESSAGE = `رمز التحقق لـ Arraf: ${CODE}`;
const SENDER = 'ArrafAuth';

/** One request as the fake vendor received it. */
interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake vendor's answer; `undefined` means never answer (a hung vendor). */
type Answer = { status: number; body: unknown; contentType?: string } | undefined;

interface FakeVendor {
  baseUrl: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

const servers: Server[] = [];

/** Starts a real HTTP server on 127.0.0.1 that records every request and answers with `answer(request)`. */
async function startVendor(answer: (request: SeenRequest) => Answer): Promise<FakeVendor> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const reply = answer(request);
      if (!reply) return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json; charset=utf-8' });
      res.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, seen, close: () => closeServer(server) };
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A base URL on which nothing listens: a port that was just free. */
async function refusedBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return `http://127.0.0.1:${port}`;
}

/** A form body as an object; a field sent twice shows up as an array so exact comparisons catch it. */
function formFields(body: string): Record<string, string | string[]> {
  const params = new URLSearchParams(body);
  const fields: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    fields[key] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

function jsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return `not JSON: ${body}`;
  }
}

/**
 * What each vendor documents, as a fake server enforces it. `problems` lists every way a request
 * differs from the documentation (method, path, content type, auth, field names, number format);
 * the fake answers a request with problems the way the vendor answers a bad request.
 */
interface VendorCase {
  vendor: 'Unifonic' | 'Taqnyat' | 'Msegat' | 'Twilio';
  /** The documented endpoint, the provider's default. */
  defaultUrl: string;
  secrets: string[];
  create(options: { baseUrl?: string; timeoutMs?: number; wrongCredentials?: boolean }): SmsProvider;
  authorized(request: SeenRequest): boolean;
  problems(request: SeenRequest): string[];
  success: { status: number; body: unknown; messageId: string | undefined };
  /** The vendor's documented answer to a send it refuses (bad request, no balance, bad number). */
  refusal: { status: number; body: unknown; reason: RegExp };
  /** The vendor's answer to wrong credentials. */
  unauthorized: { status: number; body: unknown; reason: RegExp };
  /** An error body that quotes the number, the text (with the code) and a credential back. */
  echoingError: (request: SeenRequest) => { status: number; body: unknown };
  requiredOptions: string[];
}

const UNIFONIC_APP_SID = 'uNiF0n1cAppSid2024xxxxxxxx';
const TAQNYAT_TOKEN = 'taqnyat-bearer-0123456789abcdef0123456789abcdef';
const MSEGAT_USER = 'arraf-user';
const MSEGAT_KEY = 'msegatApiKey0123456789abcdef0123';
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'twilioAuthToken0123456789abcdef0';
const TWILIO_FROM = '+15005550006';

const unifonic: VendorCase = {
  vendor: 'Unifonic',
  defaultUrl: 'https://el.cloud.unifonic.com/rest/SMS/messages',
  secrets: [UNIFONIC_APP_SID],
  create: ({ baseUrl, timeoutMs, wrongCredentials }) =>
    new UnifonicSmsProvider({
      appSid: wrongCredentials ? 'not-the-app-sid' : UNIFONIC_APP_SID,
      senderId: SENDER,
      baseUrl,
      timeoutMs,
    }),
  authorized: (req) => formFields(req.body).AppSid === UNIFONIC_APP_SID,
  problems: (req) => {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url !== '/rest/SMS/messages') problems.push(`path ${req.url}`);
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      problems.push(`content-type ${req.headers['content-type']}`);
    }
    if (req.headers.accept !== 'application/json') problems.push(`accept ${req.headers.accept}`);
    const fields = formFields(req.body);
    const expected = {
      AppSid: UNIFONIC_APP_SID,
      SenderID: SENDER,
      Recipient: TO_DIGITS,
      Body: MESSAGE,
      responseType: 'JSON',
    };
    if (JSON.stringify(fields) !== JSON.stringify(expected)) problems.push(`form ${JSON.stringify(fields)}`);
    return problems;
  },
  success: {
    status: 200,
    body: {
      success: true,
      message: '',
      errorCode: 'ER-00',
      data: {
        MessageID: 42000348806924,
        CorrelationID: '',
        Status: 'Sent',
        NumberOfUnits: 1,
        Cost: 0.05,
        Balance: 10,
        Recipient: TO_DIGITS,
        TimeCreated: '2024-09-06 14:06:25.979',
        CurrencyCode: 'SAR',
      },
    },
    messageId: '42000348806924',
  },
  // Unifonic reports refusals in the body, with HTTP 200.
  refusal: {
    status: 200,
    body: { success: false, message: 'Dest num is too short', errorCode: 'ER-04', data: {} },
    reason: /^Unifonic: ER-04 Dest num is too short$/,
  },
  unauthorized: {
    status: 401,
    body: { success: false, message: 'Invalid AppSid', errorCode: 'ER-01', data: {} },
    reason: /^Unifonic: HTTP 401 ER-01 Invalid AppSid$/,
  },
  echoingError: (req) => ({
    status: 200,
    body: {
      success: false,
      errorCode: 'ER-09',
      message: `Rejected ${formFields(req.body).Recipient} "${formFields(req.body).Body}" for AppSid ${UNIFONIC_APP_SID}`,
      data: {},
    },
  }),
  requiredOptions: ['appSid'],
};

const taqnyat: VendorCase = {
  vendor: 'Taqnyat',
  defaultUrl: 'https://api.taqnyat.sa/v1/messages',
  secrets: [TAQNYAT_TOKEN],
  create: ({ baseUrl, timeoutMs, wrongCredentials }) =>
    new TaqnyatSmsProvider({
      bearerToken: wrongCredentials ? 'not-the-token' : TAQNYAT_TOKEN,
      sender: SENDER,
      baseUrl,
      timeoutMs,
    }),
  authorized: (req) => req.headers.authorization === `Bearer ${TAQNYAT_TOKEN}`,
  problems: (req) => {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url !== '/v1/messages') problems.push(`path ${req.url}`);
    if (req.headers['content-type'] !== 'application/json')
      problems.push(`content-type ${req.headers['content-type']}`);
    if (req.headers.authorization !== `Bearer ${TAQNYAT_TOKEN}`) problems.push('authorization');
    const body = jsonBody(req.body);
    const expected = { recipients: [TO_DIGITS], body: MESSAGE, sender: SENDER };
    if (JSON.stringify(body) !== JSON.stringify(expected)) problems.push(`body ${JSON.stringify(body)}`);
    return problems;
  },
  success: {
    status: 201,
    body: {
      statusCode: 201,
      messageId: 5452899970,
      cost: '0.0500',
      currency: 'SAR',
      totalCount: 1,
      msgLength: 1,
      accepted: `[${TO_DIGITS},]`,
      rejected: '[]',
    },
    messageId: '5452899970',
  },
  refusal: {
    status: 400,
    body: { statusCode: 400, message: 'Sender name is not active' },
    reason: /^Taqnyat: HTTP 400 Sender name is not active$/,
  },
  unauthorized: {
    status: 401,
    body: { statusCode: 401, message: 'Unauthorized' },
    reason: /^Taqnyat: HTTP 401 Unauthorized$/,
  },
  echoingError: () => ({
    status: 400,
    body: { statusCode: 400, message: `Cannot send "${MESSAGE}" to ${TO_DIGITS} with token ${TAQNYAT_TOKEN}` },
  }),
  requiredOptions: ['bearerToken', 'sender'],
};

const msegat: VendorCase = {
  vendor: 'Msegat',
  defaultUrl: 'https://www.msegat.com/gw/sendsms.php',
  secrets: [MSEGAT_KEY],
  create: ({ baseUrl, timeoutMs, wrongCredentials }) =>
    new MsegatSmsProvider({
      userName: MSEGAT_USER,
      apiKey: wrongCredentials ? 'not-the-key' : MSEGAT_KEY,
      sender: SENDER,
      baseUrl,
      timeoutMs,
    }),
  authorized: (req) => {
    const body = jsonBody(req.body) as { userName?: unknown; apiKey?: unknown };
    return body.userName === MSEGAT_USER && body.apiKey === MSEGAT_KEY;
  },
  problems: (req) => {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url !== '/gw/sendsms.php') problems.push(`path ${req.url}`);
    if (req.headers['content-type'] !== 'application/json')
      problems.push(`content-type ${req.headers['content-type']}`);
    const body = jsonBody(req.body);
    const expected = {
      userName: MSEGAT_USER,
      numbers: TO_DIGITS,
      userSender: SENDER,
      apiKey: MSEGAT_KEY,
      msg: MESSAGE,
      msgEncoding: 'UTF8',
    };
    if (JSON.stringify(body) !== JSON.stringify(expected)) problems.push(`body ${JSON.stringify(body)}`);
    return problems;
  },
  success: { status: 200, body: { code: '1', message: 'Success' }, messageId: undefined },
  // Msegat answers HTTP 200 and puts the error code in the body.
  refusal: {
    status: 200,
    body: { code: '1060', message: 'Balance is not enough' },
    reason: /^Msegat: 1060 Balance is not enough$/,
  },
  unauthorized: {
    status: 200,
    body: { code: '1020', message: 'Invalid login info' },
    reason: /^Msegat: 1020 Invalid login info$/,
  },
  echoingError: () => ({
    status: 200,
    body: { code: '1120', message: `Mobile numbers is not correct: ${TO_DIGITS} (${MESSAGE}) apiKey=${MSEGAT_KEY}` },
  }),
  requiredOptions: ['userName', 'apiKey', 'sender'],
};

const twilioAuth = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;

const twilio: VendorCase = {
  vendor: 'Twilio',
  defaultUrl: `https://api.twilio.com/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`,
  secrets: [TWILIO_TOKEN, twilioAuth.slice('Basic '.length)],
  create: ({ baseUrl, timeoutMs, wrongCredentials }) =>
    new TwilioSmsProvider({
      accountSid: TWILIO_SID,
      authToken: wrongCredentials ? 'not-the-token' : TWILIO_TOKEN,
      from: TWILIO_FROM,
      baseUrl,
      timeoutMs,
    }),
  authorized: (req) => req.headers.authorization === twilioAuth,
  problems: (req) => {
    const problems: string[] = [];
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url !== `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`) problems.push(`path ${req.url}`);
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      problems.push(`content-type ${req.headers['content-type']}`);
    }
    if (req.headers.authorization !== twilioAuth) problems.push('authorization');
    const fields = formFields(req.body);
    const expected = { To: TO, From: TWILIO_FROM, Body: MESSAGE };
    if (JSON.stringify(fields) !== JSON.stringify(expected)) problems.push(`form ${JSON.stringify(fields)}`);
    return problems;
  },
  success: {
    status: 201,
    body: {
      account_sid: TWILIO_SID,
      api_version: '2010-04-01',
      body: MESSAGE,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: TWILIO_FROM,
      messaging_service_sid: null,
      num_segments: '1',
      sid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
      status: 'queued',
      to: TO,
      uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json`,
    },
    messageId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
  },
  refusal: {
    status: 400,
    body: {
      code: 21408,
      message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
      more_info: 'https://www.twilio.com/docs/errors/21408',
      status: 400,
    },
    reason: /^Twilio: HTTP 400 21408 Permission to send an SMS has not been enabled/,
  },
  unauthorized: {
    status: 401,
    body: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 },
    reason: /^Twilio: HTTP 401 20003 Authenticate$/,
  },
  // Twilio really does quote the number: "The 'To' number +966... is not a valid phone number."
  echoingError: () => ({
    status: 400,
    body: {
      code: 21211,
      message: `The 'To' number ${TO} is not a valid phone number. Body: ${MESSAGE}. Token ${TWILIO_TOKEN}`,
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    },
  }),
  requiredOptions: ['accountSid', 'authToken'],
};

/** Everything the providers logged, as text. */
function logged(...spies: Array<{ mock: { calls: unknown[][] } }>): string {
  return spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(' '))).join('\n');
}

function quietLogger() {
  return {
    log: jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined),
    warn: jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
    error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
  };
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(servers.splice(0).map(closeServer));
});

describe.each([unifonic, taqnyat, msegat, twilio])('$vendor SMS provider', (vc) => {
  let logs: ReturnType<typeof quietLogger>;
  beforeEach(() => {
    logs = quietLogger();
  });

  /** A fake vendor that enforces the documentation, answering `reply` to a well-formed, authorised request. */
  function documentedVendor(reply: (req: SeenRequest) => Answer) {
    return startVendor((req) => {
      if (!vc.authorized(req)) return vc.unauthorized;
      if (vc.problems(req).length > 0) return { status: 400, body: { problems: vc.problems(req) } };
      return reply(req);
    });
  }

  it(`sends one request exactly as ${vc.vendor} documents it and returns the message id`, async () => {
    const server = await documentedVendor(() => vc.success);
    const result = await vc.create({ baseUrl: server.baseUrl }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(server.seen).toHaveLength(1);
    expect(vc.problems(server.seen[0])).toEqual([]);
    expect(result).toEqual({ success: true, messageId: vc.success.messageId });
    expect(logs.error).not.toHaveBeenCalled();
  });

  it(`calls ${vc.vendor}'s documented endpoint when no baseUrl is given`, async () => {
    const fetchSpy = jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(new Response(JSON.stringify(vc.success.body), { status: vc.success.status }));
    const result = await vc.create({}).send({ to: TO, code: CODE, message: MESSAGE });

    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(fetchSpy.mock.calls[0][0]).toBe(vc.defaultUrl);
    expect(result.success).toBe(true);
  });

  it(`reports ${vc.vendor}'s refusal body as a failed send with the vendor's reason`, async () => {
    const server = await documentedVendor(() => vc.refusal);
    const result = await vc.create({ baseUrl: server.baseUrl }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(server.seen).toHaveLength(1);
    expect(result.success).toBe(false);
    expect(result.messageId).toBeUndefined();
    expect(result.error).toMatch(vc.refusal.reason);
    expect(logs.error).toHaveBeenCalledTimes(1);
    expect(logged(logs.error)).toContain('+9665****4567');
  });

  it('reports wrong credentials as a failed send', async () => {
    const server = await documentedVendor(() => vc.success);
    const result = await vc
      .create({ baseUrl: server.baseUrl, wrongCredentials: true })
      .send({ to: TO, code: CODE, message: MESSAGE });

    expect(server.seen).toHaveLength(1);
    expect(result.success).toBe(false);
    expect(result.error).toMatch(vc.unauthorized.reason);
  });

  it('reports HTTP 500 as a failed send', async () => {
    const server = await startVendor(() => ({
      status: 500,
      body: '<html><body>Internal Server Error</body></html>',
      contentType: 'text/html',
    }));
    const result = await vc.create({ baseUrl: server.baseUrl }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(server.seen).toHaveLength(1);
    expect(result).toEqual({ success: false, error: `${vc.vendor}: HTTP 500` });
  });

  it('gives up on a vendor that never answers once timeoutMs has passed', async () => {
    const server = await startVendor(() => undefined);
    const started = performance.now();
    const result = await vc
      .create({ baseUrl: server.baseUrl, timeoutMs: 200 })
      .send({ to: TO, code: CODE, message: MESSAGE });
    const elapsed = performance.now() - started;

    expect(server.seen).toHaveLength(1);
    expect(result).toEqual({ success: false, error: `${vc.vendor}: timed out after 200 ms` });
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);
  });

  it('reports a refused connection as a failed send instead of throwing', async () => {
    const result = await vc.create({ baseUrl: await refusedBaseUrl() }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(result).toEqual({ success: false, error: `${vc.vendor}: network error (ECONNREFUSED)` });
  });

  it('keeps credentials, the code and the full number out of the error and the logs', async () => {
    const server = await documentedVendor(vc.echoingError);
    const result = await vc.create({ baseUrl: server.baseUrl }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(result.success).toBe(false);
    expect(result.error).toMatch(new RegExp(`^${vc.vendor}: `));
    const text = `${result.error}\n${logged(logs.log, logs.warn, logs.error)}`;
    for (const secret of [...vc.secrets, CODE, TO_DIGITS, '551234567']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('refuses a recipient that is not E.164 without calling the vendor', async () => {
    const server = await documentedVendor(() => vc.success);
    const result = await vc
      .create({ baseUrl: server.baseUrl })
      .send({ to: '0551234567', code: CODE, message: MESSAGE });

    expect(server.seen).toHaveLength(0);
    expect(result).toEqual({ success: false, error: `${vc.vendor}: recipient is not an E.164 number` });
  });

  it.each(vc.requiredOptions)('refuses to be built without the %s option, naming it', (option) => {
    expect(() => construct(vc, optionsOf(vc, {}))).not.toThrow();
    const build = (value: unknown) => {
      const options = optionsOf(vc, { [option]: value });
      return () => construct(vc, options);
    };
    expect(build(undefined)).toThrow(new RegExp(`option "${option}"`));
    expect(build('')).toThrow(new RegExp(`option "${option}"`));
    expect(build(42)).toThrow(new RegExp(`option "${option}"`));
  });

  it('refuses a baseUrl that is not an http(s) URL and a timeoutMs that is not a positive integer', () => {
    expect(() => construct(vc, optionsOf(vc, { baseUrl: 'ftp://example.com' }))).toThrow(/option "baseUrl"/);
    expect(() => construct(vc, optionsOf(vc, { baseUrl: 'not a url' }))).toThrow(/option "baseUrl"/);
    expect(() => construct(vc, optionsOf(vc, { timeoutMs: 0 }))).toThrow(/option "timeoutMs"/);
    expect(() => construct(vc, optionsOf(vc, { timeoutMs: 1.5 }))).toThrow(/option "timeoutMs"/);
  });

  it('keeps a path prefix of baseUrl (a proxy in front of the vendor)', async () => {
    const server = await startVendor(() => vc.success);
    const result = await vc
      .create({ baseUrl: `${server.baseUrl}/egress/` })
      .send({ to: TO, code: CODE, message: MESSAGE });

    expect(result.success).toBe(true);
    expect(server.seen[0].url).toBe(`/egress${new URL(vc.defaultUrl).pathname}`);
  });
});

/** Valid constructor options of a vendor, with `overrides` applied. */
function optionsOf(vc: VendorCase, overrides: Record<string, unknown>): Record<string, unknown> {
  const valid: Record<VendorCase['vendor'], Record<string, unknown>> = {
    Unifonic: { appSid: UNIFONIC_APP_SID, senderId: SENDER },
    Taqnyat: { bearerToken: TAQNYAT_TOKEN, sender: SENDER },
    Msegat: { userName: MSEGAT_USER, apiKey: MSEGAT_KEY, sender: SENDER },
    Twilio: { accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: TWILIO_FROM },
  };
  return { ...valid[vc.vendor], ...overrides };
}

function construct(vc: VendorCase, options: Record<string, unknown>): SmsProvider {
  const classes = {
    Unifonic: UnifonicSmsProvider,
    Taqnyat: TaqnyatSmsProvider,
    Msegat: MsegatSmsProvider,
    Twilio: TwilioSmsProvider,
  } as const;
  return new (classes[vc.vendor] as new (options: unknown) => SmsProvider)(options);
}

describe('vendor specifics', () => {
  beforeEach(() => {
    quietLogger();
  });

  it('Unifonic: leaves SenderID out when no senderId is configured, so the account default applies', async () => {
    const server = await startVendor(() => unifonic.success);
    await new UnifonicSmsProvider({ appSid: UNIFONIC_APP_SID, baseUrl: server.baseUrl }).send({
      to: TO,
      code: CODE,
      message: MESSAGE,
    });

    expect(formFields(server.seen[0].body)).toEqual({
      AppSid: UNIFONIC_APP_SID,
      Recipient: TO_DIGITS,
      Body: MESSAGE,
      responseType: 'JSON',
    });
  });

  it('Unifonic: accepts success as the string "true" and treats a Rejected status as a failure', async () => {
    const data = { MessageID: 7, Status: 'Queued' };
    const answers: Answer[] = [
      { status: 200, body: { success: 'true', errorCode: 'ER-00', data } },
      { status: 200, body: { success: true, errorCode: 'ER-00', data: { ...data, Status: 'Rejected' } } },
    ];
    const server = await startVendor(() => answers.shift());
    const provider = new UnifonicSmsProvider({ appSid: UNIFONIC_APP_SID, baseUrl: server.baseUrl });

    expect(await provider.send({ to: TO, code: CODE, message: MESSAGE })).toEqual({ success: true, messageId: '7' });
    expect(await provider.send({ to: TO, code: CODE, message: MESSAGE })).toEqual({
      success: false,
      error: 'Unifonic: message rejected',
    });
  });

  it('Taqnyat: a 201 that lists the number as rejected is a failed send', async () => {
    const server = await startVendor(() => ({
      status: 201,
      body: { statusCode: 201, messageId: 1, accepted: '[]', rejected: `[${TO_DIGITS},]` },
    }));
    const result = await new TaqnyatSmsProvider({
      bearerToken: TAQNYAT_TOKEN,
      sender: SENDER,
      baseUrl: server.baseUrl,
    }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(result).toEqual({ success: false, error: 'Taqnyat: recipient rejected' });
  });

  it.each([
    [{ code: 'M0000', message: 'Success' }, true],
    [{ code: 1, message: 'Success' }, true],
    [{ code: 'M0002', message: 'Invalid login info' }, false],
    [{ message: 'no code at all' }, false],
  ])('Msegat: answers %j mean success = %s', async (body, success) => {
    const server = await startVendor(() => ({ status: 200, body }));
    const result = await new MsegatSmsProvider({
      userName: MSEGAT_USER,
      apiKey: MSEGAT_KEY,
      sender: SENDER,
      baseUrl: server.baseUrl,
    }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(result.success).toBe(success);
  });

  it('Twilio: sends MessagingServiceSid instead of From when a Messaging Service is configured', async () => {
    const server = await startVendor(() => twilio.success);
    const result = await new TwilioSmsProvider({
      accountSid: TWILIO_SID,
      authToken: TWILIO_TOKEN,
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      baseUrl: server.baseUrl,
    }).send({ to: TO, code: CODE, message: MESSAGE });

    expect(result.success).toBe(true);
    expect(server.seen[0].headers.authorization).toBe(twilioAuth);
    expect(formFields(server.seen[0].body)).toEqual({
      To: TO,
      MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      Body: MESSAGE,
    });
  });

  it('Twilio: needs exactly one of from and messagingServiceSid, and an AC… account SID', () => {
    const base = { accountSid: TWILIO_SID, authToken: TWILIO_TOKEN };
    expect(() => new TwilioSmsProvider(base)).toThrow(/exactly one of the options "from" and "messagingServiceSid"/);
    expect(() => new TwilioSmsProvider({ ...base, from: TWILIO_FROM, messagingServiceSid: 'MGx' })).toThrow(
      /exactly one/,
    );
    expect(() => new TwilioSmsProvider({ ...base, accountSid: TWILIO_TOKEN, from: TWILIO_FROM })).toThrow(
      /option "accountSid" must be an Account SID/,
    );
  });

  it('refuses to be built without an options object', () => {
    expect(() => new UnifonicSmsProvider(undefined as never)).toThrow(/UnifonicSmsProvider: options are required/);
    expect(() => new TaqnyatSmsProvider(undefined as never)).toThrow(/TaqnyatSmsProvider: options are required/);
    expect(() => new MsegatSmsProvider(undefined as never)).toThrow(/MsegatSmsProvider: options are required/);
    expect(() => new TwilioSmsProvider(undefined as never)).toThrow(/TwilioSmsProvider: options are required/);
  });

  it("an application's own HTTP vendor gets the same check from the base class", () => {
    class MyVendorSmsProvider extends HttpSmsProvider {
      constructor(options: HttpSmsProviderOptions) {
        super('MyVendor', options, 'https://sms.example.com', '/send');
      }
      protected request(): VendorRequest {
        return { headers: {}, body: '' };
      }
      protected interpret(): VendorVerdict {
        return {};
      }
      protected secrets(): readonly string[] {
        return [];
      }
    }
    expect(() => new MyVendorSmsProvider(undefined as never)).toThrow(/MyVendorSmsProvider: options are required/);
  });
});

describe('ConsoleSmsProvider', () => {
  it('logs one line with the masked number and the code through Nest Logger, never the full number', async () => {
    const logs = quietLogger();
    const result = await new ConsoleSmsProvider().send({ to: TO, code: CODE, message: MESSAGE });

    expect(result).toEqual({ success: true });
    expect(logs.log).toHaveBeenCalledTimes(1);
    const line = logged(logs.log);
    expect(line).toContain('+9665****4567');
    expect(line).toContain(CODE);
    const everything = logged(logs.log, logs.warn, logs.error);
    expect(everything).not.toContain(TO_DIGITS);
    expect(everything).not.toContain('551234567');
  });
});
