import { Dropbox, DropboxAuth } from 'dropbox';
import { Secret } from '../core/config/secret.js';
import { NetworkError } from '../core/errors.js';

/**
 * The one place that builds a `dropbox` SDK client. It adds what the SDK lacks:
 *  - configurable hosts (an emulator, a proxy): the SDK hard-codes https://{api,content}.dropboxapi.com, so a fetch
 *    wrapper maps those origins onto `apiBaseUrl` / `contentBaseUrl`;
 *  - secrets off the wire's URL: the SDK puts the refresh token and app secret in the query string of
 *    `/oauth2/token`; the wrapper sends them in a form body instead, as Dropbox's OAuth docs describe;
 *  - one refresh and one retry when a call meets `401 expired_access_token` (a token that died earlier than its
 *    announced `expires_in`); the SDK only refreshes before a call, from its own idea of the expiry;
 *  - one refresh in flight at a time, however many calls find the token stale together;
 *  - Node's global fetch: the SDK's Node build expects node-fetch's `response.buffer()` for downloads.
 */

export const DROPBOX_API_ORIGIN = 'https://api.dropboxapi.com';
export const DROPBOX_CONTENT_ORIGIN = 'https://content.dropboxapi.com';

/** Credentials are `Secret`s from the config, or plain strings (tests). */
export type SecretValue = Secret | string;

export type DropboxCredentials =
  /** Short-lived access tokens obtained (and renewed) with a refresh token; the app secret is absent with PKCE. */
  | { kind: 'refresh'; refreshToken: SecretValue; appKey: SecretValue; appSecret?: SecretValue }
  /** A long-lived (legacy) access token: nothing to refresh, a 401 is final. */
  | { kind: 'long-lived'; accessToken: SecretValue };

export interface DropboxClientOptions {
  /** Replaces https://api.dropboxapi.com (RPC endpoints and `/oauth2/token`). Default: real Dropbox. */
  apiBaseUrl?: string;
  /** Replaces https://content.dropboxapi.com (upload and download endpoints). Default: real Dropbox. */
  contentBaseUrl?: string;
  auth: DropboxCredentials;
  /** The fetch that sends the requests. Default: Node's global `fetch`. */
  fetch?: typeof fetch;
}

export function createDropboxClient(options: DropboxClientOptions): Dropbox {
  const origins = new Map<string, string>([
    [DROPBOX_API_ORIGIN, baseUrlOption('apiBaseUrl', options.apiBaseUrl)],
    [DROPBOX_CONTENT_ORIGIN, baseUrlOption('contentBaseUrl', options.contentBaseUrl)],
  ]);
  const credentials = options.auth;
  const secrets = credentialValues(credentials);
  const send = options.fetch ?? fetch;
  let auth: SingleFlightDropboxAuth | undefined;

  const secretsNow = () => redactions(secrets, auth);

  const dropboxFetch = async (url: string, init: SdkRequestInit = {}): Promise<Response> => {
    const target = rewriteOrigin(url, origins);
    if (isTokenEndpoint(target)) {
      const request = credentials.kind === 'refresh' ? refreshRequestWithFormBody(target, url, credentials) : { url: target, init };
      return withNodeFetchBuffer(await sendRedacted(send, request.url, request.init, secretsNow));
    }
    const response = await sendRedacted(send, target, init, secretsNow);
    const staleToken = bearerToken(init.headers);
    if (response.status !== 401 || !auth || staleToken === undefined || !isReplayable(init.body)) {
      return withNodeFetchBuffer(response);
    }
    const body = await response.text();
    if (authErrorTag(body) !== 'expired_access_token') {
      return withNodeFetchBuffer(new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers }));
    }
    // Another call may have refreshed already while this one was in flight.
    if (staleToken === auth.getAccessToken()) await auth.refreshAccessToken();
    const retry = { ...init, headers: withBearer(init.headers, auth.getAccessToken()) };
    return withNodeFetchBuffer(await sendRedacted(send, target, retry, secretsNow));
  };

  if (credentials.kind === 'refresh') {
    auth = new SingleFlightDropboxAuth({
      refreshToken: reveal(credentials.refreshToken),
      clientId: reveal(credentials.appKey),
      clientSecret: credentials.appSecret === undefined ? undefined : reveal(credentials.appSecret),
      fetch: dropboxFetch,
    });
    return new Dropbox({ auth, fetch: dropboxFetch });
  }
  return new Dropbox({ auth: new DropboxAuth({ accessToken: reveal(credentials.accessToken), fetch: dropboxFetch }), fetch: dropboxFetch });
}

