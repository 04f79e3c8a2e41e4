import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { type SampleProcess, startSample } from './sample-process.js';

/**
 * Passkey autofill (conditional mediation) on the sample page in headless Chromium with a CDP
 * virtual authenticator: a signed-out page asks `navigator.credentials.get({ mediation:
 * 'conditional' })` through @simplewebauthn/browser, and picking the passkey signs in with no click.
 *
 * What headless Chromium can and cannot show: there is no autofill list to click in headless mode.
 * A virtual authenticator with `automaticPresenceSimulation` answers a conditional request at once
 * (standing for the user picking the passkey in the list); without it the request stays pending,
 * and switching presence on later does not complete a request that is already pending (checked
 * while writing this suite). So "pending" and "picked" are shown on two loads of the page.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: the passkey autofill tests need ${CHROMIUM} (apt-get install chromium).`);
const describeInChromium = hasChromium ? describe : describe.skip;
const suiteName = hasChromium
  ? 'passkey autofill on the sample page in headless Chromium'
  : `passkey autofill on the sample page in headless Chromium (SKIPPED: ${CHROMIUM} is not installed)`;

// page.evaluate() callbacks run in the page; this project type-checks with Node's types only.
declare const document: any;
declare const window: any;
declare const navigator: any;

/** One `navigator.credentials.get()` call of the page, as the init script records it. */
interface GetCall {
  mediation: string | null;
  allowCredentials: number;
  rpId: string;
  userVerification: string;
  challenge: string;
  state: string;
}

describeInChromium(suiteName, () => {
  let sample: SampleProcess;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  const email = `autofill-${randomBytes(4).toString('hex')}@example.sa`;
  const password = `Dune-${randomBytes(9).toString('base64url')}-Falcon`;

  const signedIn = () => page.locator('#signed-in').waitFor({ state: 'visible' });
  const signedOut = () => page.locator('#signed-out').waitFor({ state: 'visible' });
  const getCalls = (): Promise<GetCall[]> => page.evaluate(() => window.__webauthnGets);
  const presence = (enabled: boolean) =>
    cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });

  async function load(): Promise<void> {
    await page.goto(`${sample.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
  }

  async function signOut(): Promise<void> {
    await page.click('#sign-out');
    await signedOut();
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sample = await startSample();
    userDataDir = mkdtempSync(join(tmpdir(), 'arraf-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      viewport: { width: 900, height: 1400 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(10_000);
    // Records every WebAuthn request the page makes, its options and how it ended.
    await context.addInitScript(() => {
      const calls: unknown[] = (window.__webauthnGets = []);
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options: any) => {
        const key = options?.publicKey ?? {};
        const call = {
          mediation: options?.mediation ?? null,
          allowCredentials: (key.allowCredentials ?? []).length,
          rpId: key.rpId,
          userVerification: key.userVerification,
          challenge: key.challenge ? btoa(String.fromCharCode(...new Uint8Array(key.challenge))) : '',
          state: 'pending',
        };
        calls.push(call);
        const pending = get(options);
        pending.then(
          () => (call.state = 'resolved'),
          (error: Error) => (call.state = `rejected:${error.name}`),
        );
        return pending;
      };
    });
    page = context.pages()[0] ?? (await context.newPage());
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
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
    authenticatorId = added.authenticatorId;
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await sample?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('a signed-out page starts a conditional request for discoverable passkeys, which waits for a pick', async () => {
    await load();
    // The sign-in field is where the browser shows passkeys among its suggestions.
    expect(await page.getAttribute('#email', 'autocomplete')).toBe('username webauthn');
    // No passkey yet: the request ends without a word on the page.
    await page.waitForFunction(
      () => window.__webauthnGets.length === 1 && window.__webauthnGets[0].state !== 'pending',
    );
    expect(await page.isHidden('#error')).toBe(true);

    await page.click('#tab-sign-up');
    await page.fill('#sign-up-email', email);
    await page.fill('#sign-up-password', password);
    await page.click('#sign-up-form button[type="submit"]');
    await signedIn();
    await page.click('#passkey-add');
    await page.waitForFunction(() => document.querySelectorAll('#passkeys li[data-passkey]').length === 1);
    await signOut();

    // No one picks a passkey: the request started by the page stays pending.
    await presence(false);
    await load();
    await page.waitForFunction(() => document.body.dataset.passkeyAutofill === 'pending');
    await page.waitForFunction(() => window.__webauthnGets.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [call] = await getCalls();
    expect(call).toMatchObject({
      mediation: 'conditional',
      allowCredentials: 0,
      rpId: 'localhost',
      userVerification: 'required',
      state: 'pending',
    });
    expect(call.challenge.length).toBeGreaterThanOrEqual(43);
    expect(await page.isVisible('#signed-out')).toBe(true);
    expect(await page.isHidden('#signed-in')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'sample-passkey-autofill-pending-ar.png'), fullPage: true });
  });

  it('picking the passkey from the autofill signs in, with no click', async () => {
    await presence(true);
    await load();
    await signedIn();
    expect(await page.textContent('#profile')).toContain(email);
    const calls = await getCalls();
    // One request on this page, the conditional one, and it is what signed the user in.
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ mediation: 'conditional', state: 'resolved' });
    expect(await page.isHidden('#error')).toBe(true);
  });

  it('the passkey button still signs in while an autofill request is pending, ending that request quietly', async () => {
    await signOut();
    await presence(false);
    await load();
    await page.waitForFunction(() => document.body.dataset.passkeyAutofill === 'pending');
    await presence(true);
    await page.click('#passkey-sign-in');
    await signedIn();
    const calls = await getCalls();
    expect(calls.map((c) => [c.mediation, c.state])).toEqual([
      ['conditional', 'rejected:AbortError'],
      [null, 'resolved'],
    ]);
    expect(calls[1]).toMatchObject({ allowCredentials: 0, userVerification: 'required' });
    expect(await page.isHidden('#error')).toBe(true);
  });

  it("a sign-in another way stops the pending autofill request; the account's passkey then completes it", async () => {
    await signOut();
    await presence(false);
    await load();
    await page.waitForFunction(() => document.body.dataset.passkeyAutofill === 'pending');
    await page.click('#tab-email');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#email-form button[type="submit"]');
    // The account has a passkey: the password alone stops at the second step, which offers only the passkey.
    await page.locator('#second-step').waitFor({ state: 'visible' });
    await page.waitForFunction(() => window.__webauthnGets[0]?.state === 'rejected:AbortError');
    expect(await page.evaluate(() => document.body.dataset.passkeyAutofill)).toBe('stopped');
    expect(await page.isHidden('#signed-in')).toBe(true);
    expect(await page.isHidden('#second-step-form')).toBe(true);
    expect(await page.isVisible('#second-step-passkey')).toBe(true);
    await presence(true);
    await page.click('#second-step-passkey');
    await signedIn();
    const calls = await getCalls();
    expect(calls.map((c) => [c.mediation, c.state])).toEqual([
      ['conditional', 'rejected:AbortError'],
      [null, 'resolved'],
    ]);
    expect(await page.isHidden('#second-step')).toBe(true);
    expect(await page.isHidden('#error')).toBe(true);
  });
});
