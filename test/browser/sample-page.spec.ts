import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ARRAF_AUTH_ERRORS } from '../../src/errors/error-codes.js';
import { type MockOidcProvider, startMockOidcProvider } from '../helpers/oauth-providers.js';
import { type SampleProcess, startSample } from './sample-process.js';

/**
 * The sample's sign-in page driven in headless Chromium (Debian's package, never a downloaded
 * browser) against the built sample on a temporary SQLite file. Screenshots go to test-artifacts/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  console.warn(`SKIPPED: the sample browser tests need ${CHROMIUM} (apt-get install chromium); .ci/run installs it.`);
}
const describeInChromium = hasChromium ? describe : describe.skip;
const suiteName = hasChromium
  ? 'sample sign-in page in headless Chromium'
  : `sample sign-in page in headless Chromium (SKIPPED: ${CHROMIUM} is not installed)`;

const PHONE = '0551234567';
const MASKED_PHONE = '+9665****4567';
/** The number as the development log prints it: whole, so two test numbers can be told apart. */
const E164_PHONE = '+966551234567';
const OIDC_CLIENT = { clientId: 'arraf-sample', clientSecret: randomBytes(16).toString('hex') };

type ErrorCode = keyof typeof ARRAF_AUTH_ERRORS;

// The functions passed to page.evaluate() run in the page; this project type-checks with Node's types only.
declare const document: any;
declare function getComputedStyle(element: unknown): any;