/** What the SDK passes to fetch: a plain header object and a string, Buffer or (for uploads) the caller's contents. */
interface SdkRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The SDK's refresh is not single-flight: N calls that find the token stale would each ask for a new one. */
class SingleFlightDropboxAuth extends DropboxAuth {
  private refreshing: Promise<void> | undefined;

  override refreshAccessToken(scope?: string[]): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        // Typed `void` by the SDK's declarations; the implementation returns the token request's promise.
        await (super.refreshAccessToken(scope) as unknown);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}

function baseUrlOption(name: string, value: string | undefined): string {
  if (value === undefined) return name === 'apiBaseUrl' ? DROPBOX_API_ORIGIN : DROPBOX_CONTENT_ORIGIN;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`createDropboxClient: ${name} is ${JSON.stringify(value)}, expected an http(s) URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`createDropboxClient: ${name} is ${JSON.stringify(value)}, expected an http(s) URL`);
  }
  return value.replace(/\/+$/, '');
}

function rewriteOrigin(url: string, origins: ReadonlyMap<string, string>): string {
  for (const [origin, base] of origins) {
    if (url === origin || url.startsWith(`${origin}/`)) return base + url.slice(origin.length);
  }
  return url;
}

function isTokenEndpoint(url: string): boolean {
  return new URL(url).pathname.endsWith('/oauth2/token');
}

/**
 * The SDK sends `POST /oauth2/token?grant_type=refresh_token&refresh_token=…&client_id=…&client_secret=…` with no
 * body. URLs end up in proxy logs and error messages, so the same parameters go in an
 * `application/x-www-form-urlencoded` body, built from our own credentials rather than re-parsed from the URL.
 */
function refreshRequestWithFormBody(
  rewrittenUrl: string,
  sdkUrl: string,
  credentials: Extract<DropboxCredentials, { kind: 'refresh' }>,
): { url: string; init: SdkRequestInit } {
  const url = new URL(rewrittenUrl);
  url.search = '';
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: reveal(credentials.refreshToken),
    client_id: reveal(credentials.appKey),
  });
  if (credentials.appSecret !== undefined) form.set('client_secret', reveal(credentials.appSecret));
  const scope = /[?&]scope=([^&]*)/.exec(sdkUrl)?.[1];
  if (scope) form.set('scope', decodeURIComponent(scope));
  return {
    url: url.toString(),
    init: { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() },
  };
}

async function sendRedacted(
  send: typeof fetch,
  url: string,
  init: SdkRequestInit,
  secretsNow: () => string[],
): Promise<Response> {
  try {
    return await send(url, init as RequestInit);
  } catch (err) {
    const { origin, pathname } = new URL(url);
    const reason = err instanceof Error ? `${err.message}${causeMessage(err)}` : String(err);
    throw new NetworkError(`Dropbox request ${init.method ?? 'GET'} ${origin}${pathname} failed: ${redact(reason, secretsNow())}`);
  }
}

function causeMessage(err: Error): string {
  return err.cause instanceof Error ? ` (${err.cause.message})` : '';
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[redacted]');
  return out;
}

function credentialValues(credentials: DropboxCredentials): string[] {
  if (credentials.kind === 'long-lived') return [reveal(credentials.accessToken)];
  const values = [reveal(credentials.refreshToken)];
  if (credentials.appSecret !== undefined) values.push(reveal(credentials.appSecret));
  return values;
}

function redactions(secrets: readonly string[], auth: DropboxAuth | undefined): string[] {
  const current = auth?.getAccessToken();
  return current ? [...secrets, current] : [...secrets];
}

function reveal(value: SecretValue): string {
  return value instanceof Secret ? value.reveal() : value;
}

/** Bodies we can send twice. A stream would arrive empty the second time, so a 401 on it is left to the caller. */
function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

function authErrorTag(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return undefined;
    const error: unknown = parsed.error;
    if (typeof error !== 'object' || error === null || !('.tag' in error)) return undefined;
    return typeof error['.tag'] === 'string' ? error['.tag'] : undefined;
  } catch {
    return undefined;
  }
}

function bearerToken(headers: Record<string, string> | undefined): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'authorization' && value.startsWith('Bearer ')) return value.slice('Bearer '.length);
  }
  return undefined;
}

function withBearer(headers: Record<string, string> | undefined, token: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() !== 'authorization') out[name] = value;
  out.Authorization = `Bearer ${token}`;
  return out;
}

/** The SDK's Node build reads downloads with node-fetch's `response.buffer()`, which a WHATWG Response lacks. */
function withNodeFetchBuffer(response: Response): Response {
  return Object.assign(response, { buffer: async () => Buffer.from(await response.arrayBuffer()) });
}
