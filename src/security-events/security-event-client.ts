import type { EdgeRequest } from '../controllers/edge-request.js';
import type { SecurityEventClient } from './security-event.types.js';

/** The client of a request as event data: the platform's `request.ip` and the user agent. */
export function eventClientOf(request: Pick<EdgeRequest, 'ip' | 'headers'>): SecurityEventClient {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof userAgent === 'string' ? userAgent : null };
}
