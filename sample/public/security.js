/* global document, SimpleWebAuthnBrowser */
// The security section: an authenticator app (TOTP with its QR code), backup codes shown once,
// passkeys (add, rename, delete, sign in without a username), and the second step of a sign-in.
// The WebAuthn ceremony runs in @simplewebauthn/browser, served by the sample from node_modules.

export const SECURITY_TEXT = {
  ar: {
    securityTitle: 'الأمان',
    totpOff: 'التحقق بخطوتين غير مفعّل.',
    totpOn: 'التحقق بخطوتين مفعّل بتطبيق المصادقة.',
    totpEnable: 'فعّل تطبيق المصادقة',
    totpScan: 'امسح الرمز بتطبيق المصادقة (أو أدخل المفتاح يدويًا) ثم أدخل الرمز الذي يظهر فيه.',
    totpConfirm: 'أكّد التفعيل',
    totpEnabled: 'فُعّل التحقق بخطوتين.',
    backupTitle: 'رموز الاسترداد',
    backupHint: 'احفظها الآن في مكان آمن: لن تظهر مرة أخرى، وكل رمز يعمل مرة واحدة.',
    backupRegenerate: 'أنشئ رموز استرداد جديدة',
    passkeysTitle: 'مفاتيح المرور',
    passkeysEmpty: 'لا مفاتيح مرور بعد.',
    passkeyAdd: 'أضف مفتاح مرور',
    passkeyAdded: 'أُضيف مفتاح المرور.',
    passkeyName: 'اسم المفتاح',
    passkeyRename: 'أعد التسمية',
    passkeyDelete: 'احذف',
    passkeyDeleted: 'حُذف مفتاح المرور.',
    passkeySignIn: 'سجّل الدخول بمفتاح مرور',
    passkeyCancelled: 'أُلغيت العملية أو تعذّر استخدام مفتاح المرور.',
    secondStepTitle: 'الخطوة الثانية',
    secondStepHint: 'أدخل الرمز من تطبيق المصادقة، أو أحد رموز الاسترداد.',
    secondStepCode: 'رمز التحقق أو رمز الاسترداد',
    secondStepSubmit: 'تحقق',
    secondStepPasskey: 'استخدم مفتاح مرور',
  },
  en: {
    securityTitle: 'Security',
    totpOff: 'Two-factor authentication is off.',
    totpOn: 'Two-factor authentication is on (authenticator app).',
    totpEnable: 'Set up an authenticator app',
    totpScan: 'Scan the code with your authenticator app (or type the key), then enter the code it shows.',
    totpConfirm: 'Confirm',
    totpEnabled: 'Two-factor authentication is on.',
    backupTitle: 'Backup codes',
    backupHint: 'Save them somewhere safe now: they are shown only once, and each works once.',
    backupRegenerate: 'Create new backup codes',
    passkeysTitle: 'Passkeys',
    passkeysEmpty: 'No passkeys yet.',
    passkeyAdd: 'Add a passkey',
    passkeyAdded: 'Passkey added.',
    passkeyName: 'Passkey name',
    passkeyRename: 'Rename',
    passkeyDelete: 'Delete',
    passkeyDeleted: 'Passkey deleted.',
    passkeySignIn: 'Sign in with a passkey',
    passkeyCancelled: 'Cancelled, or the passkey could not be used.',
    secondStepTitle: 'Second step',
    secondStepHint: 'Enter the code from your authenticator app, or one of your backup codes.',
    secondStepCode: 'Authenticator or backup code',
    secondStepSubmit: 'Verify',
    secondStepPasskey: 'Use a passkey',
  },
};

/** A pending autofill request is renewed before its challenge expires on the server (five minutes). */
const AUTOFILL_RENEW_MS = 4 * 60 * 1000;

