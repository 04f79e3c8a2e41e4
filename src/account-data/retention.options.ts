import { boolean, fail, integer, knownOptions } from '../options/option-checks.js';

/**
 * How long the module keeps what it no longer needs (`retention` option), applied by
 * {@link ArrafAuthRetention.apply} when the application schedules it (Saudi PDPL: personal data is
 * kept no longer than its purpose).
 */
export interface ArrafAuthRetentionOptions {
  /** Delete sessions and one-time secrets (codes, links, OAuth states) once they have expired. @default true */
  deleteExpired?: boolean;
  /**
   * Days after which the IP address and user agent of a session (counted from its sign-in) and of
   * a security event are erased; the row itself stays. `false` keeps them. @default 90
   */
  ipAddressesAfterDays?: number | false;
  /**
   * Days after which security events are deleted altogether (the pseudonymous record of a deleted
   * account included). `false` keeps them. @default false
   */
  securityEventsAfterDays?: number | false;
  /** Rows changed or deleted per statement, so concurrent requests keep being served. @default 1000 */
  batchSize?: number;
}

/** `retention` after validation. */
export interface ResolvedRetentionOptions {
  deleteExpired: boolean;
  ipAddressesAfterDays: number | false;
  securityEventsAfterDays: number | false;
  batchSize: number;
}

const KNOWN = ['deleteExpired', 'ipAddressesAfterDays', 'securityEventsAfterDays', 'batchSize'];
/** Ten years: past it a "retention" is a typo. */
const MAX_DAYS = 3650;

/** Validates `retention` once at boot. */
export function resolveRetentionOptions(value: unknown): ResolvedRetentionOptions {
  const input = knownOptions('retention', value, KNOWN);
  const deleteExpired = boolean('retention.deleteExpired', input.deleteExpired, true);
  const batchSize = integer('retention.batchSize', input.batchSize ?? 1000, 1000, 1, 100_000);
  const days = (name: string, fallback: number | false): number | false => {
    const raw = input[name] ?? fallback;
    if (raw === false) return false;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > MAX_DAYS)
      fail(
        `retention.${name}`,
        `must be a whole number of days from 1 to ${MAX_DAYS}, or false (got ${JSON.stringify(raw)})`,
      );
    return raw;
  };
  return {
    deleteExpired,
    ipAddressesAfterDays: days('ipAddressesAfterDays', 90),
    securityEventsAfterDays: days('securityEventsAfterDays', false),
    batchSize,
  };
}
