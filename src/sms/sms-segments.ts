/**
 * The GSM 03.38 default alphabet (one septet each) and its extension table (an escape plus one
 * septet, so two). A text made only of these goes out as GSM-7; anything else (Arabic) as UCS-2.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

/** How a text travels as SMS: its encoding, its length in that encoding's units, and the parts billed. */
export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** Parts billed: GSM-7 160 in one part or 153 per part, UCS-2 70 in one part or 67 per part. */
  segments: number;
}

/**
 * Counts the parts an SMS of `text` is split into, as carriers bill it.
 *
 * @example smsSegments('Your code is 123456').segments === 1
 */
export function smsSegments(text: string): SmsSegments {
  let septets = 0;
  let gsm = true;
  for (const char of text) {
    if (BASIC.has(char)) septets += 1;
    else if (EXTENDED.has(char)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', units: septets, segments: parts(septets, 160, 153) };
  // UCS-2 counts UTF-16 units: a character outside the BMP (an emoji) takes two.
  return { encoding: 'UCS-2', units: text.length, segments: parts(text.length, 70, 67) };
}

function parts(units: number, single: number, multi: number): number {
  if (units === 0) return 0;
  return units <= single ? 1 : Math.ceil(units / multi);
}

/** The first link in `text` (`https://…`, `www.…` or a bare `host.tld/…`), or `undefined`. */
export function findLink(text: string): string | undefined {
  const match = /\b(?:https?:\/\/|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\/\S*/i.exec(text);
  return match?.[0];
}
