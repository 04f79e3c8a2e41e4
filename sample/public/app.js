/* global document, localStorage */
import { RECOVERY_TEXT, setupRecovery } from './recovery.js';
import { SECURITY_TEXT, setupSecurity } from './security.js';
import { ACCOUNT_TEXT, setupAccount } from './account.js';
// The sample's sign-in page: plain JavaScript over the module's JSON routes. Every request is a
// same-origin fetch with the session cookie (httpOnly, so this script never sees it); the server
// checks the Origin header of state-changing requests against APP_URL.

const TEXT = {
  ar: {
    title: 'تسجيل الدخول',
    accountTitle: 'حسابي',
    switchTo: 'English',
    tabPhone: 'رقم الجوال',
    tabEmail: 'البريد الإلكتروني',
    tabSignUp: 'حساب جديد',
    phone: 'رقم الجوال',
    sendCode: 'أرسل الرمز',
    code: 'رمز التحقق',
    channel: 'أرسل الرمز عبر',
    channelSms: 'رسالة نصية (SMS)',
    channelWhatsapp: 'واتساب',
    codeSent: 'أرسلنا رمزًا عبر {channel} إلى {phone}.',
    nameFirstTime: 'الاسم (عند أول دخول فقط، اختياري)',
    verify: 'تحقق وسجّل الدخول',
    changePhone: 'تغيير الرقم',
    email: 'البريد الإلكتروني',
    password: 'كلمة المرور',
    newPassword: 'كلمة المرور',
    passwordHint: '٨ أحرف على الأقل. عبارة طويلة تسهل تذكرها أفضل.',
    signIn: 'تسجيل الدخول',
    name: 'الاسم (اختياري)',
    createAccount: 'إنشاء الحساب',
    or: 'أو',
    continueWith: 'المتابعة عبر {provider}',
    profile: 'الملف الشخصي',
    fieldName: 'الاسم',
    fieldPhone: 'الجوال',
    fieldEmail: 'البريد',
    verified: 'موثّق',
    notVerified: 'غير موثّق',
    none: '—',
    signOut: 'تسجيل الخروج',
    mySessions: 'جلساتي',
    thisDevice: 'هذا الجهاز',
    revoke: 'إنهاء',
    revokeOthers: 'تسجيل الخروج من الأجهزة الأخرى',
    revokedOne: 'أُنهيت الجلسة.',
    revokedOthers: 'أُنهيت {count} جلسة أخرى.',
    signedIn: 'تم تسجيل الدخول.',
    welcome: 'أهلًا بك! أُنشئ حسابك.',
    signedOut: 'تم تسجيل الخروج.',
    signedInAt: 'منذ {date}',
    expiresAt: 'تنتهي {date}',
    unknownDevice: 'جهاز غير معروف',
    network: 'تعذر الاتصال بالخادم. تحقق من اتصالك وحاول مرة أخرى.',
    apiDocs: 'توثيق الواجهة البرمجية (OpenAPI)',
  },
  en: {
    title: 'Sign in',
    accountTitle: 'My account',
    switchTo: 'العربية',
    tabPhone: 'Phone',
    tabEmail: 'Email',
    tabSignUp: 'New account',
    phone: 'Mobile number',
    sendCode: 'Send code',
    code: 'Verification code',
    channel: 'Send the code by',
    channelSms: 'SMS',
    channelWhatsapp: 'WhatsApp',
    codeSent: 'We sent a code by {channel} to {phone}.',
    nameFirstTime: 'Name (first sign-in only, optional)',
    verify: 'Verify and sign in',
    changePhone: 'Use another number',
    email: 'Email',
    password: 'Password',
    newPassword: 'Password',
    passwordHint: 'At least 8 characters. A long phrase you can remember is best.',
    signIn: 'Sign in',
    name: 'Name (optional)',
    createAccount: 'Create account',
    or: 'or',
    continueWith: 'Continue with {provider}',
    profile: 'Profile',
    fieldName: 'Name',
    fieldPhone: 'Mobile',
    fieldEmail: 'Email',
    verified: 'verified',
    notVerified: 'not verified',
    none: '—',
    signOut: 'Sign out',
    mySessions: 'My sessions',
    thisDevice: 'This device',
    revoke: 'Revoke',
    revokeOthers: 'Sign out of other devices',
    revokedOne: 'Session revoked.',
    revokedOthers: '{count} other session(s) revoked.',
    signedIn: 'Signed in.',
    welcome: 'Welcome! Your account was created.',
    signedOut: 'Signed out.',
    signedInAt: 'since {date}',
    expiresAt: 'expires {date}',
    unknownDevice: 'Unknown device',
    network: 'Could not reach the server. Check your connection and try again.',
    apiDocs: 'API documentation (OpenAPI)',
  },
};

