import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express, { type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { findActiveApiKey, type Role } from '@ferry/shared/auth';
import { type Pool } from '@ferry/shared/postgres';
import type { ApiKeyGuard } from './key-guard.js';
import { loginPage } from './login-page.js';
import { nodeRedisFacade } from './redis-session-client.js';

/** A signed-in browser: the id of the key it signed in with, so revoking or recreating that key ends the session. */
export interface SessionUser {
  keyId: number;
  name: string;
  role: Role;
}

declare module 'express-session' {
  interface SessionData {
    user?: SessionUser;
    csrfToken?: string;
  }
}

/** Readable by the page's script (not HttpOnly): Bull Board's HTTP client echoes it back as X-XSRF-TOKEN. */
export const CSRF_COOKIE = 'XSRF-TOKEN';
const SESSION_COOKIE = 'ferry.sid';
/** The sign-in form's CSRF cookie: before signing in there is no session to keep a token in. */
const LOGIN_CSRF_COOKIE = 'ferry.login';
const LOGIN_FORM_MS = 60 * 60_000;
const SESSION_HOURS = 12;
const AFTER_SIGN_IN = '/admin/queues';

export function sessionMiddleware(options: { redis: Redis; prefix: string; secret: string }): RequestHandler {
  return session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store: new RedisStore({ client: nodeRedisFacade(options.redis), prefix: `${options.prefix}:session:`, ttl: SESSION_HOURS * 3600 }),
    resave: false,
    saveUninitialized: false,
    // 'auto': Secure when the request came over HTTPS (behind a proxy that says so), so plain-HTTP localhost still works.
    cookie: { httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: SESSION_HOURS * 3_600_000 },
  });
}

/** The signed-in user of a session while the very key it signed in with is active; throws when the store does not answer. */
export async function sessionUser(db: Pool, req: Request): Promise<SessionUser | undefined> {
  const user = req.session?.user;
  // Sessions made before keys had ids carry none: they sign in again.
  if (!user || typeof user.keyId !== 'number') return undefined;
  const key = await findActiveApiKey(db, user.keyId);
  return key ? { keyId: key.id, name: key.name, role: key.role } : undefined;
}

function sameSecret(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A cookie-authenticated write must echo the session's CSRF token (SameSite=Strict is the first line; this the second). */
export function hasValidCsrfToken(req: Request): boolean {
  return sameSecret(req.session?.csrfToken, req.get('x-xsrf-token') ?? req.get('x-csrf-token'));
}

/** Where to go after signing in: a path on this dashboard only, so the form cannot send anyone to another site. */
export function safeReturnPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : AFTER_SIGN_IN;
}

/** The sign-in page's address for a browser that asked for `req` without being signed in. */
export function loginRedirectFor(req: Request): string {
  return `/login?next=${encodeURIComponent(req.originalUrl)}`;
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(/;\s*/)) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === name) return decodeURIComponent(pair.slice(eq + 1));
  }
  return undefined;
}

/**
 * The sign-in form's CSRF token: an HMAC of a random cookie value. Another site can neither read the cookie nor make
 * a matching token, so it cannot sign a browser in with the other site's own key (login CSRF).
 */
function loginFormToken(secret: string, cookieToken: string): string {
  return createHmac('sha256', secret).update(`login-form:${cookieToken}`).digest('base64url');
}

function sendLoginPage(req: Request, res: Response, secret: string, status: number, next: string, error?: string): void {
  const cookieToken = randomBytes(32).toString('base64url');
  res.cookie(LOGIN_CSRF_COOKIE, cookieToken, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/login', maxAge: LOGIN_FORM_MS });
  res.status(status).type('html').send(loginPage({ csrfToken: loginFormToken(secret, cookieToken), next, error }));
}

function formField(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object' || !(name in body)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * GET/POST /login. The key is checked by the same guard as keys in headers: wrong keys count per client address, a
 * correct one signs in from any address, and a store that does not answer gives 503 and counts nothing.
 */
export function loginRouter(guard: ApiKeyGuard, secret: string): express.Router {
  const router = express.Router();
  router.get('/login', (req, res) => sendLoginPage(req, res, secret, 200, safeReturnPath(req.query['next'])));
  router.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
    const body: unknown = req.body;
    const next = safeReturnPath(formField(body, 'next'));
    const cookieToken = cookieValue(req, LOGIN_CSRF_COOKIE);
    if (!cookieToken || !sameSecret(loginFormToken(secret, cookieToken), formField(body, 'csrf'))) {
      return sendLoginPage(req, res, secret, 403, next, 'The sign-in form expired or came from another page; sign in again.');
    }
    const key = formField(body, 'api_key')?.trim() ?? '';
    if (!key) return sendLoginPage(req, res, secret, 401, next, 'Unknown or revoked API key.');
    const check = await guard.check(key, req.ip ?? 'unknown');
    if (check.outcome === 'unavailable') {
      res.setHeader('Retry-After', '5');
      return sendLoginPage(req, res, secret, 503, next, 'The key store (PostgreSQL) is unavailable; try again shortly.');
    }
    if (check.outcome === 'refused') {
      if (check.retryAfterSeconds === undefined) return sendLoginPage(req, res, secret, 401, next, 'Unknown or revoked API key.');
      res.setHeader('Retry-After', String(check.retryAfterSeconds));
      return sendLoginPage(req, res, secret, 429, next, 'Too many failed sign-ins from your address; a correct key still signs in.');
    }
    const who = check.owner;
    // A new session id at sign-in, so an id planted before it is worthless.
    req.session.regenerate((err) => {
      if (err) return sendLoginPage(req, res, secret, 503, next, 'Sessions are unavailable (Redis); use the key directly.');
      req.session.user = { keyId: who.id, name: who.name, role: who.role };
      req.session.csrfToken = randomBytes(32).toString('base64url');
      res.clearCookie(LOGIN_CSRF_COOKIE, { path: '/login' });
      res.cookie(CSRF_COOKIE, req.session.csrfToken, { sameSite: 'strict', secure: req.secure, httpOnly: false });
      req.session.save(() => res.redirect(303, next));
    });
  });
  return router;
}

export function logout(req: Request, res: Response): void {
  req.session.destroy(() => {
    res.clearCookie(SESSION_COOKIE).clearCookie(CSRF_COOKIE).redirect(303, '/login');
  });
}
