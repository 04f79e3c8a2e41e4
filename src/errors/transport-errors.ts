import type { ArrafAuthException } from './arraf-auth.exception.js';

/**
 * The library's error as a `WsException` carrying `{ code, en, ar }`: Nest's WebSocket exception
 * handling emits it as the `exception` event (socket.io) or `{ event: 'exception', data }` (`ws`).
 * `@nestjs/websockets` is loaded only here, when a socket needs it: it stays an optional peer.
 */
export async function toWsException(error: ArrafAuthException): Promise<Error> {
  const { WsException } = await import('@nestjs/websockets');
  return new WsException({ ...error.extensions });
}
