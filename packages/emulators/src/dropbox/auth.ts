import { randomBytes } from 'node:crypto';
import { oauthError, type AuthErrorTag } from './errors.js';
import { jsonReply, type Reply } from './reply.js';

/**
 * Tokens: refresh tokens (registered up front) are exchanged at `/oauth2/token` for short-lived access tokens; the
 * API checks `Authorization: Bearer <access token>`. Long-lived tokens never expire (legacy Dropbox tokens).
 */

export interface AppCredentials {
  key: string;
  secret: string;
}

interface AccessToken {
  /** Epoch ms; undefined for long-lived tokens. */
  expiresAt: number | undefined;
  /** Set by the `expire-token` fault or `expire`: Dropbox ended it before `expires_in` said. */
  expiredEarly: boolean;
}

export type TokenCheck = 'valid' | AuthErrorTag;

export class TokenRegistry {
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens: Set<string>;

  constructor(
    readonly app: AppCredentials,
    refreshTokens: readonly string[],
    longLivedTokens: readonly string[],
  ) {
    this.refreshTokens = new Set(refreshTokens);
    for (const token of longLivedTokens) this.accessTokens.set(token, { expiresAt: undefined, expiredEarly: false });
  }

  addRefreshToken(token: string): void {
    this.refreshTokens.add(token);
  }

  addLongLivedToken(token: string): void {
    this.accessTokens.set(token, { expiresAt: undefined, expiredEarly: false });
  }

  /** Short-lived tokens look like Dropbox's (`sl.` prefix). */
  issue(lifetimeSeconds: number): string {
    const token = `sl.${randomBytes(32).toString('base64url')}`;
    this.accessTokens.set(token, { expiresAt: Date.now() + lifetimeSeconds * 1000, expiredEarly: false });
    return token;
  }

  check(token: string): TokenCheck {
    const entry = this.accessTokens.get(token);
    if (!entry) return 'invalid_access_token';
    if (entry.expiredEarly || (entry.expiresAt !== undefined && Date.now() >= entry.expiresAt)) return 'expired_access_token';
    return 'valid';
  }

  expire(token: string): void {
    const entry = this.accessTokens.get(token);
    if (entry) entry.expiredEarly = true;
  }

  expireAll(): void {
    for (const entry of this.accessTokens.values()) entry.expiredEarly = true;
  }

  /**
   * `POST /oauth2/token` with `grant_type=refresh_token`. Parameters may come in the query string (as the JS SDK
   * sends them) or an `application/x-www-form-urlencoded` body (as the OAuth guide describes); the client may
   * authenticate with `client_id`/`client_secret` parameters or HTTP Basic. A missing secret is accepted (PKCE apps).
   */
  refreshGrant(params: URLSearchParams, authorization: string | undefined, lifetimeSeconds: number): { reply: Reply; issued: boolean } {
    const grantType = params.get('grant_type');
    if (grantType === null) return { reply: oauthError('invalid_request', 'No grant_type provided'), issued: false };
    if (grantType !== 'refresh_token') {
      return { reply: oauthError('unsupported_grant_type', `grant_type ${grantType} is not emulated`), issued: false };
    }
    const client = basicCredentials(authorization) ?? { id: params.get('client_id'), secret: params.get('client_secret') };
    if (client.id === null) return { reply: oauthError('invalid_request', 'No auth function available for given request'), issued: false };
    if (client.id !== this.app.key || (client.secret !== null && client.secret !== this.app.secret)) {
      return { reply: oauthError('invalid_client', 'Invalid client_id or client_secret'), issued: false };
    }
    const refreshToken = params.get('refresh_token');
    if (refreshToken === null) return { reply: oauthError('invalid_request', 'No refresh_token provided'), issued: false };
    if (!this.refreshTokens.has(refreshToken)) {
      return { reply: oauthError('invalid_grant', 'refresh token is invalid or revoked'), issued: false };
    }
    const accessToken = this.issue(lifetimeSeconds);
    return {
      reply: jsonReply({ access_token: accessToken, token_type: 'bearer', expires_in: lifetimeSeconds }),
      issued: true,
    };
  }
}

function basicCredentials(authorization: string | undefined): { id: string | null; secret: string | null } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? { id: decoded, secret: null } : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** `Bearer <token>` from the Authorization header, or why it is unusable (Dropbox answers 400 for both). */
export function bearerFrom(authorization: string | undefined): { token: string } | { problem: string } {
  if (authorization === undefined || authorization === '') {
    return { problem: 'Must provide HTTP header "Authorization" or URL parameter "authorization".' };
  }
  const match = /^Bearer\s+(\S+)$/.exec(authorization);
  if (!match?.[1]) {
    // Dropbox echoes the header here; the emulator does not, so tokens never reach a test log.
    return { problem: 'Invalid authorization value in HTTP header "Authorization". Expecting "Bearer <oauth2-access-token>".' };
  }
  return { token: match[1] };
}
