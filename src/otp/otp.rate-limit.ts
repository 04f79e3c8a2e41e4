/** Moved to `rate-limit/client-ip.ts`, where every per-address limit of the library uses it. */
export { clientIpBucket } from '../rate-limit/client-ip.js';
