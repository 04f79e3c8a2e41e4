/* global document, history, location */
// Forgot/reset password, email verification and, in development, the mail outbox: the sample's screens
// for the emails the library asks the application to send (callbacks.onForgotPassword / onVerifyEmail).

export const RECOVERY_TEXT = {
  ar: {
    forgotLink: 'نسيت كلمة المرور؟',
    forgotTitle: 'استعادة كلمة المرور',
    forgotHint: 'أدخل بريدك وسنرسل إليه رمزًا لتعيين كلمة مرور جديدة.',
    sendResetCode: 'أرسل رمز الاستعادة',
    resetSent: 'إن كان البريد مسجلًا فقد أرسلنا إليه رمزًا.',
    resetCode: 'رمز الاستعادة',
    resetNewPassword: 'كلمة المرور الجديدة',
    resetSubmit: 'عيّن كلمة المرور',
    resetDone: 'تغيّرت كلمة المرور. سجّل الدخول بها؛ أُنهيت كل الجلسات.',
    backToSignIn: 'العودة لتسجيل الدخول',
    verifyEmailTitle: 'توثيق البريد',
    verifyEmailSend: 'أرسل رمز التوثيق',
    verifyEmailSent: 'أرسلنا رمزًا إلى بريدك.',
    verifyEmailCode: 'رمز التوثيق',
    verifyEmailSubmit: 'وثّق البريد',
    emailVerified: 'وُثّق بريدك.',
    outboxTitle: 'بريد التطوير',
    outboxHint: 'لا يرسل التطبيق التجريبي بريدًا: هذه الرسائل تظهر هنا وفي سجل الخادم (في بيئة التطوير فقط).',
    outboxEmpty: 'لا رسائل بعد.',
    'kind-reset-password': 'استعادة كلمة المرور',
    'kind-verify-email': 'توثيق البريد',
  },
  en: {
    forgotLink: 'Forgot your password?',
    forgotTitle: 'Reset your password',
    forgotHint: 'Enter your email and we will send it a code to set a new password.',
    sendResetCode: 'Send reset code',
    resetSent: 'If this email has an account, we sent it a code.',
    resetCode: 'Reset code',
    resetNewPassword: 'New password',
    resetSubmit: 'Set password',
    resetDone: 'Password changed. Sign in with it; every session was ended.',
    backToSignIn: 'Back to sign in',
    verifyEmailTitle: 'Verify your email',
    verifyEmailSend: 'Send verification code',
    verifyEmailSent: 'We sent a code to your email.',
    verifyEmailCode: 'Verification code',
    verifyEmailSubmit: 'Verify email',
    emailVerified: 'Your email is verified.',
    outboxTitle: 'Development mail',
    outboxHint: 'The sample sends no email: these messages appear here and in the server log (development only).',
    outboxEmpty: 'No messages yet.',
    'kind-reset-password': 'Password reset',
    'kind-verify-email': 'Email verification',
  },
};

/**
 * Wires the screens. `ui` is the page's toolkit from app.js: `$`, `t`, `api`, `state`, `onSubmit`,
 * `showNotice`, `clearMessages`, `asciiDigits`, `selectTab`, `enterSignedIn`.
 */