describeInChromium(suiteName, () => {
  let sample: SampleProcess;
  let provider: MockOidcProvider;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  const email = `sample-${randomBytes(4).toString('hex')}@example.sa`;
  const password = `Dune-${randomBytes(9).toString('base64url')}-Falcon`;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    provider = await startMockOidcProvider(OIDC_CLIENT);
    sample = await startSample({
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
      OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
    });
    userDataDir = mkdtempSync(join(tmpdir(), 'arraf-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 900, height: 1000 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(10_000);
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await sample?.stop();
    await provider?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `sample-${name}.png`), fullPage: true });

  /** The shown error: its code and text. */
  async function shownError(): Promise<{ code: string | undefined; text: string }> {
    const box = page.locator('#error');
    await box.waitFor({ state: 'visible' });
    return {
      code: await box.getAttribute('data-code').then((c) => c ?? undefined),
      text: (await box.textContent()) ?? '',
    };
  }

  async function expectError(code: ErrorCode, lang: 'ar' | 'en'): Promise<void> {
    await page.waitForFunction((c) => document.getElementById('error')?.dataset.code === c, code);
    expect(await shownError()).toEqual({ code, text: ARRAF_AUTH_ERRORS[code][lang] });
  }

  /** Where the text of `selector` sits inside its own box, and the box's computed direction. */
  function textPlacement(selector: string) {
    return page.evaluate((sel) => {
      const element = document.querySelector(sel)!;
      const range = document.createRange();
      range.selectNodeContents(element);
      const text = range.getBoundingClientRect();
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return {
        direction: style.direction,
        gapStart: text.left - (box.left + parseFloat(style.paddingLeft)),
        gapEnd: box.right - parseFloat(style.paddingRight) - text.right,
      };
    }, selector);
  }

  async function switchLanguage(to: 'ar' | 'en'): Promise<void> {
    await page.click('#lang-switch');
    await page.waitForFunction((lang) => document.documentElement.lang === lang, to);
  }

  it('opens in Arabic, laid out right to left, by default', async () => {
    await page.goto(`${sample.url}/`);
    await page.waitForSelector('body[data-ready="true"]');

    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'ar',
      'rtl',
    ]);
    expect(await page.textContent('h1')).toBe('تسجيل الدخول');
    const label = await textPlacement('label[for="phone"]');
    expect(label.direction).toBe('rtl');
    expect(Math.abs(label.gapEnd)).toBeLessThan(1.5); // text flush with the right edge
    expect(label.gapStart).toBeGreaterThan(100);
    // The first tab sits on the right in Arabic.
    const [phoneTab, emailTab] = await Promise.all([
      page.locator('#tab-phone').boundingBox(),
      page.locator('#tab-email').boundingBox(),
    ]);
    expect(phoneTab!.x).toBeGreaterThan(emailTab!.x);
    await screenshot('signed-out-ar');
  });

  it("shows the API's own Arabic error text, and its English text after switching language", async () => {
    await page.fill('#phone', '123');
    await page.click('#send-code');
    await expectError('INVALID_PHONE', 'ar');

    await switchLanguage('en');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('ltr');
    await expectError('INVALID_PHONE', 'en');
    const label = await textPlacement('label[for="phone"]');
    expect(label.direction).toBe('ltr');
    expect(Math.abs(label.gapStart)).toBeLessThan(1.5);
  });

  it('signs in with a phone number and the code printed in the server log', async () => {
    const from = sample.log().length;
    await page.fill('#phone', PHONE);
    await page.click('#send-code');
    await page.locator('#code-form').waitFor({ state: 'visible' });
    expect(await page.textContent('#code-sent')).toBe(`We sent a code by SMS to ${MASKED_PHONE}.`);
    // The page shows the masked number; the development log, the whole one (production masks it:
    // test/e2e/sample-app.spec.ts).
    const code = await sample.smsCode(E164_PHONE, from);

    const wrong = code.replace(/^./, (d) => String((Number(d) + 1) % 10));
    await page.fill('#code', wrong);
    await page.click('#verify-code');
    await expectError('OTP_INVALID', 'en');

    await page.fill('#code', code);
    await page.fill('#otp-name', 'Noura');
    await page.click('#verify-code');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    expect(await page.textContent('#notice')).toBe('Welcome! Your account was created.');
    expect(await page.textContent('h1')).toBe('My account');
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.textContent('[data-field="fieldPhone"] bdi')).toBe('+966551234567');
    expect(await page.textContent('[data-field="fieldName"] bdi')).toBe('Noura');
    await screenshot('phone-signed-in-en');
  });

  it('gets the signed-in user from the guarded GET /me, with the session cookie out of reach of scripts', async () => {
    const me = await page.evaluate(async () => {
      const response = await fetch('/me', { credentials: 'include' });
      return { status: response.status, body: (await response.json()) as { user: unknown } };
    });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ phone: '+966551234567', name: 'Noura', phoneVerified: true });

    const cookies = await context.cookies(sample.url);
    const session = cookies.find((c) => c.name === '__Host-auth_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('auth_session');
  });

  it('lists the sessions with this device marked and nothing to revoke', async () => {
    const rows = page.locator('#sessions li');
    await expect(rows.count()).resolves.toBe(1);
    expect(await rows.first().getAttribute('data-current')).toBe('true');
    expect(await rows.first().textContent()).toContain('This device');
    expect(await rows.first().textContent()).toContain('Chrome');
    expect(await page.isHidden('#revoke-others')).toBe(true);
  });

  it('signs out: the page returns to the sign-in forms and /me answers 401', async () => {
    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    expect(await page.textContent('#notice')).toBe('Signed out.');
    const status = await page.evaluate(() => fetch('/me', { credentials: 'include' }).then((r) => r.status));
    expect(status).toBe(401);
    expect((await context.cookies(sample.url)).some((c) => c.name.endsWith('auth_session'))).toBe(false);
  });

  it('sends the code over WhatsApp when chosen, and says which channel carried it in both languages', async () => {
    const from = sample.log().length;
    await page.fill('#phone', '0557654890');
    await page.check('input[name="channel"][value="whatsapp"]');
    await page.click('#send-code');
    await page.locator('#code-form').waitFor({ state: 'visible' });
    expect(await page.textContent('#code-sent')).toBe('We sent a code by WhatsApp to +9665****4890.');
    await sample.waitForLog(/WhatsApp to \+966557654890: code \d{6}/, from);
    await switchLanguage('ar');
    expect(await page.textContent('#channel-choice legend')).toBe('أرسل الرمز عبر');
    expect(await page.textContent('#code-sent')).toBe('أرسلنا رمزًا عبر واتساب إلى +9665****4890.');
    await switchLanguage('en');
    await page.click('#change-phone');
    await page.check('input[name="channel"][value="sms"]');
  });

  it('signs up with email and password, then signs in again after a wrong password', async () => {
    await page.click('#tab-sign-up');
    await page.fill('#sign-up-name', 'Faisal');
    await page.fill('#sign-up-email', email);
    await page.fill('#sign-up-password', password);
    await page.click('#sign-up');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    expect(await page.textContent('[data-field="fieldEmail"] bdi')).toBe(email);
    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });

    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.fill('#password', `${password}x`);
    await page.click('#email-sign-in');
    await expectError('INVALID_CREDENTIALS', 'en');

    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#email-sign-in');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    expect(await page.textContent('#notice')).toBe('Signed in.');
    expect(await page.textContent('[data-field="fieldName"] bdi')).toBe('Faisal');
  });

  it("revokes another device's session, then signs out of every other device", async () => {
    // Two more devices sign in to the same account.
    for (const agent of ['curl/8.5.0', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1']) {
      const response = await fetch(`http://127.0.0.1:${sample.port}/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': agent },
        body: JSON.stringify({ method: 'email', email, password }),
      });
      expect(response.status).toBe(200);
    }
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const rows = page.locator('#sessions li');
    await expect(rows.count()).resolves.toBe(3);
    await screenshot('sessions-en');

    await page.locator('#sessions li:not([data-current]) button').first().click();
    await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
    expect(await page.textContent('#notice')).toBe('Session revoked.');

    await page.click('#revoke-others');
    await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 1);
    expect(await page.textContent('#notice')).toBe('1 other session(s) revoked.');
    expect(await rows.first().getAttribute('data-current')).toBe('true');
    const sessions = await page.evaluate(() =>
      fetch('/auth/sessions').then((r) => r.json() as Promise<{ sessions: unknown[] }>),
    );
    expect(sessions.sessions).toHaveLength(1);
  });

  it('lays out the signed-in page right to left in Arabic', async () => {
    await switchLanguage('ar');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await page.textContent('#sign-out')).toBe('تسجيل الخروج');
    const heading = await textPlacement('#signed-in h2');
    expect(heading.direction).toBe('rtl');
    expect(Math.abs(heading.gapEnd)).toBeLessThan(1.5);
    // Profile labels (dt) sit to the right of their values (dd).
    const [label, value] = await Promise.all([
      page.locator('#profile dt').first().boundingBox(),
      page.locator('#profile dd').first().boundingBox(),
    ]);
    expect(label!.x).toBeGreaterThan(value!.x);
    // The language survives a reload.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await screenshot('signed-in-ar');
    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
  });

  it('verifies the email from the signed-in page, in Arabic, with the code from the development mail box', async () => {
    // Signed in as the email user (sign-up above), whose email is not verified yet; the page is in Arabic.
    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#email-sign-in');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await page.locator('#verify-email').waitFor({ state: 'visible' });
    expect(await page.textContent('#verify-email h2')).toBe('توثيق البريد');
    expect(await page.textContent('[data-field="fieldEmail"] .badge')).toBe('غير موثّق');

    const from = sample.log().length;
    await page.click('#verify-email-send');
    await page.locator('#verify-email-form').waitFor({ state: 'visible' });
    const code = await sample.mail(email, 'verify-email', from);
    // The outbox below the card lists the same message, in development only.
    await page.locator('#outbox').waitFor({ state: 'visible' });
    expect(await page.textContent('#outbox h2')).toBe('بريد التطوير');
    expect(await page.textContent('#outbox-list li[data-kind="verify-email"] .outbox-secret')).toBe(code);
    const outbox = await textPlacement('#outbox h2');
    expect(outbox.direction).toBe('rtl');
    await screenshot('verify-email-ar');

    await page.fill('#verify-email-code', code);
    await page.click('#verify-email-submit');
    await page.waitForFunction(() => document.getElementById('notice')?.textContent === 'وُثّق بريدك.');
    expect(await page.textContent('[data-field="fieldEmail"] .badge')).toBe('موثّق');
    expect(await page.isHidden('#verify-email')).toBe(true);
    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
  });

  it('resets a forgotten password in Arabic with the emailed code, then signs in with the new one', async () => {
    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.click('#forgot-link');
    await page.locator('#panel-forgot').waitFor({ state: 'visible' });
    expect(await page.textContent('#panel-forgot h2')).toBe('استعادة كلمة المرور');
    expect(await page.inputValue('#forgot-email')).toBe(email);
    const from = sample.log().length;
    await page.click('#send-reset');
    await page.locator('#reset-form').waitFor({ state: 'visible' });
    expect(await page.textContent('#notice')).toBe('إن كان البريد مسجلًا فقد أرسلنا إليه رمزًا.');
    const code = await sample.mail(email, 'reset-password', from);
    await page.waitForFunction(
      (c) => document.querySelector('#outbox-list li[data-kind="reset-password"] .outbox-secret')?.textContent === c,
      code,
    );
    await screenshot('reset-password-ar');

    const newPassword = `Tuwaiq-${randomBytes(6).toString('base64url')}-Asir`;
    await page.fill('#reset-code', code);
    await page.fill('#reset-password', newPassword);
    await page.click('#reset-submit');
    await page.waitForFunction(() => document.getElementById('notice')?.textContent?.startsWith('تغيّرت كلمة المرور'));
    expect(await page.isVisible('#panel-email')).toBe(true);

    await page.fill('#password', password);
    await page.click('#email-sign-in');
    await expectError('INVALID_CREDENTIALS', 'ar');
    await page.fill('#password', newPassword);
    await page.click('#email-sign-in');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
  });

  it('opens the reset screen from the emailed link and sets a password with its token', async () => {
    const from = sample.log().length;
    const response = await fetch(`http://127.0.0.1:${sample.port}/auth/forgot-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: sample.url },
      body: JSON.stringify({ method: 'email', email, mode: 'link' }),
    });
    expect(response.status).toBe(200);
    const link = await sample.mail(email, 'reset-password', from);
    await page.goto(link);
    await page.waitForSelector('body[data-ready="true"]');
    await page.locator('#reset-form').waitFor({ state: 'visible' });
    expect(await page.isHidden('#reset-code-row')).toBe(true);
    expect(page.url()).toBe(`${sample.url}/`); // the token left the address bar
    const linked = `Hasa-${randomBytes(6).toString('base64url')}-Najran`;
    await page.fill('#reset-password', linked);
    await page.click('#reset-submit');
    await page.waitForFunction(() => document.getElementById('notice')?.textContent?.startsWith('تغيّرت كلمة المرور'));
    const signIn = await fetch(`http://127.0.0.1:${sample.port}/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: sample.url },
      body: JSON.stringify({ method: 'email', email, password: linked }),
    });
    expect(signIn.status).toBe(200);
  });

  it('signs in with the OpenID Connect provider configured by OIDC_* variables', async () => {
    const button = page.locator('#provider-oidc');
    expect(await button.textContent()).toBe('المتابعة عبر OpenID Connect');
    provider.nextLogin({ sub: 'oidc-user-1', email: 'oidc.user@example.sa', email_verified: true, name: 'Huda' });
    await button.click();
    await page.waitForURL(`${sample.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    expect(await page.textContent('[data-field="fieldEmail"] bdi')).toBe('oidc.user@example.sa');
    expect(await page.textContent('[data-field="fieldName"] bdi')).toBe('Huda');
    const authorize = provider.authorizeRequests.at(-1)!;
    expect(authorize.get('redirect_uri')).toBe(`${sample.url}/auth/callback/oidc`);
    expect(authorize.get('code_challenge_method')).toBe('S256');
    await screenshot('oidc-signed-in-ar');
  });
});
