import { createHash, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Server } from 'oauth2-mock-server';

/**
 * Local OAuth providers for the OAuth e2e suites, all on 127.0.0.1:
 *
 * - {@link startMockOidcProvider}: a real OpenID provider (`oauth2-mock-server`: discovery, JWKS,
 *   RS256 id_tokens with the authorize request's nonce) hardened the way real providers behave:
 *   client authentication, single-use codes, redirect_uri and PKCE enforced at the token endpoint
 *   (the library alone checks a verifier only when one is sent).
 * - {@link startFakeGitHub}: GitHub's documented web flow and REST endpoints.
 */

export type Claims = Record<string, unknown>;

interface IssuedCode {
  claims: Claims;
  challenge: string | undefined;
  challengeMethod: string | undefined;
  redirectUri: string;
  used: boolean;
}

/** What a token request carried, for assertions. */
export interface TokenRequestRecord {
  clientId: string | undefined;
  clientSecret: string | undefined;
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  body: Record<string, string>;
  accept: string | undefined;
}

export interface MockOidcProvider {
  issuer: string;
  server: OAuth2Server;
  /** Every authorize request's query, in order. */
  authorizeRequests: URLSearchParams[];
  /** Every token request, in order. */
  tokenRequests: TokenRequestRecord[];
  /** The user who signs in at the next authorize request (the IdP's login page, skipped). */
  nextLogin(claims: Claims): void;
  /** The next authorize request answers `error=<error>` instead of a code (the user clicked "Cancel"). */
  denyNext(error?: string): void;
  /** Edits the next id_token's header and payload before the provider signs it. */
  tamperNextIdToken(edit: (token: { header: Record<string, unknown>; payload: Claims }) => void): void;
  /** Replaces the next signed id_token (e.g. by one signed with another key, or `alg: none`). */
  replaceNextIdToken(replace: (idToken: string) => string): void;
  /** What UserInfo answers for tokens issued from now on (default: the login claims). */
  userinfo(claims: Claims | undefined): void;
  stop(): Promise<void>;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
    secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
  };
}

function recordTokenRequest(req: IncomingMessage, body: Record<string, string>): TokenRequestRecord {
  const basic = basicCredentials(req.headers.authorization);
  return {
    clientId: basic?.id ?? body.client_id,
    clientSecret: basic?.secret ?? body.client_secret,
    authMethod: basic ? 'client_secret_basic' : body.client_secret !== undefined ? 'client_secret_post' : 'none',
    body,
    accept: req.headers.accept,
  };
}

/**
 * Why a token request must fail, as a real provider would decide, or `undefined` when it is fine:
 * wrong client credentials, an unknown or reused code, another redirect_uri, a missing or wrong
 * PKCE verifier (S256 only).
 */
function tokenRequestProblem(
  record: TokenRequestRecord,
  issued: IssuedCode | undefined,
  client: { clientId: string; clientSecret: string },
): string | undefined {
  if (record.clientId !== client.clientId || record.clientSecret !== client.clientSecret) return 'invalid_client';
  if (!issued || issued.used) return 'invalid_grant';
  issued.used = true;
  if (record.body.redirect_uri !== issued.redirectUri) return 'invalid_grant';
  if (issued.challenge === undefined || issued.challengeMethod !== 'S256') return 'invalid_grant';
  const verifier = record.body.code_verifier;
  if (typeof verifier !== 'string' || s256(verifier) !== issued.challenge) return 'invalid_grant';
  return undefined;
}

