import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type INestApplication,
  Module,
  NotFoundException,
  Type,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Field, GraphQLModule, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GraphQLError } from 'graphql';
import type { DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthExceptionFilter,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentSession,
  CurrentUser,
  Public,
  RequireFreshSession,
  type Session,
  SessionGuard,
  type User,
} from '../../src/index.js';
import { TEST_SECRET } from './test-app.js';

/** Apollo runs on Express, Mercurius on Fastify: the two pairs applications use. */
export type GraphqlDriver = 'apollo' | 'mercurius';
export const DRIVER_PLATFORM = { apollo: 'express', mercurius: 'fastify' } as const;

@ObjectType()
class Me {
  @Field(() => String) id!: string;
  @Field(() => String, { nullable: true }) email!: string | null;
  @Field(() => String) sessionId!: string;
}

/** A resolver guarded per handler, the way an application writes one. */
@Resolver()
export class AccountResolver {
  @Query(() => Me)
  @UseGuards(SessionGuard)
  me(@CurrentUser() user: User, @CurrentUser('id') id: string, @CurrentSession() session: Session): Me {
    return { id, email: user.email, sessionId: session.id };
  }

  @Mutation(() => Boolean)
  @UseGuards(SessionGuard)
  @RequireFreshSession()
  changePhone(): boolean {
    return true;
  }
}

/** A resolver guarded as a class, for an application that uses `SessionGuard` as `APP_GUARD` too. */
@Resolver()
@UseGuards(SessionGuard)
export class ClassGuardedResolver {
  @Query(() => String)
  classGuarded(@CurrentUser('id') id: string): string {
    return id;
  }
}

/** Queries left to the global guard: one private, one `@Public()`. */
@Resolver()
export class GlobalResolver {
  @Query(() => String)
  privateQuery(@CurrentUser('id') id: string): string {
    return id;
  }

  @Public()
  @Query(() => String)
  publicQuery(): string {
    return 'public';
  }
}

/** The application's own errors: they must reach clients exactly as without the module. */
@Resolver()
export class AppErrorsResolver {
  @Public()
  @Query(() => String)
  badRequest(): string {
    throw new BadRequestException('bad thing');
  }

  @Public()
  @Query(() => String)
  customCode(): string {
    throw new GraphQLError('custom failure', { extensions: { code: 'MY_CODE', detail: 42 } });
  }

  @Public()
  @Query(() => String)
  plainError(): string {
    throw new Error('plain failure');
  }
}

/** An application REST route whose path contains `/auth/`: `GET /api/v1/auth/things/:id`. */
@Controller('v1/auth/things')
export class ThingsController {
  @Public()
  @Get(':id')
  thing(): never {
    throw new NotFoundException('thing not found');
  }
}

/** An application-wide filter of the application's own: HTTP errors as 418 `{ appFilter, message }`, the rest rethrown. */
@Catch()
export class AppFilter implements ExceptionFilter {
  static readonly seen: unknown[] = [];

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    AppFilter.seen.push(exception);
    if (host.getType() !== 'http') throw exception;
    const message = exception instanceof Error ? exception.message : String(exception);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { appFilter: true, message }, 418);
  }
}

export interface GraphqlTestAppOptions {
  database: DataSourceOptions;
  /** The GraphQL driver, or `'express'` / `'fastify'` for the same application without GraphQL. */
  driver: GraphqlDriver | 'express' | 'fastify';
  /** Import `ArrafAuthModule` (false: the same application without it, for comparison). */
  withAuth?: boolean;
  auth?: Partial<ArrafAuthOptions>;
  /** Register `SessionGuard` as `APP_GUARD`. */
  globalGuard?: boolean;
  /** The application's own `APP_FILTER`: its `AppFilter`, or `ArrafAuthExceptionFilter` the usual Nest way. */
  appFilter?: 'app' | 'arraf';
}

/** Builds a GraphQL application (`setGlobalPrefix('api')`), listening on a free port. Returns it and its URL. */
export async function createGraphqlTestApp(
  options: GraphqlTestAppOptions,
): Promise<{ app: INestApplication; url: string }> {
  const withAuth = options.withAuth ?? true;
  const graphql = graphqlModule(options.driver);
  const resolvers: Type[] = !graphql
    ? []
    : withAuth
      ? [AppErrorsResolver, AccountResolver, ClassGuardedResolver, ...(options.globalGuard ? [GlobalResolver] : [])]
      : [AppErrorsResolver];
  const providers = [
    ...resolvers,
    ...(options.globalGuard ? [{ provide: APP_GUARD, useClass: SessionGuard }] : []),
    ...(options.appFilter
      ? [{ provide: APP_FILTER, useClass: options.appFilter === 'app' ? AppFilter : ArrafAuthExceptionFilter }]
      : []),
  ];

  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      } as DataSourceOptions),
      ...(withAuth ? [ArrafAuthModule.forRoot({ secret: TEST_SECRET, ...options.auth })] : []),
      ...(graphql ? [graphql] : []),
    ],
    controllers: [ThingsController],
    providers,
  })
  class GraphqlAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [GraphqlAppModule] }).compile();
  const app =
    options.driver === 'mercurius' || options.driver === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter())
      : moduleRef.createNestApplication();
  app.setGlobalPrefix('api');
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

function graphqlModule(driver: GraphqlTestAppOptions['driver']) {
  // Stack traces off: the comparison with and without the module is about codes and messages.
  if (driver === 'apollo') {
    return GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      includeStacktraceInErrorResponses: false,
    });
  }
  if (driver === 'mercurius')
    return GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true });
  return undefined;
}
