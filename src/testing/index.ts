/** `@arraf-auth/nestjs/testing`: helpers for an application's own tests. */
export { InMemorySmsProvider } from './in-memory.sms-provider.js';
export { createTestSession, type TestSession } from './test-session.js';