/** Starts an OpenID provider on 127.0.0.1 that accepts only `client`. */
export async function startMockOidcProvider(
  client: { clientId: string; clientSecret: string },
  options: { authMethods?: string[] } = {},
): Promise<MockOidcProvider> {
  const server = new OAuth2Server();
  // A key from node:crypto, re-created in this realm: the mock's plain-object check rejects objects
  // built by Node internals when it runs inside Jest's VM context.
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  server.issuer.keys.add(JSON.parse(JSON.stringify({ ...jwk, alg: 'RS256', kid: randomBytes(8).toString('hex') })));
  await server.start(0, '127.0.0.1');
  const issuer = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = issuer;

  const codes = new Map<string, IssuedCode>();
  const userinfoByToken = new Map<string, Claims>();
  const authorizeRequests: URLSearchParams[] = [];
  const tokenRequests: TokenRequestRecord[] = [];
  let pendingLogin: Claims = { sub: 'default-user' };
  let pendingDeny: string | undefined;
  let pendingTamper: ((token: { header: Record<string, unknown>; payload: Claims }) => void) | undefined;
  let pendingReplace: ((idToken: string) => string) | undefined;
  let userinfoOverride: Claims | undefined;

  if (options.authMethods) {
    server.service.on('beforeWellKnownOpenIdConfiguration', (response: { body: Record<string, unknown> }) => {
      response.body.token_endpoint_auth_methods_supported = options.authMethods;
    });
  }

  server.service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: IncomingMessage) => {
    const query = new URL(req.url ?? '/', issuer).searchParams;
    authorizeRequests.push(query);
    if (pendingDeny !== undefined) {
      redirect.url.searchParams.delete('code');
      redirect.url.searchParams.set('error', pendingDeny);
      redirect.url.searchParams.set('error_description', 'The user denied the request');
      pendingDeny = undefined;
      return;
    }
    const code = redirect.url.searchParams.get('code');
    if (code) {
      codes.set(code, {
        claims: pendingLogin,
        challenge: query.get('code_challenge') ?? undefined,
        challengeMethod: query.get('code_challenge_method') ?? undefined,
        redirectUri: query.get('redirect_uri') ?? '',
        used: false,
      });
    }
  });

  server.service.on(
    'beforeTokenSigning',
    (
      token: { header: Record<string, unknown>; payload: Claims },
      req: IncomingMessage & { body?: Record<string, string> },
    ) => {
      const isIdToken = !('scope' in token.payload); // the access token carries `scope`, the id_token does not
      const issued = req.body?.code ? codes.get(req.body.code) : undefined;
      if (!isIdToken || !issued) return;
      Object.assign(token.payload, issued.claims);
      // RFC 6749 §2.3.1: Basic credentials are form-encoded; the mock forgets to decode the client id.
      const basic = basicCredentials(req.headers.authorization);
      if (basic) token.payload.aud = basic.id;
      if (pendingTamper) {
        const tamper = pendingTamper;
        pendingTamper = undefined;
        tamper(token);
      }
    },
  );

  server.service.on(
    'beforeResponse',
    (
      response: { body: Record<string, unknown>; statusCode: number },
      req: IncomingMessage & { body?: Record<string, string> },
    ) => {
      const body = req.body ?? {};
      const record = recordTokenRequest(req, body);
      tokenRequests.push(record);
      const issued = codes.get(body.code);
      const problem = tokenRequestProblem(record, issued, client);
      if (problem) {
        response.statusCode = problem === 'invalid_client' ? 401 : 400;
        response.body = { error: problem };
        return;
      }
      if (typeof response.body.access_token === 'string') {
        userinfoByToken.set(response.body.access_token, userinfoOverride ?? issued!.claims);
      }
      if (pendingReplace && typeof response.body.id_token === 'string') {
        const replace = pendingReplace;
        pendingReplace = undefined;
        response.body.id_token = replace(response.body.id_token);
      }
    },
  );

  server.service.on('beforeUserinfo', (response: { body: Claims; statusCode: number }, req: IncomingMessage) => {
    const token = req.headers.authorization?.replace(/^Bearer /i, '') ?? '';
    const claims = userinfoByToken.get(token);
    if (!claims) {
      response.statusCode = 401;
      response.body = { error: 'invalid_token' };
      return;
    }
    response.body = { ...claims };
  });

  return {
    issuer,
    server,
    authorizeRequests,
    tokenRequests,
    nextLogin(claims) {
      pendingLogin = claims;
    },
    denyNext(error = 'access_denied') {
      pendingDeny = error;
    },
    tamperNextIdToken(edit) {
      pendingTamper = edit;
    },
    replaceNextIdToken(replace) {
      pendingReplace = replace;
    },
    userinfo(claims) {
      userinfoOverride = claims;
    },
    stop: () => server.stop(),
  };
}

/** A JWT with `header` and `payload`, RS256-signed by a fresh key the provider never published. */
export function signWithForeignKey(idToken: string, edit: (payload: Claims) => void = () => undefined): string {
  const [header, payload] = idToken
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Claims);
  edit(payload);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  return `${input}.${signature}`;
}

/** The same claims with `alg: none` and no signature. */
export function unsignedCopy(idToken: string): string {
  const [, payload] = idToken.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
}

// ---------------------------------------------------------------------------------------------------------------------

