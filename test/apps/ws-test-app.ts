import { type INestApplication, Module, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscribeMessage, WebSocketGateway, WsException, type WsResponse } from '@nestjs/websockets';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
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

/** The WebSocket adapter and the HTTP platform under it. */
export type WsSetup = 'socket.io/express' | 'ws/express' | 'ws/fastify';
export const WS_SETUPS: WsSetup[] = ['socket.io/express', 'ws/express', 'ws/fastify'];

/** The `ws` gateway's path on the application's HTTP server. */
const WS_PATH = '/ws';

/** The handlers of the test gateways, the way an application writes them. */
class ChatHandlers {
  @SubscribeMessage('whoami')
  whoami(
    @CurrentUser() user: User,
    @CurrentUser('id') id: string,
    @CurrentSession() session: Session,
    // A column of an application's extended `User` (issue 11): any field name type-checks.
    @CurrentUser('locale') locale: string | undefined,
  ): WsResponse<{ id: string; email: string | null; sessionId: string; locale: string | null }> {
    return { event: 'whoami', data: { id, email: user.email, sessionId: session.id, locale: locale ?? null } };
  }

  @SubscribeMessage('sensitive')
  @RequireFreshSession()
  sensitive(): WsResponse<boolean> {
    return { event: 'sensitive', data: true };
  }

  @Public()
  @SubscribeMessage('fail')
  fail(): never {
    throw new WsException('app failure');
  }

  @Public()
  @SubscribeMessage('crash')
  crash(): never {
    throw new Error('plain failure');
  }

  @Public()
  @SubscribeMessage('ping')
  ping(): WsResponse<string> {
    return { event: 'pong', data: 'ok' };
  }
}

export interface WsTestAppOptions {
  database: DataSourceOptions;
  setup: WsSetup;
  auth?: Partial<ArrafAuthOptions>;
  /** `SessionGuard` as `APP_GUARD` instead of `@UseGuards(SessionGuard)` on the gateway class. */
  globalGuard?: boolean;
  /**
   * `@UseFilters(ArrafAuthExceptionFilter)` on the gateway: how an application that uses the filter
   * everywhere would bind it (Nest applies no global filter to gateways).
   */
  arrafFilter?: boolean;
}

/** A Nest application with one gateway on the application's port, listening; returns it and its base URL. */
export async function createWsTestApp(options: WsTestAppOptions): Promise<{ app: INestApplication; url: string }> {
  const [adapter, platform] = options.setup.split('/') as ['socket.io' | 'ws', 'express' | 'fastify'];
  const gatewayOptions = adapter === 'ws' ? { path: WS_PATH } : {};
  let gateway: Type;
  if (options.globalGuard) {
    @WebSocketGateway(gatewayOptions)
    class GlobalChatGateway extends ChatHandlers {}
    gateway = GlobalChatGateway;
  } else {
    @WebSocketGateway(gatewayOptions)
    @UseGuards(SessionGuard)
    class ChatGateway extends ChatHandlers {}
    gateway = ChatGateway;
  }
  if (options.arrafFilter) UseFilters(ArrafAuthExceptionFilter)(gateway);

  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      } as DataSourceOptions),
      ArrafAuthModule.forRoot({ secret: TEST_SECRET, ...options.auth }),
    ],
    providers: [gateway, ...(options.globalGuard ? [{ provide: APP_GUARD, useClass: SessionGuard }] : [])],
  })
  class WsAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [WsAppModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter())
      : moduleRef.createNestApplication();
  app.useWebSocketAdapter(adapter === 'ws' ? new WsAdapter(app) : new IoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

/** One event from the server: a handler's answer or Nest's `exception` event. */
export interface WsEvent {
  event: string;
  data: unknown;
}

/** A real socket client (socket.io-client or ws) that connects with the given handshake headers. */
export class WsTestClient {
  private readonly queue: WsEvent[] = [];
  private waiter: ((event: WsEvent) => void) | undefined;

  private constructor(
    private readonly send: (event: string, data: unknown) => void,
    readonly close: () => void,
  ) {}

  static async connect(setup: WsSetup, url: string, headers: Record<string, string> = {}): Promise<WsTestClient> {
    if (setup.startsWith('socket.io')) {
      const socket: Socket = io(url, { transports: ['websocket'], extraHeaders: headers, reconnection: false });
      const client = new WsTestClient(
        (event, data) => socket.emit(event, data),
        () => socket.close(),
      );
      socket.onAny((event: string, data: unknown) => client.push({ event, data }));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return client;
    }
    const socket = new WebSocket(`${url.replace('http', 'ws')}${WS_PATH}`, { headers });
    const client = new WsTestClient(
      (event, data) => socket.send(JSON.stringify({ event, data })),
      () => socket.close(),
    );
    socket.on('message', (raw) => client.push(JSON.parse(String(raw)) as WsEvent));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Sends `event` and resolves with the next event the server sends back. */
  async ask(event: string, data: unknown = {}): Promise<WsEvent> {
    const next = this.next();
    this.send(event, data);
    return next;
  }

  private next(): Promise<WsEvent> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the server within 5 s')), 5000);
      this.waiter = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
    });
  }

  private push(event: WsEvent): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(event);
    else this.queue.push(event);
  }
}
