import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RequestHeaders } from '../session/session-cookie.js';

/** Upgrade request headers by the TCP socket they arrived on; gone with the socket. */
const upgradeHeaders = new WeakMap<object, RequestHeaders>();

/**
 * The headers of the HTTP upgrade request a `ws` socket was opened with. A `ws` socket does not
 * keep its upgrade request (socket.io keeps it as `handshake`), but it keeps the TCP socket
 * (`_socket`, set by `ws` from the upgrade's socket), which is the key the registry recorded.
 */
export function upgradeHeadersOf(client: Record<string | symbol, unknown>): RequestHeaders | undefined {
  const socket = client._socket;
  return socket && typeof socket === 'object' ? upgradeHeaders.get(socket) : undefined;
}

type UpgradeServer = {
  prependListener(event: 'upgrade', listener: (request: IncomingMessage, socket: Duplex) => void): unknown;
  off(event: 'upgrade', listener: (request: IncomingMessage, socket: Duplex) => void): unknown;
  listenerCount(event: 'upgrade'): number;
};

/**
 * Records the headers of every WebSocket upgrade on the application's HTTP server, so
 * `SessionGuard` can read the cookie or `Authorization` header a `ws` client connected with.
 * Gateways on the application's port (`@WebSocketGateway()`, the usual setup) are covered; a `ws`
 * gateway on a port of its own has its own HTTP server, which the module never sees.
 */
@Injectable()
export class WsHandshakeRegistry implements OnModuleInit, OnApplicationShutdown {
  private server: UpgradeServer | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  private readonly record = (request: IncomingMessage, socket: Duplex): void => {
    // Alone on the server (no gateway), the listener must not keep the socket open: Node closes an
    // upgrade nobody listens to, and so do we.
    if (this.server && this.server.listenerCount('upgrade') <= 1) {
      socket.destroy();
      return;
    }
    upgradeHeaders.set(socket, request.headers);
  };

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Partial<UpgradeServer> | undefined;
    if (!server || typeof server.prependListener !== 'function') return;
    this.server = server as UpgradeServer;
    // First in line: the `ws` adapter's own upgrade listener completes the handshake after this one.
    this.server.prependListener('upgrade', this.record);
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.record);
  }
}
