import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a fake vendor received it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake vendor's answer; `undefined` means never answer (a hung vendor). */
export type VendorAnswer = { status: number; body: unknown } | undefined;

export interface FakeVendor {
  baseUrl: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a real HTTP server on 127.0.0.1 that records every request and answers with `answer(request)`. */
export async function startVendor(answer: (request: SeenRequest) => VendorAnswer): Promise<FakeVendor> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const reply = answer(request);
      if (!reply) return;
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A form body as an object; a field sent twice shows up as an array so exact comparisons catch it. */
export function formFields(body: string): Record<string, string | string[]> {
  const params = new URLSearchParams(body);
  const fields: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    fields[key] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

/** A JSON body, or a string saying it was not JSON (so an exact comparison fails visibly). */
export function jsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return `not JSON: ${body}`;
  }
}