Object.assign(TEXT.ar, RECOVERY_TEXT.ar);
Object.assign(TEXT.en, RECOVERY_TEXT.en);
Object.assign(TEXT.ar, SECURITY_TEXT.ar);
Object.assign(TEXT.en, SECURITY_TEXT.en);
Object.assign(TEXT.ar, ACCOUNT_TEXT.ar);
Object.assign(TEXT.en, ACCOUNT_TEXT.en);

const PROVIDER_NAMES = { google: 'Google', github: 'GitHub', oidc: 'OpenID Connect' };

const state = {
  lang: localStorage.getItem('lang') === 'en' ? 'en' : 'ar',
  authPath: '/auth',
  phone: '',
  maskedPhone: '',
  /** The channel the last code went out on (`sms` or `whatsapp`), as the server answered. */
  channel: 'sms',
  /** What the message boxes show, kept as keys or API errors so a language switch re-renders them. */
  error: null,
  notice: null,
  me: null,
  sessions: [],
};

const $ = (id) => document.getElementById(id);

function t(key, values = {}) {
  return TEXT[state.lang][key].replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

/** An API error: the server's `{ error: { code, en, ar } }`, or a network failure. */
class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.code ?? `HTTP ${status}`);
    this.status = status;
    this.body = body?.error ?? null;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'include',
      headers: {
        Accept: 'application/json',
        // SMS texts are written in the page's language.
        'Accept-Language': state.lang,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Arabic-Indic and Persian digits typed into the code field become ASCII digits. */
function asciiDigits(value) {
  return value
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
}

// --- Messages ------------------------------------------------------------------------------------------------------

function showError(error) {
  state.notice = null;
  state.error = error instanceof ApiError ? error : new ApiError(0, null);
  renderMessages();
}

function showNotice(key, values) {
  state.error = null;
  state.notice = { key, values };
  renderMessages();
}

function clearMessages() {
  state.error = null;
  state.notice = null;
  renderMessages();
}

function renderMessages() {
  const error = $('error');
  const notice = $('notice');
  if (state.error) {
    // The server's own text in the page's language; the code helps when reporting a problem.
    error.textContent = state.error.body ? state.error.body[state.lang] : t('network');
    error.dataset.code = state.error.body?.code ?? 'NETWORK';
  }
  error.hidden = !state.error;
  if (state.notice) notice.textContent = t(state.notice.key, state.notice.values);
  notice.hidden = !state.notice;
}

// --- Language ------------------------------------------------------------------------------------------------------

function applyLanguage() {
  const root = document.documentElement;
  root.lang = state.lang;
  root.dir = state.lang === 'ar' ? 'rtl' : 'ltr';
  document.title = `${t($('title').dataset.i18n)} · Arraf Auth`;
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  const lang = $('lang-switch');
  lang.textContent = t('switchTo');
  lang.lang = state.lang === 'ar' ? 'en' : 'ar';
  if (state.maskedPhone) renderCodeSent();
  renderProviders();
  renderMessages();
  if (state.me) {
    renderProfile();
    renderSessions();
    security.render();
    account.render();
  }
  recovery.renderOutbox();
}

$('lang-switch').addEventListener('click', () => {
  state.lang = state.lang === 'ar' ? 'en' : 'ar';
  localStorage.setItem('lang', state.lang);
  applyLanguage();
});

// --- Signed out: tabs and forms ------------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`panel-${tab.dataset.tab}`).hidden = !selected;
  }
}

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => {
    clearMessages();
    selectTab(tab.dataset.tab);
  });
}

