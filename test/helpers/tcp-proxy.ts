import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * How a cut looks to the application:
 * - `reset`: open connections are reset and new ones are reset as soon as they are accepted (a
 *   database that crashed or a firewall that rejects);
 * - `blackhole`: connections stay open but nothing gets through either way (a network partition:
 *   only the application's own timeouts end a request).
 */
export type CutMode = 'reset' | 'blackhole';

/** A TCP proxy the test controls, between the application and a server (PostgreSQL, Redis). */
export interface TcpProxy {
  /** The local port the application connects to. */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /** Cuts every connection, open and new, the given way. */
  cut(mode: CutMode): void;
  /**
   * Lets traffic through again. Connections that lived through a blackhole are reset (their
   * protocol state is lost, as after a real partition); new connections are forwarded.
   */
  restore(): void;
  /** How many client connections are open. */
  readonly openConnections: number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: 'open' | CutMode = 'open';
  const pairs = new Set<{ client: Socket; upstream: Socket }>();

  const drop = (pair: { client: Socket; upstream: Socket }) => {
    pairs.delete(pair);
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    pair.upstream.destroy();
  };

  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (state === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    // Forwarded by hand (not pipe) so a blackhole can swallow bytes on connections that stay open.
    client.on('data', (chunk) => {
      if (state === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (state === 'open') client.write(chunk);
    });
    client.on('close', () => drop(pair));
    upstream.on('close', () => drop(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    rewrite(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut(mode) {
      state = mode;
      if (mode === 'reset') for (const pair of [...pairs]) drop(pair);
    },
    restore() {
      if (state === 'blackhole') for (const pair of [...pairs]) drop(pair);
      state = 'open';
    },
    get openConnections() {
      return pairs.size;
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