export function setupRecovery(ui) {
  const { $, t, api, state } = ui;
  const recovery = { email: '', token: '', outbox: null };

  function showForgot(visible) {
    $('panel-forgot').hidden = !visible;
    $('panel-email').hidden = visible;
    $('forgot-form').hidden = !visible || Boolean(recovery.token);
    $('reset-form').hidden = true;
    if (visible) $('forgot-email').value = $('email').value;
  }

  function showResetForm() {
    $('forgot-form').hidden = true;
    $('reset-form').hidden = false;
    // A link carries the token: only the new password is asked for.
    $('reset-code-row').hidden = Boolean(recovery.token);
    $('reset-code').required = !recovery.token;
    (recovery.token ? $('reset-password') : $('reset-code')).focus();
  }

  $('forgot-link').addEventListener('click', () => {
    ui.clearMessages();
    showForgot(true);
  });
  $('forgot-back').addEventListener('click', () => {
    ui.clearMessages();
    recovery.token = '';
    showForgot(false);
    ui.selectTab('email');
  });

  ui.onSubmit($('forgot-form'), async () => {
    recovery.email = $('forgot-email').value.trim();
    await api('POST', `${state.authPath}/forgot-password`, { method: 'email', email: recovery.email });
    ui.showNotice('resetSent');
    showResetForm();
    await refreshOutbox();
  });

  ui.onSubmit($('reset-form'), async () => {
    const newPassword = $('reset-password').value;
    const body = recovery.token
      ? { method: 'email', token: recovery.token, newPassword }
      : { method: 'email', email: recovery.email, otp: ui.asciiDigits($('reset-code').value.trim()), newPassword };
    await api('POST', `${state.authPath}/reset-password`, body);
    $('reset-form').reset();
    recovery.token = '';
    showForgot(false);
    ui.selectTab('email');
    $('email').value = recovery.email;
    ui.showNotice('resetDone');
  });

  ui.onSubmit($('verify-email-send-form'), async () => {
    await api('POST', `${state.authPath}/verify-email/send`, {});
    $('verify-email-form').hidden = false;
    ui.showNotice('verifyEmailSent');
    $('verify-email-code').focus();
    await refreshOutbox();
  });

  ui.onSubmit($('verify-email-form'), async () => {
    const otp = ui.asciiDigits($('verify-email-code').value.trim());
    await api('POST', `${state.authPath}/verify-email`, { email: state.me.user.email, otp });
    $('verify-email-form').reset();
    await ui.enterSignedIn('emailVerified');
  });

  /** Shows the verification box for a signed-in user whose email is not verified yet. */
  function renderVerifyEmail() {
    const user = state.me?.user;
    const needed = Boolean(user?.email) && !user.emailVerified;
    $('verify-email').hidden = !needed;
    if (!needed) $('verify-email-form').hidden = true;
  }

  function renderOutbox() {
    const box = $('outbox');
    box.hidden = recovery.outbox === null;
    if (recovery.outbox === null) return;
    const list = $('outbox-list');
    list.replaceChildren();
    for (const mail of recovery.outbox) {
      const item = document.createElement('li');
      item.dataset.kind = mail.kind;
      const to = document.createElement('bdi');
      to.textContent = mail.to;
      const secret = document.createElement(mail.url ? 'a' : 'code');
      secret.className = 'outbox-secret';
      secret.dir = 'ltr';
      secret.textContent = mail.code ?? mail.url;
      if (mail.url) secret.href = mail.url;
      item.append(`${t(`kind-${mail.kind}`)} · `, to, ' · ', secret);
      list.append(item);
    }
    if (recovery.outbox.length === 0)
      list.append(Object.assign(document.createElement('li'), { textContent: t('outboxEmpty') }));
  }

  /** The development outbox; absent (404) in production, where the box stays hidden. */
  async function refreshOutbox() {
    try {
      recovery.outbox = (await api('GET', '/dev/outbox')).mails;
    } catch {
      recovery.outbox = null;
    }
    renderOutbox();
  }

  /** Opens the screen a link from an email asked for (`/?screen=reset&token=…`), then cleans the address bar. */
  async function openLinkedScreen() {
    const params = new URLSearchParams(location.search);
    const screen = params.get('screen');
    const token = params.get('token') ?? '';
    if (!screen) return;
    history.replaceState(null, '', '/');
    if (screen === 'reset' && token) {
      recovery.token = token;
      showForgot(true);
      showResetForm();
    } else if (screen === 'verify-email' && token) {
      await api('POST', `${state.authPath}/verify-email`, { token });
      ui.showNotice('emailVerified');
    }
  }

  return { renderVerifyEmail, renderOutbox, refreshOutbox, openLinkedScreen };
}
