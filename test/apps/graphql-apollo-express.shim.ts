/**
 * A stand-in for `@as-integrations/express5` (Apollo Server 5's Express integration, which
 * `@nestjs/apollo` loads for Express), not installed in this repository. It follows the
 * integration guide of Apollo Server (`executeHTTPGraphQLRequest` with a `HeaderMap`) and the
 * package's own code: the context function receives `{ req, res }`, response headers are set
 * with `res.setHeader`. Everything else in the GraphQL tests (Nest's driver, Apollo's execution and
 * error formatting, the guard) is the real thing. Remove this file once the package is a dev dependency.
 */
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';

interface ExpressRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}
interface ExpressResponse {
  statusCode: number;
  setHeader(name: string, value: string): void;
  send(body: string): void;
  write(chunk: string): void;
  end(): void;
}

export function expressMiddleware(
  server: ApolloServer<BaseContext>,
  options?: { context?: (args: { req: ExpressRequest; res: ExpressResponse }) => Promise<BaseContext> },
) {
  server.assertStarted('expressMiddleware()');
  const context = options?.context ?? (async () => ({}));
  return (req: ExpressRequest, res: ExpressResponse, next: (error?: unknown) => void): void => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const search = new URL(req.url, 'http://localhost').search;
    server
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search, body: req.body },
        context: () => context({ req, res }),
      })
      .then(async (response) => {
        for (const [key, value] of response.headers) res.setHeader(key, value);
        res.statusCode = response.status ?? 200;
        if (response.body.kind === 'complete') return res.send(response.body.string);
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch(next);
  };
}