/** A GitHub user as the fake serves it. */
export interface GitHubUserFixture {
  id: number;
  login: string;
  name?: string | null;
  /** The public profile email of `GET /user`. */
  email?: string | null;
  avatar_url?: string;
  /** `GET /user/emails`; `undefined` answers 404 (token without `user:email`). */
  emails?: { email: string; primary: boolean; verified: boolean; visibility?: string | null }[];
}

export interface FakeGitHub {
  baseUrl: string;
  authorizeRequests: URLSearchParams[];
  tokenRequests: TokenRequestRecord[];
  /** Every API request's path and headers. */
  apiRequests: { path: string; headers: IncomingMessage['headers'] }[];
  nextLogin(user: GitHubUserFixture): void;
  denyNext(error?: string): void;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * GitHub's OAuth web flow and REST API as documented: `GET /login/oauth/authorize`,
 * `POST /login/oauth/access_token` (JSON only with `Accept: application/json`, errors as HTTP 200
 * with an `error` field, PKCE S256 enforced), `GET /user`, `GET /user/emails`.
 */
export async function startFakeGitHub(client: { clientId: string; clientSecret: string }): Promise<FakeGitHub> {
  const codes = new Map<string, IssuedCode & { user: GitHubUserFixture }>();
  const tokens = new Map<string, GitHubUserFixture>();
  const authorizeRequests: URLSearchParams[] = [];
  const tokenRequests: TokenRequestRecord[] = [];
  const apiRequests: FakeGitHub['apiRequests'] = [];
  let pendingUser: GitHubUserFixture = { id: 1, login: 'octocat' };
  let pendingDeny: string | undefined;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        authorizeRequests.push(url.searchParams);
        const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
        const state = url.searchParams.get('state');
        if (url.searchParams.get('client_id') !== client.clientId) return sendJson(res, 404, { message: 'Not Found' });
        if (pendingDeny !== undefined) {
          redirect.searchParams.set('error', pendingDeny);
          redirect.searchParams.set('error_description', 'The user has denied your application access.');
          pendingDeny = undefined;
        } else {
          const code = randomBytes(10).toString('hex');
          codes.set(code, {
            claims: {},
            user: pendingUser,
            challenge: url.searchParams.get('code_challenge') ?? undefined,
            challengeMethod: url.searchParams.get('code_challenge_method') ?? undefined,
            redirectUri: url.searchParams.get('redirect_uri') ?? '',
            used: false,
          });
          redirect.searchParams.set('code', code);
        }
        if (state !== null) redirect.searchParams.set('state', state);
        res.writeHead(302, { location: redirect.href });
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const body = Object.fromEntries(new URLSearchParams(await readBody(req)));
        const record = recordTokenRequest(req, body);
        tokenRequests.push(record);
        const issued = codes.get(body.code);
        const problem = tokenRequestProblem(record, issued, client);
        const answer: Record<string, string> = problem
          ? {
              error: problem === 'invalid_client' ? 'incorrect_client_credentials' : 'bad_verification_code',
              error_description: 'The code passed is incorrect or expired.',
            }
          : {
              access_token: `gho_${randomBytes(18).toString('hex')}`,
              token_type: 'bearer',
              scope: 'read:user,user:email',
            };
        if (!problem) tokens.set(answer.access_token, issued!.user);
        if (!req.headers.accept?.includes('application/json')) {
          // GitHub's default answer is form-encoded.
          res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
          return res.end(new URLSearchParams(answer).toString());
        }
        return sendJson(res, 200, answer); // GitHub answers errors with 200 too
      }
      if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
        apiRequests.push({ path: url.pathname, headers: req.headers });
        const token = req.headers.authorization?.replace(/^(Bearer|token) /i, '') ?? '';
        const user = tokens.get(token);
        if (!user) return sendJson(res, 401, { message: 'Bad credentials' });
        if (url.pathname === '/user') {
          const { emails: _emails, ...profile } = user;
          return sendJson(res, 200, { avatar_url: 'https://avatars.githubusercontent.com/u/1', ...profile });
        }
        if (!user.emails) return sendJson(res, 404, { message: 'Not Found' });
        return sendJson(res, 200, user.emails);
      }
      sendJson(res, 404, { message: 'Not Found' });
    })().catch((error: unknown) => sendJson(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    authorizeRequests,
    tokenRequests,
    apiRequests,
    nextLogin(user) {
      pendingUser = user;
    },
    denyNext(error = 'access_denied') {
      pendingDeny = error;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
