/**
 * Headers of a request a browser sends from the application's own page: an `Origin` equal to the
 * host it is sent to. State-changing requests that carry the session cookie need one
 * (`allowMissingOrigin` is off by default); with `appUrl` set, pass that origin instead.
 */
export function sameSite(origin = 'http://app.test'): Record<string, string> {
  return { Host: new URL(origin).host, Origin: origin };
}
