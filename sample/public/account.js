/* global document, Blob */
// The owner's account: sign-in methods (list, remove, add or change the phone and email with the
// code step, set or remove the password, link or unlink a provider), recent activity (security
// events, newest first), "download my data" and "delete my account".

export const ACCOUNT_TEXT = {
  ar: {
    methodsTitle: 'طرق تسجيل الدخول',
    methodPhone: 'الجوال',
    methodEmail: 'البريد الإلكتروني',
    methodPassword: 'كلمة المرور',
    methodProvider: 'حساب مرتبط',
    methodPasskeys: 'مفاتيح المرور: {count}',
    passwordSet: 'مضبوطة',
    passwordNotSet: 'غير مضبوطة',
    remove: 'أزل',
    unlink: 'ألغِ الربط',
    linkedSince: 'مرتبط منذ {date}',
    linkProvider: 'اربط {provider}',
    unrecognisedTitle: 'طرق أُضيفت ولم تتحقق منها',
    unrecognisedHint: 'أُضيفت هذه الطرق بعد آخر إثبات لبريدك. أزل ما لا تعرفه.',
    acknowledgePassword: 'كلمة المرور الحالية، لتأكيد أنك صاحب الحساب',
    acknowledgeSubmit: 'أعرف هذه الطرق، أبقِها',
    methodsKept: 'أُبقيت الطرق ولن تظهر تنبيهًا بعد الآن.',
    newPhone: 'رقم جوال جديد',
    newEmail: 'بريد إلكتروني جديد',
    sendMethodCode: 'أرسل الرمز',
    methodCode: 'الرمز المرسل',
    confirmMethod: 'تأكيد',
    setPassword: 'اضبط كلمة مرور',
    currentPassword: 'كلمة المرور الحالية',
    removePassword: 'أزل كلمة المرور',
    methodSaved: 'حُفظ التغيير.',
    methodRemoved: 'أُزيلت طريقة الدخول.',
    activityTitle: 'النشاط الأخير',
    activityEmpty: 'لا نشاط بعد.',
    activityMore: 'المزيد',
    dataTitle: 'بياناتي',
    exportData: 'نزّل بياناتي',
    exported: 'نُزّلت بياناتك (ملف JSON).',
    deleteTitle: 'احذف حسابي',
    deleteHint: 'يُحذف حسابك وكل ما يتعلق به نهائيًا، وتنتهي جميع جلساتك. لا يمكن التراجع.',
    deletePassword: 'كلمة المرور الحالية',
    deleteSendCode: 'أو أرسل رمزًا إلى جوالي',
    deleteCode: 'الرمز المرسل إلى جوالك',
    deleteConfirm: 'أفهم أن الحذف نهائي',
    deleteSubmit: 'احذف حسابي نهائيًا',
    accountDeleted: 'حُذف حسابك.',
    event_sign_in_succeeded: 'تسجيل دخول',
    event_sign_in_failed: 'محاولة دخول فاشلة',
    event_sign_out: 'تسجيل خروج',
    event_session_revoked: 'إنهاء جلسة',
    event_password_set: 'ضبط كلمة المرور',
    event_password_changed: 'تغيير كلمة المرور',
    event_password_reset: 'إعادة تعيين كلمة المرور',
    event_password_removed: 'إزالة كلمة المرور',
    event_method_added: 'إضافة طريقة دخول',
    event_method_removed: 'إزالة طريقة دخول',
    event_two_factor_enabled: 'تفعيل التحقق بخطوتين',
    event_two_factor_disabled: 'إيقاف التحقق بخطوتين',
    event_two_factor_backup_codes_regenerated: 'رموز استرداد جديدة',
    event_two_factor_backup_code_used: 'استخدام رمز استرداد',
    event_passkey_added: 'إضافة مفتاح مرور',
    event_passkey_removed: 'إزالة مفتاح مرور',
    event_account_exported: 'تنزيل البيانات',
    event_account_deleted: 'حذف الحساب',
  },
  en: {
    methodsTitle: 'Sign-in methods',
    methodPhone: 'Mobile',
    methodEmail: 'Email',
    methodPassword: 'Password',
    methodProvider: 'Linked account',
    methodPasskeys: 'Passkeys: {count}',
    passwordSet: 'set',
    passwordNotSet: 'not set',
    remove: 'Remove',
    unlink: 'Unlink',
    linkedSince: 'linked {date}',
    linkProvider: 'Link {provider}',
    unrecognisedTitle: 'Methods you have not confirmed',
    unrecognisedHint: 'These were added after you last proved your email. Remove any you do not recognise.',
    acknowledgePassword: 'Current password, to confirm it is you',
    acknowledgeSubmit: 'I recognise these: keep them',
    methodsKept: 'Kept: these methods are no longer flagged.',
    newPhone: 'New mobile number',
    newEmail: 'New email address',
    sendMethodCode: 'Send code',
    methodCode: 'Code you received',
    confirmMethod: 'Confirm',
    setPassword: 'Set a password',
    currentPassword: 'Current password',
    removePassword: 'Remove the password',
    methodSaved: 'Saved.',
    methodRemoved: 'Sign-in method removed.',
    activityTitle: 'Recent activity',
    activityEmpty: 'No activity yet.',
    activityMore: 'More',
    dataTitle: 'My data',
    exportData: 'Download my data',
    exported: 'Your data was downloaded (a JSON file).',
    deleteTitle: 'Delete my account',
    deleteHint:
      'Your account and everything about it is deleted for good, and every session ends. This cannot be undone.',
    deletePassword: 'Current password',
    deleteSendCode: 'Or send a code to my phone',
    deleteCode: 'Code sent to your phone',
    deleteConfirm: 'I understand this is permanent',
    deleteSubmit: 'Delete my account for good',
    accountDeleted: 'Your account was deleted.',
    event_sign_in_succeeded: 'Signed in',
    event_sign_in_failed: 'Failed sign-in',
    event_sign_out: 'Signed out',
    event_session_revoked: 'Session ended',
    event_password_set: 'Password set',
    event_password_changed: 'Password changed',
    event_password_reset: 'Password reset',
    event_password_removed: 'Password removed',
    event_method_added: 'Sign-in method added',
    event_method_removed: 'Sign-in method removed',
    event_two_factor_enabled: 'Two-factor turned on',
    event_two_factor_disabled: 'Two-factor turned off',
    event_two_factor_backup_codes_regenerated: 'New backup codes',
    event_two_factor_backup_code_used: 'Backup code used',
    event_passkey_added: 'Passkey added',
    event_passkey_removed: 'Passkey removed',
    event_account_exported: 'Data downloaded',
    event_account_deleted: 'Account deleted',
  },
};

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** Wires the account sections; `ui` holds app.js's helpers. */
export function setupAccount(ui) {
  const { $, t, api, state, onSubmit, showNotice, showError, asciiDigits, formatDate, describeDevice } = ui;
  const account = { methods: null, events: [], next: null, providers: [] };
  const path = (rest) => `${state.authPath}/${rest}`;

  function button(label, className, action) {
    const node = el('button', { type: 'button', className, textContent: label });
    node.addEventListener('click', async () => {
      node.disabled = true;
      try {
        await action();
      } catch (error) {
        showError(error);
      } finally {
        node.disabled = false;
      }
    });
    return node;
  }

  function methodRow(key, label, value, badge, actions = []) {
    const item = el('li', {}, el('strong', { textContent: label }), ' ', el('bdi', { textContent: value }));
    item.dataset.method = key;
    if (badge) item.append(el('span', { className: 'badge', textContent: badge }));
    item.append(...actions);
    return item;
  }

  async function removeMethod(route) {
    await api('DELETE', path(route));
    await refresh();
    showNotice('methodRemoved');
  }

  function renderMethods() {
    const m = account.methods;
    const list = $('methods-list');
    list.replaceChildren();
    if (!m) return;
    const badge = (v) => t(v.verified ? 'verified' : 'notVerified');
    if (m.phone)
      list.append(
        methodRow('phone', t('methodPhone'), m.phone.value, badge(m.phone), [
          button(t('remove'), 'link delete', () => removeMethod('account/phone')),
        ]),
      );
    if (m.email) list.append(methodRow('email', t('methodEmail'), m.email.value, badge(m.email)));
    list.append(methodRow('password', t('methodPassword'), t(m.password ? 'passwordSet' : 'passwordNotSet'), null));
    for (const provider of m.providers) {
      const since = t('linkedSince', { date: formatDate(provider.linkedAt) });
      const row = methodRow('provider', t('methodProvider'), provider.providerId, since, [
        button(t('unlink'), 'link delete', () => removeMethod(`account/providers/${encodeURIComponent(provider.id)}`)),
      ]);
      row.dataset.provider = provider.providerId;
      list.append(row);
    }
    list.append(methodRow('passkeys', t('methodPasskeys', { count: m.passkeys }), '', null));
    $('password-set-form').hidden = m.password;
    $('password-remove-form').hidden = !m.password;
    const flagged = $('methods-unrecognised');
    flagged.hidden = m.unrecognised.length === 0;
    $('unrecognised-list').replaceChildren(
      ...m.unrecognised.map((u) =>
        el('li', {}, el('bdi', { textContent: `${u.type}: ${u.label}` }), ' ', formatDate(u.addedAt)),
      ),
    );
    const links = $('link-providers');
    links.replaceChildren(
      ...account.providers
        .filter((id) => !m.providers.some((p) => p.providerId === id))
        .map((id) =>
          el('a', {
            className: 'provider',
            href: `${path(`link/${encodeURIComponent(id)}`)}?redirectTo=${encodeURIComponent('/')}`,
            textContent: t('linkProvider', { provider: id }),
          }),
        ),
    );
  }

  function eventLabel(type) {
    const key = `event_${type.replace(/\./g, '_')}`;
    return ACCOUNT_TEXT[state.lang][key] ?? type;
  }

  function renderActivity() {
    const list = $('activity-list');
    list.replaceChildren();
    if (account.events.length === 0) list.append(el('li', { className: 'hint', textContent: t('activityEmpty') }));
    for (const event of account.events) {
      const meta = el(
        'div',
        { className: 'meta' },
        el('bdi', { textContent: event.ip ?? '' }),
        ` · ${describeDevice(event.userAgent)} · ${formatDate(event.createdAt)}`,
      );
      const title = el('div', { textContent: eventLabel(event.type) });
      if (event.method) title.append(el('span', { className: 'badge', textContent: event.method }));
      const item = el('li', {}, el('div', {}, title, meta));
      item.dataset.eventType = event.type;
      list.append(item);
    }
    $('activity-more').hidden = account.next === null;
  }

  function render() {
    renderMethods();
    renderActivity();
  }

  async function loadEvents(before) {
    const query = before ? `?before=${encodeURIComponent(before)}&limit=10` : '?limit=10';
    const page = await api('GET', path(`account/events${query}`));
    account.events = before ? [...account.events, ...page.events] : page.events;
    account.next = page.next;
  }

  async function refresh() {
    account.methods = await api('GET', path('account/methods'));
    await loadEvents();
    render();
  }

  $('activity-more').addEventListener('click', async () => {
    try {
      await loadEvents(account.next);
      renderActivity();
    } catch (error) {
      showError(error);
    }
  });

  /** A two-step form: send a code to `value`, then confirm it. */
  function codeStep(kind, toBody) {
    const sendForm = $(`${kind}-send-form`);
    const confirmForm = $(`${kind}-confirm-form`);
    let value = '';
    onSubmit(sendForm, async () => {
      value = $(`${kind}-new`).value.trim();
      await api('POST', path(`account/${kind}/send`), toBody(value));
      confirmForm.hidden = false;
      $(`${kind}-code`).focus();
    });
    onSubmit(confirmForm, async () => {
      await api('POST', path(`account/${kind}`), {
        ...toBody(value),
        otp: asciiDigits($(`${kind}-code`).value.trim()),
      });
      sendForm.reset();
      confirmForm.reset();
      confirmForm.hidden = true;
      await ui.reloadProfile();
      await refresh();
      showNotice('methodSaved');
    });
  }
  codeStep('phone', (phone) => ({ phone }));
  codeStep('email', (email) => ({ email }));

  onSubmit($('password-set-form'), async () => {
    await api('POST', path('account/password'), { newPassword: $('password-new').value });
    $('password-set-form').reset();
    await refresh();
    showNotice('methodSaved');
  });

  // The owner recognises every flagged method: the review closes (the current password proves it).
  onSubmit($('acknowledge-form'), async () => {
    await api('POST', path('account/methods/acknowledge'), { currentPassword: $('acknowledge-password').value });
    $('acknowledge-form').reset();
    await refresh();
    showNotice('methodsKept');
  });

  onSubmit($('password-remove-form'), async () => {
    await api('DELETE', path('account/password'), { currentPassword: $('password-current').value });
    $('password-remove-form').reset();
    await refresh();
    showNotice('methodRemoved');
  });

  $('export-data').addEventListener('click', async () => {
    try {
      const data = await api('GET', path('account/export'));
      const link = el('a', {
        href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
        download: 'account-export.json',
      });
      link.click();
      URL.revokeObjectURL(link.href);
      await loadEvents();
      renderActivity();
      showNotice('exported');
    } catch (error) {
      showError(error);
    }
  });

  $('delete-send-code').addEventListener('click', async () => {
    try {
      await api('POST', path('account/delete/code'));
      $('delete-code-row').hidden = false;
      $('delete-code').focus();
    } catch (error) {
      showError(error);
    }
  });

  onSubmit($('delete-form'), async () => {
    const code = asciiDigits($('delete-code').value.trim());
    const body = code ? { otp: code } : { password: $('delete-password').value };
    await api('DELETE', path('account'), body);
    $('delete-form').reset();
    ui.enterSignedOut();
    showNotice('accountDeleted');
  });

  return {
    refresh,
    render,
    setProviders: (ids) => (account.providers = ids),
    leave: () => {
      account.methods = null;
      account.events = [];
      $('delete-code-row').hidden = true;
    },
  };
}
