import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ARRAF_AUTH_OPTIONS, arrafAuthOpenApi, type ResolvedArrafAuthOptions } from '@arraf-auth/nestjs';

/**
 * Swagger UI at `/docs` (the document at `/docs-json`): the sample's own routes, scanned by
 * `@nestjs/swagger`, plus the module's routes from `arrafAuthOpenApi()`, which describes them for
 * the options this application configured (prefix, providers, cookie name). `appModule` is the
 * module whose controllers `@nestjs/swagger` scans.
 */
export function setupOpenApi(app: INestApplication, appModule: Type<unknown>): void {
  const options = app.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS);
  const auth = arrafAuthOpenApi({
    path: options.routes.path,
    providers: options.providers,
    cookieName: options.session.cookieName,
    bearer: options.session.bearer,
  });
  const config = new DocumentBuilder()
    .setTitle('Arraf Auth sample')
    .setDescription(
      'Phone + SMS code, email + password and OAuth sign-in with revocable sessions. Errors are `{ error: { code, en, ar } }`.',
    )
    .setVersion('1.0')
    .build();
  // Only the sample's controllers: the module's are described by arrafAuthOpenApi().
  const document = SwaggerModule.createDocument(app, config, { include: [appModule] });
  document.paths = { ...document.paths, ...auth.paths } as typeof document.paths;
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...auth.components.schemas },
    securitySchemes: { ...document.components?.securitySchemes, ...auth.components.securitySchemes },
  } as typeof document.components;
  document.tags = [...(document.tags ?? []), ...auth.tags];
  SwaggerModule.setup('docs', app, document, { customSiteTitle: 'Arraf Auth sample API' });
}
