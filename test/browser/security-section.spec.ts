import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { ARRAF_AUTH_ERRORS } from '../../src/errors/error-codes.js';
import { type SampleProcess, startSample } from './sample-process.js';

/**
 * The sample page's security section in headless Chromium with a CDP virtual authenticator
 * (WebAuthn.addVirtualAuthenticator): TOTP with its QR code, backup codes shown once, passkeys added,
 * renamed, deleted and used to sign in; a wrong origin and a cloned credential are refused.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: the security section tests need ${CHROMIUM} (apt-get install chromium).`);
const describeInChromium = hasChromium ? describe : describe.skip;
const suiteName = hasChromium
  ? 'sample security section in headless Chromium'
  : `sample security section in headless Chromium (SKIPPED: ${CHROMIUM} is not installed)`;

// page.evaluate() callbacks run in the page; this project type-checks with Node's types only.
declare const document: any;
declare const SimpleWebAuthnBrowser: any;

interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  privateKey: string;
  userHandle: string;
  signCount: number;
}

describeInChromium(suiteName, () => {
  let sample: SampleProcess;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let totp: TOTP;
  let backupCodes: string[] = [];
  let otherOrigin: Server;
  const email = `security-${randomBytes(4).toString('hex')}@example.sa`;
  const password = `Dune-${randomBytes(9).toString('base64url')}-Falcon`;

  const screenshot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `sample-security-${name}.png`), fullPage: true });

  async function addAuthenticator(): Promise<string> {
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return added.authenticatorId;
  }

  async function expectError(code: keyof typeof ARRAF_AUTH_ERRORS): Promise<void> {
    await page.waitForFunction((c) => document.getElementById('error')?.dataset.code === c, code);
  }

  const signedIn = () => page.locator('#signed-in').waitFor({ state: 'visible' });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sample = await startSample();
    // Another origin on the same host name (the RP ID `localhost` is valid there): a page an attacker runs.
    otherOrigin = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><script src="${sample.url}/vendor/simplewebauthn/index.umd.min.js"></script>`);
    });
    await new Promise<void>((resolve) => otherOrigin.listen(0, '127.0.0.1', resolve));
    userDataDir = mkdtempSync(join(tmpdir(), 'arraf-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      viewport: { width: 900, height: 1400 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(10_000);
    page = context.pages()[0] ?? (await context.newPage());
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    authenticatorId = await addAuthenticator();
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await sample?.stop();
    await new Promise((resolve) => otherOrigin?.close(resolve));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('enables TOTP with the QR code and shows the backup codes once (Arabic, right to left)', async () => {
    await page.goto(`${sample.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#tab-sign-up');
    await page.fill('#sign-up-email', email);
    await page.fill('#sign-up-password', password);
    await page.click('#sign-up-form button[type="submit"]');
    await signedIn();
    expect(await page.textContent('#security-title')).toBe('الأمان');
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');

    await page.click('#totp-enable');
    await page.waitForFunction(() => document.getElementById('totp-qr')?.src.startsWith('data:image/png;base64,'));
    expect(await page.evaluate(() => document.getElementById('totp-qr').naturalWidth)).toBeGreaterThan(100);
    expect(await page.locator('#backup-codes li').count()).toBe(10);
    backupCodes = await page.locator('#backup-codes li').allTextContents();
    for (const code of backupCodes) expect(code).toMatch(/^[0-9]{6}-[0-9]{6}-[0-9]{6}$/);
    const secret = (await page.textContent('#totp-secret'))!;
    totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await screenshot('totp-setup-ar');

    await page.fill('#totp-code', totp.generate());
    await page.click('#totp-confirm');
    await page.waitForFunction(() => document.getElementById('totp-setup').hidden === true);
    await page.waitForFunction(() => document.getElementById('notice')?.hidden === false);
    expect(await page.textContent('#totp-status')).toBe('التحقق بخطوتين مفعّل بتطبيق المصادقة.');

    // Shown once: a reload shows no backup codes.
    await page.reload();
    await signedIn();
    expect(await page.locator('#backup-codes li').count()).toBe(0);
    expect(await page.isHidden('#backup-box')).toBe(true);
  });

  it('adds, renames and lists a passkey, then signs in with it without a username', async () => {
    await page.fill('#passkey-name', 'حاسوب العمل');
    await page.click('#passkey-add');
    await page.waitForFunction(() => document.querySelectorAll('#passkeys li[data-passkey]').length === 1);
    expect(await page.textContent('#passkeys .passkey-name')).toBe('حاسوب العمل');
    await page.fill('#passkey-name', 'Work laptop');
    await page.click('#passkeys .rename');
    await page.waitForFunction(() => document.querySelector('#passkeys .passkey-name')?.textContent === 'Work laptop');
    await page.click('#lang-switch');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('#security-title')).toBe('Security');
    await screenshot('passkeys-en');
    await page.click('#lang-switch');

    await page.click('#sign-out');
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    await page.click('#passkey-sign-in');
    await signedIn();
    expect(await page.textContent('#profile')).toContain(email);
    await screenshot('passkey-signed-in-ar');
  });

  it('a password sign-in asks for the second step; the authenticator code completes it', async () => {
    await page.click('#sign-out');
    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#email-form button[type="submit"]');
    await page.locator('#second-step').waitFor({ state: 'visible' });
    // TOTP and a passkey: the code form and the passkey button are both offered.
    expect(await page.isVisible('#second-step-form')).toBe(true);
    expect(await page.isVisible('#second-step-passkey')).toBe(true);
    await screenshot('second-step-ar');
    await page.fill('#second-step-code', totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.click('#second-step-submit');
    await signedIn();
  });

  it('refuses an assertion made on another origin, even for the same RP ID', async () => {
    const options = await (
      await fetch(`${sample.url}/auth/passkey/authenticate/options`, {
        method: 'POST',
        headers: { Origin: sample.url },
      })
    ).json();
    const port = (otherOrigin.address() as AddressInfo).port;
    await page.goto(`http://localhost:${port}/`);
    await page.waitForFunction(() => typeof SimpleWebAuthnBrowser !== 'undefined');
    const response = await page.evaluate(
      (optionsJSON) => SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
      options,
    );
    expect(JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString()).origin).toBe(
      `http://localhost:${port}`,
    );
    const verify = await fetch(`${sample.url}/auth/passkey/authenticate/verify`, {
      method: 'POST',
      headers: { Origin: sample.url, 'Content-Type': 'application/json' },
      body: JSON.stringify({ response }),
    });
    expect(verify.status).toBe(400);
    expect(((await verify.json()) as { error: { code: string } }).error.code).toBe('PASSKEY_INVALID');
    expect(verify.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a cloned credential whose signature counter is behind', async () => {
    const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as {
      credentials: VirtualCredential[];
    };
    expect(credentials).toHaveLength(1);
    expect(credentials[0].signCount).toBeGreaterThan(1);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const clone = await addAuthenticator();
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId: clone,
      credential: { ...credentials[0], signCount: 0 },
    });

    await page.goto(`${sample.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    if (await page.isVisible('#sign-out')) {
      await page.click('#sign-out');
      await page.locator('#signed-out').waitFor({ state: 'visible' });
    }
    await page.click('#passkey-sign-in');
    await expectError('PASSKEY_INVALID');
    expect(await page.isHidden('#signed-in')).toBe(true);
  });

  it('signs in with a backup code and deletes the passkey (fresh session)', async () => {
    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#email-form button[type="submit"]');
    await page.locator('#second-step').waitFor({ state: 'visible' });
    // Typed in groups of three with spaces (23 characters): the field takes it whole, the server ignores the spaces.
    const spaced = backupCodes[0].replace(/-/g, '').replace(/(\d{3})(?=\d)/g, '$1 ');
    await page.fill('#second-step-code', spaced);
    expect(await page.inputValue('#second-step-code')).toBe(spaced);
    await page.click('#second-step-submit');
    await signedIn();
    await page.waitForFunction(() => document.querySelectorAll('#passkeys li[data-passkey]').length === 1);
    await page.click('#passkeys .delete');
    await page.waitForFunction(() => document.querySelectorAll('#passkeys li[data-passkey]').length === 0);
    await screenshot('security-ar');
  });
});
