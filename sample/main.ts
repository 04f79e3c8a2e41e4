import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { redactDatabaseUrl } from './database.js';
import { setupOpenApi } from './openapi.js';
import { type SampleEnv, validateSampleEnv } from './sample-env.js';

/** sample/public, from sample/ (ts) or dist-sample/sample/ (built). */
const PUBLIC_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist-sample/') ? '../../sample/public/' : './public/', import.meta.url),
);

/** The sign-in page loads nothing from elsewhere; only provider avatars (https) are shown. */
const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

/** Prints one line a person can act on (not a stack) and exits with status 1. */
function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`\nThe sample could not start: ${message}\n`);
  process.exit(1);
}

/**
 * Nest's logger, quieter while the sample starts: Nest's own report of a start-up error (context
 * `ExceptionHandler`) is left out, since `fail` prints that error as one line, and errors logged with a
 * stack trace (TypeORM's "Unable to connect… Retrying") keep only its first line. Once the sample
 * listens, errors are logged in full.
 */
class SampleLogger extends ConsoleLogger {
  starting = true;

  override error(message: unknown, ...rest: unknown[]): void {
    if (!this.starting) return super.error(message, ...rest);
    const context = rest.at(-1);
    if (context === 'ExceptionHandler') return;
    const stack = rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
    if (stack === undefined) return super.error(message, ...rest);
    super.error(`${String(message)} ${stack.split('\n')[0]}`, context);
  }
}

async function bootstrap(): Promise<void> {
  // Check the environment before the application module is loaded: ConfigModule.forRoot validates
  // it again while the module is imported, where an error would end the process with a stack trace.
  // The development secret generated here is kept in process.env, so both checks see the same one;
  // `.env` is read first (variables already set win, as with ConfigModule) so the check sees it too.
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    process.env.AUTH_SECRET = validateSampleEnv(process.env).AUTH_SECRET;
  } catch (error) {
    fail(error);
  }
  const { AppModule } = await import('./app.module.js');

  // abortOnError: false, so an error while starting (database unreachable, bad auth option) reaches `fail`.
  const logger = new SampleLogger();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { abortOnError: false, logger });
  app.enableShutdownHooks();
  app.useStaticAssets(PUBLIC_DIR, {
    index: 'index.html',
    setHeaders: (res: ServerResponse) => {
      for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    },
  });
  // The passkey ceremony's browser library, served from the installed package (nothing vendored).
  app.useStaticAssets(fileURLToPath(new URL('../dist/bundle/', import.meta.resolve('@simplewebauthn/browser'))), {
    prefix: '/vendor/simplewebauthn/',
    setHeaders: (res: ServerResponse) => res.setHeader('X-Content-Type-Options', 'nosniff'),
  });
  setupOpenApi(app, AppModule);

  const config = app.get<ConfigService<SampleEnv, true>>(ConfigService);
  const port = config.get('PORT', { infer: true });
  const appUrl = config.get('APP_URL', { infer: true });
  await app.listen(port, '127.0.0.1');
  logger.starting = false;
  const log = new Logger('Sample');
  const database = redactDatabaseUrl(config.get('DATABASE_URL', { infer: true }));
  log.log(`Arraf Auth sample listening on http://localhost:${port} (database ${database}, migrations applied)`);
  log.log(`Sign-in page: ${appUrl}/   API docs: ${appUrl}/docs   Health: ${appUrl}/health`);
}

bootstrap().catch(fail);