/** Wires the security section and the second sign-in step; `helpers` are app.js's. */
export function setupSecurity({
  $,
  t,
  api,
  state,
  onSubmit,
  showNotice,
  showError,
  clearMessages,
  asciiDigits,
  enterSignedIn,
}) {
  const security = { twoFactor: { enabled: false, methods: [] }, passkeys: [], backupCodes: [] };
  /** `twoFactor.enabled` says the account has a second factor (a passkey counts); `methods` which. */
  const totpOn = () => security.twoFactor.methods.includes('totp');

  function renderBackupCodes() {
    const list = $('backup-codes');
    list.replaceChildren(
      ...security.backupCodes.map((code) => {
        const item = document.createElement('li');
        item.textContent = code;
        return item;
      }),
    );
    $('backup-box').hidden = security.backupCodes.length === 0;
  }

  function renderPasskeys() {
    const list = $('passkeys');
    list.replaceChildren();
    if (security.passkeys.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'hint';
      empty.textContent = t('passkeysEmpty');
      list.append(empty);
    }
    for (const passkey of security.passkeys) {
      const item = document.createElement('li');
      item.dataset.passkey = passkey.id;
      const name = document.createElement('bdi');
      name.className = 'passkey-name';
      name.textContent = passkey.name;
      const rename = document.createElement('button');
      rename.type = 'button';
      rename.className = 'link rename';
      rename.textContent = t('passkeyRename');
      rename.addEventListener('click', () => renamePasskey(passkey));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'link delete';
      remove.textContent = t('passkeyDelete');
      remove.addEventListener('click', () => removePasskey(passkey));
      item.append(name, rename, remove);
      list.append(item);
    }
  }

  function render() {
    $('totp-status').textContent = t(totpOn() ? 'totpOn' : 'totpOff');
    $('totp-enable').hidden = totpOn();
    $('backup-regenerate').hidden = !totpOn();
    renderBackupCodes();
    renderPasskeys();
  }

  async function refresh() {
    stopPasskeyAutofill();
    const session = await api('GET', `${state.authPath}/session`);
    security.twoFactor = { enabled: false, methods: [], ...session.twoFactor };
    security.passkeys = (await api('GET', `${state.authPath}/passkeys`)).passkeys;
    render();
  }

  $('totp-enable').addEventListener('click', async () => {
    try {
      const { totpUri, qrCode, backupCodes } = await api('POST', `${state.authPath}/two-factor/enable`);
      $('totp-qr').src = qrCode;
      // For apps that cannot scan: the key typed by hand.
      $('totp-secret').textContent = new URL(totpUri).searchParams.get('secret');
      $('totp-setup').hidden = false;
      security.backupCodes = backupCodes;
      clearMessages();
      render();
    } catch (error) {
      showError(error);
    }
  });

  onSubmit($('totp-confirm-form'), async () => {
    await api('POST', `${state.authPath}/two-factor/confirm`, { code: asciiDigits($('totp-code').value.trim()) });
    $('totp-confirm-form').reset();
    await refresh();
    $('totp-setup').hidden = true;
    showNotice('totpEnabled');
  });

  $('backup-regenerate').addEventListener('click', async () => {
    try {
      security.backupCodes = (await api('POST', `${state.authPath}/two-factor/backup-codes`)).backupCodes;
      render();
    } catch (error) {
      showError(error);
    }
  });

  $('passkey-add').addEventListener('click', async () => {
    try {
      const optionsJSON = await api('POST', `${state.authPath}/passkey/register/options`);
      const response = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON });
      const name = $('passkey-name').value.trim();
      await api('POST', `${state.authPath}/passkey/register/verify`, name ? { response, name } : { response });
      $('passkey-name').value = '';
      await refresh();
      showNotice('passkeyAdded');
    } catch (error) {
      showError(error);
    }
  });

  async function renamePasskey(passkey) {
    const name = $('passkey-name').value.trim();
    if (!name) return $('passkey-name').focus();
    try {
      await api('PATCH', `${state.authPath}/passkeys/${passkey.id}`, { name });
      $('passkey-name').value = '';
      await refresh();
    } catch (error) {
      showError(error);
    }
  }

  async function removePasskey(passkey) {
    try {
      await api('DELETE', `${state.authPath}/passkeys/${passkey.id}`);
      await refresh();
      showNotice('passkeyDeleted');
    } catch (error) {
      showError(error);
    }
  }

  /** Signs in with a passkey: from the button (a modal prompt) or from the sign-in field's autofill. */
  async function passkeySignIn({ autofill = false } = {}) {
    const optionsJSON = await api('POST', `${state.authPath}/passkey/authenticate/options`);
    const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON, useBrowserAutofill: autofill });
    await api('POST', `${state.authPath}/passkey/authenticate/verify`, { response });
    await enterSignedIn('signedIn');
  }

  $('passkey-sign-in').addEventListener('click', async () => {
    try {
      // Starting this ceremony aborts a pending autofill request (@simplewebauthn's abort service).
      await passkeySignIn();
    } catch (error) {
      showError(error);
    }
  });

  /**
   * Passkey autofill (conditional mediation): the browser lists the user's passkeys in the
   * suggestions of the `autocomplete="username webauthn"` field; picking one signs in, no button.
   * Armed when the page opens signed out, renewed before its challenge (five minutes) runs out, and
   * stopped once signed in.
   */
  let autofillRun = 0;
  let autofillTimer;
  async function armPasskeyAutofill() {
    clearTimeout(autofillTimer);
    if (!(await SimpleWebAuthnBrowser.browserSupportsWebAuthnAutofill())) return;
    const run = ++autofillRun;
    const mark = (value) => run === autofillRun && (document.body.dataset.passkeyAutofill = value);
    mark('pending');
    autofillTimer = setTimeout(() => {
      if (!$('signed-out').hidden) void armPasskeyAutofill();
    }, AUTOFILL_RENEW_MS);
    try {
      await passkeySignIn({ autofill: true });
    } catch (error) {
      // Aborted (the button, a renewal, a sign-in) or nothing picked: the browser says nothing, nor do we.
      mark('stopped');
      if (error?.status) showError(error);
    }
  }

  function stopPasskeyAutofill() {
    clearTimeout(autofillTimer);
    if (document.body.dataset.passkeyAutofill !== 'pending') return;
    autofillRun += 1;
    document.body.dataset.passkeyAutofill = 'stopped';
    SimpleWebAuthnBrowser.WebAuthnAbortService.cancelCeremony();
  }

  /**
   * A first factor answered `{ twoFactorRequired, methods }`: ask for what completes it (the pending
   * cookie is httpOnly): a code when `methods` has `totp`, a passkey when it has `passkey`.
   */
  function askSecondFactor(methods = ['totp', 'backup_code']) {
    const code = methods.includes('totp');
    // The sign-in field (and its passkey suggestions) is gone: its pending request with it.
    stopPasskeyAutofill();
    $('signed-out').hidden = true;
    $('second-step').hidden = false;
    $('second-step-hint').hidden = !code;
    $('second-step-form').hidden = !code;
    $('second-step-passkey').hidden = !methods.includes('passkey');
    (code ? $('second-step-code') : $('second-step-passkey')).focus();
  }

  // The browser sends the pending cookie: a passkey of the same account completes the sign-in.
  $('second-step-passkey').addEventListener('click', async () => {
    try {
      const optionsJSON = await api('POST', `${state.authPath}/passkey/authenticate/options`);
      const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON });
      await api('POST', `${state.authPath}/passkey/authenticate/verify`, { response });
      $('second-step').hidden = true;
      await enterSignedIn('signedIn');
    } catch (error) {
      showError(error);
    }
  });

  onSubmit($('second-step-form'), async () => {
    const value = asciiDigits($('second-step-code').value.trim());
    const body = /^[0-9]{6}$/.test(value) ? { code: value } : { backupCode: value };
    await api('POST', `${state.authPath}/two-factor/verify`, body);
    $('second-step-form').reset();
    $('second-step').hidden = true;
    await enterSignedIn('signedIn');
  });

  return {
    refresh,
    render,
    askSecondFactor,
    leave() {
      $('second-step').hidden = true;
      // The page opened signed out (app.js marks it ready after this): offer passkeys in autofill.
      if (document.body.dataset.ready !== 'true') void armPasskeyAutofill();
    },
  };
}
