/**
 * The whole sessions suite again, every app with `session.cache` on: the cache gives the same
 * answers as the database (revocation, expiry, idle timeout, renewal, absolute timeout, freshness),
 * on SQLite (this process only), PostgreSQL (LISTEN/NOTIFY) and MariaDB.
 */
import { testAppDefaults } from '../apps/test-app.js';

testAppDefaults.sessionCache = true;
await import('./sessions.spec.js');
