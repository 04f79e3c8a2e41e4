import { Column } from 'typeorm';

/**
 * The client a row records (a session's sign-in, a security event): its IP address and user agent,
 * both optional and of the same widths wherever they are stored.
 */

/** The client's IP address: up to 45 characters, the longest text form of an IPv6 address. */
export function ClientIpColumn(): PropertyDecorator {
  return Column({ type: 'varchar', length: 45, nullable: true });
}

/** The client's `User-Agent`, cut to 512 characters before it is stored. */
export function UserAgentColumn(): PropertyDecorator {
  return Column({ type: 'varchar', length: 512, nullable: true });
}
