import type { ExecutionContext } from '@nestjs/common';
import type { RequestHeaders } from '../session/session-cookie.js';
import { upgradeHeadersOf } from './ws-handshake.registry.js';

/** The transports the guard and the decorators understand. */
export type TransportType = 'http' | 'graphql' | 'ws';

/**
 * What a guard or a decorator needs from any transport: where the credential is (`headers`), the
 * object that carries `user` and the session for the handler (`holder`), the HTTP method when there
 * is one (for the origin check), and the HTTP response when one exists (to re-issue a token).
 */
export interface TransportContext {
  type: TransportType;
  headers: RequestHeaders | undefined;
  /** The HTTP request (HTTP, GraphQL) or the socket (WebSockets): `user` and the session live here. */
  holder: Record<string | symbol, unknown>;
  /** The HTTP method; `undefined` on WebSockets. */
  method: string | undefined;
  /** The Express response or Fastify reply; `undefined` on WebSockets and when GraphQL hides it. */
  response: unknown;
}

interface HttpRequestShape {
  method?: string;
  headers?: RequestHeaders;
  /** Express links the response from the request. */
  res?: unknown;
}

/**
 * Reads the request behind an `ExecutionContext` on HTTP (Express, Fastify), GraphQL (Apollo:
 * `context.req`/`context.res`; Mercurius: `context.req`/`context.reply`) and WebSockets (socket.io:
 * `client.handshake.headers`; `ws`: the upgrade request's headers, recorded by
 * `WsHandshakeRegistry`). Returns `undefined` for a context it cannot read (e.g. RPC), which the
 * guard treats as unauthenticated. No GraphQL or WebSocket package is imported: each is read by shape.
 */
export function getTransportContext(context: ExecutionContext): TransportContext | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    // (request, response, next); `switchToHttp()` would build three closures on every call.
    const request = context.getArgByIndex<HttpRequestShape & Record<string | symbol, unknown>>(0);
    return {
      type,
      headers: request.headers,
      holder: request,
      method: request.method,
      response: context.getArgByIndex(1),
    };
  }
  if (type === 'graphql') return graphqlContext(context);
  if (type === 'ws') return wsContext(context);
  return undefined;
}

function graphqlContext(context: ExecutionContext): TransportContext | undefined {
  // Resolver arguments are (root, args, context, info); @nestjs/graphql puts the HTTP request in `context.req`.
  const gql = context.getArgByIndex<{ req?: unknown; res?: unknown; reply?: unknown } | undefined>(2);
  const request = gql?.req as (HttpRequestShape & Record<string | symbol, unknown>) | undefined;
  // A subscription over WebSockets has no HTTP request here: nothing to authenticate with.
  if (!request || typeof request !== 'object' || !request.headers) return undefined;
  return {
    type: 'graphql',
    headers: request.headers,
    holder: request,
    method: request.method,
    response: gql?.res ?? gql?.reply ?? request.res,
  };
}

function wsContext(context: ExecutionContext): TransportContext | undefined {
  const client = context.switchToWs().getClient<Record<string | symbol, unknown> | undefined>();
  if (!client || typeof client !== 'object') return undefined;
  const handshake = client.handshake as { headers?: RequestHeaders } | undefined;
  // socket.io keeps the handshake; a `ws` socket does not, so its upgrade headers were recorded.
  const headers = handshake?.headers ?? upgradeHeadersOf(client);
  return { type: 'ws', headers, holder: client, method: undefined, response: undefined };
}

/**
 * The object on which `SessionGuard` left `user` and the session, on any transport: what
 * `@CurrentUser()` and `@CurrentSession()` read.
 */
export function getAuthHolder(context: ExecutionContext): Record<string | symbol, unknown> | undefined {
  return getTransportContext(context)?.holder;
}