/** Runs a form's request with its submit button disabled, showing the API's error if it fails. */
function onSubmit(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button');
    for (const button of buttons) button.disabled = true;
    try {
      await handler();
    } catch (error) {
      showError(error);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
}

function renderCodeSent() {
  const sent = $('code-sent');
  const phone = document.createElement('bdi');
  phone.dir = 'ltr';
  phone.textContent = state.maskedPhone;
  // The channel the server used, which may differ from the one asked for (fallback).
  const channel = t(state.channel === 'whatsapp' ? 'channelWhatsapp' : 'channelSms');
  const [before, after] = TEXT[state.lang].codeSent.replace('{channel}', channel).split('{phone}');
  sent.replaceChildren(before, phone, after);
}

onSubmit($('phone-form'), async () => {
  const phone = $('phone').value.trim();
  const requested = $('phone-form').querySelector('input[name="channel"]:checked')?.value ?? 'sms';
  const body = { method: 'phone', phone, channel: requested };
  const { maskedPhone, channel } = await api('POST', `${state.authPath}/otp/send`, body);
  state.phone = phone;
  state.maskedPhone = maskedPhone;
  state.channel = channel;
  clearMessages();
  renderCodeSent();
  $('phone-form').hidden = true;
  $('code-form').hidden = false;
  $('code').focus();
});

onSubmit($('code-form'), async () => {
  const name = $('otp-name').value.trim();
  const body = { method: 'phone', phone: state.phone, otp: asciiDigits($('code').value.trim()) };
  if (name) body.name = name;
  const result = await api('POST', `${state.authPath}/otp/verify`, body);
  $('code-form').reset();
  if (result.twoFactorRequired) return security.askSecondFactor(result.methods);
  const { isNewUser } = result;
  await enterSignedIn(isNewUser ? 'welcome' : 'signedIn');
});

$('change-phone').addEventListener('click', () => {
  state.maskedPhone = '';
  $('code-form').hidden = true;
  $('phone-form').hidden = false;
  clearMessages();
  $('phone').focus();
});

onSubmit($('email-form'), async () => {
  const result = await api('POST', `${state.authPath}/sign-in`, {
    method: 'email',
    email: $('email').value.trim(),
    password: $('password').value,
  });
  $('email-form').reset();
  if (result.twoFactorRequired) return security.askSecondFactor(result.methods);
  await enterSignedIn('signedIn');
});

onSubmit($('sign-up-form'), async () => {
  const body = { email: $('sign-up-email').value.trim(), password: $('sign-up-password').value };
  const name = $('sign-up-name').value.trim();
  if (name) body.name = name;
  await api('POST', `${state.authPath}/sign-up`, body);
  $('sign-up-form').reset();
  await enterSignedIn('welcome');
});

let providers = [];

function renderProviders() {
  const box = $('providers');
  for (const link of box.querySelectorAll('a')) link.remove();
  for (const id of providers) {
    const link = document.createElement('a');
    link.className = 'provider';
    link.id = `provider-${id}`;
    // A navigation, not a fetch: the provider's page must open in this window.
    link.href = `${state.authPath}/sign-in/${encodeURIComponent(id)}?redirectTo=${encodeURIComponent('/')}`;
    link.textContent = t('continueWith', { provider: PROVIDER_NAMES[id] ?? id });
    box.append(link);
  }
  box.hidden = providers.length === 0;
}

// --- Signed in: profile and sessions -------------------------------------------------------------------------------

function formatDate(value) {
  return new Intl.DateTimeFormat(state.lang === 'ar' ? 'ar-SA' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(value));
}

/** "Chrome on Linux" from a user agent, good enough to tell devices apart. */
function describeDevice(userAgent) {
  if (!userAgent) return t('unknownDevice');
  const found = [
    [/Edg\//, 'Edge'],
    [/OPR\//, 'Opera'],
    [/Firefox\//, 'Firefox'],
    [/Chrom(e|ium)\//, 'Chrome'],
    [/Safari\//, 'Safari'],
    [/curl\//, 'curl'],
    [/node|undici/i, 'Node.js'],
  ].find(([pattern]) => pattern.test(userAgent));
  const os = [
    [/Android/, 'Android'],
    [/iPhone|iPad/, 'iOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X/, 'macOS'],
    [/Linux/, 'Linux'],
  ].find(([pattern]) => pattern.test(userAgent));
  const name = found ? found[1] : userAgent.slice(0, 40);
  return os ? `${name} · ${os[1]}` : name;
}

function renderProfile() {
  const { user } = state.me;
  const rows = [
    ['fieldName', user.name, null],
    ['fieldPhone', user.phone, user.phone ? user.phoneVerified : null],
    ['fieldEmail', user.email, user.email ? user.emailVerified : null],
  ];
  const list = $('profile');
  list.replaceChildren();
  for (const [key, value, verified] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
    const dd = document.createElement('dd');
    dd.dataset.field = key;
    const text = document.createElement('bdi');
    text.textContent = value ?? t('none');
    dd.append(text);
    if (verified !== null) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t(verified ? 'verified' : 'notVerified');
      dd.append(badge);
    }
    list.append(dt, dd);
  }
  recovery.renderVerifyEmail();
}

function renderSessions() {
  const list = $('sessions');
  list.replaceChildren();
  for (const session of state.sessions) {
    const item = document.createElement('li');
    item.dataset.sessionId = session.id;
    if (session.current) item.dataset.current = 'true';
    const info = document.createElement('div');
    const device = document.createElement('div');
    device.textContent = describeDevice(session.userAgent);
    if (session.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t('thisDevice');
      device.append(badge);
    }
    const meta = document.createElement('div');
    meta.className = 'meta';
    const ip = document.createElement('bdi');
    ip.textContent = session.ipAddress ?? '';
    meta.append(ip, ` · ${t('signedInAt', { date: formatDate(session.createdAt) })}`);
    meta.append(` · ${t('expiresAt', { date: formatDate(session.expiresAt) })}`);
    info.append(device, meta);
    item.append(info);
    if (!session.current) {
      const revoke = document.createElement('button');
      revoke.type = 'button';
      revoke.className = 'danger';
      revoke.textContent = t('revoke');
      revoke.addEventListener('click', () => revokeSession(session.id, revoke));
      item.append(revoke);
    }
    list.append(item);
  }
  $('revoke-others').hidden = !state.sessions.some((s) => !s.current);
}

async function loadSessions() {
  const { sessions } = await api('GET', `${state.authPath}/sessions`);
  state.sessions = sessions;
  renderSessions();
}

async function revokeSession(id, button) {
  button.disabled = true;
  try {
    await api('DELETE', `${state.authPath}/sessions/${encodeURIComponent(id)}`);
    showNotice('revokedOne');
    await loadSessions();
  } catch (error) {
    button.disabled = false;
    await handleSignedInError(error);
  }
}

$('revoke-others').addEventListener('click', async () => {
  const button = $('revoke-others');
  button.disabled = true;
  try {
    const { revoked } = await api('POST', `${state.authPath}/sessions/revoke-others`);
    showNotice('revokedOthers', { count: revoked.toLocaleString(state.lang === 'ar' ? 'ar-SA' : 'en') });
    await loadSessions();
  } catch (error) {
    await handleSignedInError(error);
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', async () => {
  try {
    await api('POST', `${state.authPath}/sign-out`);
    enterSignedOut();
    showNotice('signedOut');
  } catch (error) {
    showError(error);
  }
});

/** A 401 while signed in means the session ended elsewhere: show the sign-in forms with the reason. */
async function handleSignedInError(error) {
  if (error instanceof ApiError && error.status === 401) enterSignedOut();
  showError(error);
}

function setTitle(key) {
  $('title').dataset.i18n = key;
  $('title').textContent = t(key);
  document.title = `${t(key)} · Arraf Auth`;
}

/** Loads the profile from the application's own guarded route, `GET /me`, and the session list. */
async function enterSignedIn(noticeKey) {
  state.me = await api('GET', '/me');
  renderProfile();
  await loadSessions();
  await security.refresh();
  await account.refresh();
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  setTitle('accountTitle');
  if (noticeKey) showNotice(noticeKey);
}

function enterSignedOut() {
  state.me = null;
  state.sessions = [];
  state.maskedPhone = '';
  $('signed-in').hidden = true;
  security.leave();
  account.leave();
  $('signed-out').hidden = false;
  setTitle('title');
  $('code-form').hidden = true;
  $('phone-form').hidden = false;
  $('panel-forgot').hidden = true;
  selectTab('phone');
}

const recovery = setupRecovery({
  $,
  t,
  api,
  state,
  onSubmit,
  showNotice,
  showError,
  clearMessages,
  asciiDigits,
  selectTab,
  enterSignedIn,
});

const security = setupSecurity({
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
});

const account = setupAccount({
  $,
  t,
  api,
  state,
  onSubmit,
  showNotice,
  showError,
  asciiDigits,
  formatDate,
  describeDevice,
  enterSignedOut,
  reloadProfile: async () => {
    state.me = await api('GET', '/me');
    renderProfile();
  },
});

// --- Start -----------------------------------------------------------------------------------------------------------

async function start() {
  applyLanguage();
  try {
    const config = await api('GET', '/providers');
    state.authPath = config.authPath;
    providers = config.providers;
    account.setProviders(providers);
    renderProviders();
    const { user } = await api('GET', `${state.authPath}/session`);
    if (user) await enterSignedIn();
    else enterSignedOut();
    await recovery.refreshOutbox();
    await recovery.openLinkedScreen();
  } catch (error) {
    if (!state.me) enterSignedOut();
    showError(error);
  }
  document.body.dataset.ready = 'true';
}

// A module script runs once the document is parsed.
void start();
