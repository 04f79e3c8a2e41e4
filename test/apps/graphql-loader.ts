import { createRequire } from 'node:module';
import { jest } from '@jest/globals';

/**
 * Loads `graphql-test-app.ts` inside Jest. Call it at the top level of a spec, before anything
 * imports `@nestjs/apollo` or `@nestjs/mercurius`:
 * - Mercurius loads @fastify/static, which `require`s the ESM-only content-disposition 3: Node 20
 *   does that natively, Jest's module registry (before Node 24.9) cannot. It gets the CommonJS 2.x
 *   that Express uses (same `create` API; only GraphiQL's static files would call it).
 */
export async function loadGraphqlTestApp() {
  const requireFromStatic = createRequire(createRequire(import.meta.url).resolve('@fastify/static'));
  jest.doMock(requireFromStatic.resolve('content-disposition'), () => jest.requireActual('content-disposition'));
  return import('./graphql-test-app.js');
}
