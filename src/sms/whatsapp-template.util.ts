import { receiptTokenOption, requiredString } from './provider-options.util.js';

/** The language codes of a vendor's WhatsApp template, per locale of the person. */
export interface WhatsAppTemplateLanguages {
  /** @default 'ar' */
  ar?: string;
  /** @default 'en' */
  en?: string;
}

/**
 * The WhatsApp options of the vendors that send an approved authentication template and report
 * delivery to a webhook set in their console (Unifonic, Taqnyat).
 */
export interface WhatsAppTemplateOptions {
  /** The approved authentication template's name. */
  templateName: string;
  /** The template's language code per locale. @default { ar: 'ar', en: 'en' } */
  languages?: WhatsAppTemplateLanguages;
  /**
   * The secret path segment of the receipt URL you set as the WhatsApp delivery webhook in the
   * vendor's console, `{appUrl}/{global prefix}/{routes.path}/otp/receipts/{receiptToken}`; with it
   * the provider reads the delivery reports there, so `otp.fallbackAfter` can resend by SMS. At least
   * 32 URL-safe characters (e.g. `openssl rand -hex 32`). @default receipts are not read
   */
  receiptToken?: string;
}

/** A checked {@link WhatsAppTemplateOptions}: the receipt token and the template of one code. */
export interface AuthenticationTemplate {
  receiptToken: string | undefined;
  /** `{ name, language: { code }, components }` for `code` in the person's `locale`. */
  render(locale: 'ar' | 'en', code: string): Record<string, unknown>;
}

/** A WhatsApp template's language code for `locale`, from the configured codes. */
export function templateLanguage(languages: WhatsAppTemplateLanguages | undefined, locale: 'ar' | 'en'): string {
  return (locale === 'en' ? languages?.en : languages?.ar) ?? locale;
}

/**
 * The parameters of a WhatsApp authentication template as Meta defines them: the code fills the
 * body's `{{1}}` and the copy-code button (a URL button with index 0) carries the same code.
 * Source: https://developers.facebook.com/docs/whatsapp/business-management-api/authentication-templates/
 */
export function authenticationTemplateComponents(code: string): Record<string, unknown>[] {
  return [
    { type: 'body', parameters: [{ type: 'text', text: code }] },
    { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
  ];
}

/** Checks `provider`'s template options at boot and returns how to fill the template. */
export function authenticationTemplate(provider: string, options: WhatsAppTemplateOptions): AuthenticationTemplate {
  const name = requiredString(provider, 'whatsapp.templateName', options.templateName);
  return {
    receiptToken: receiptTokenOption(provider, options.receiptToken),
    render: (locale, code) => ({
      name,
      language: { code: templateLanguage(options.languages, locale) },
      components: authenticationTemplateComponents(code),
    }),
  };
}
