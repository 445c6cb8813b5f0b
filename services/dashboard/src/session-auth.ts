import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { verifyApiKey, type Pool, type Role } from '@ferry/shared';
import { loginPage } from './login-page.js';
import { nodeRedisFacade } from './redis-session-client.js';

export interface SessionUser {
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
const SESSION_HOURS = 12;
/** Failed sign-ins allowed per client address in the window, then 429 until it ends. */
export const SIGN_IN_FAILURES_ALLOWED = 10;
const SIGN_IN_WINDOW_MS = 15 * 60_000;

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

/** The signed-in user of a session, if its key has not been revoked since. */
export async function sessionUser(db: Pool, req: Request): Promise<SessionUser | undefined> {
  const user = req.session?.user;
  if (!user) return undefined;
  const { rows } = await db.query<{ role: Role }>('SELECT role FROM api_keys WHERE name = $1 AND revoked_at IS NULL', [user.name]);
  return rows[0] ? { name: user.name, role: rows[0].role } : undefined;
}

/** A cookie-authenticated write must echo the session's CSRF token (SameSite=Strict is the first line; this the second). */
export function hasValidCsrfToken(req: Request): boolean {
  const expected = req.session?.csrfToken;
  const given = req.get('x-xsrf-token') ?? req.get('x-csrf-token');
  if (!expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET/POST /login and POST /logout. Failed sign-ins are rate limited per client address. */
export function loginRouter(db: Pool): express.Router {
  const router = express.Router();
  router.get('/login', (_req, res) => void res.type('html').send(loginPage()));
  const limiter = rateLimit({
    windowMs: SIGN_IN_WINDOW_MS,
    limit: SIGN_IN_FAILURES_ALLOWED,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req: Request, res: Response) =>
      void res.status(429).type('html').send(loginPage('Too many failed sign-ins from your address; try again later.')),
  });
  router.post('/login', limiter, express.urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
    const body: unknown = req.body;
    const key = body && typeof body === 'object' && 'api_key' in body && typeof body.api_key === 'string' ? body.api_key.trim() : '';
    const who = key ? await verifyApiKey(db, key).catch(() => undefined) : undefined;
    if (!who) return void res.status(401).type('html').send(loginPage('Unknown or revoked API key.'));
    // A new session id at sign-in, so an id planted before it is worthless.
    req.session.regenerate((err) => {
      if (err) return void res.status(503).type('html').send(loginPage('Sessions are unavailable (Redis); use the key directly.'));
      req.session.user = who;
      req.session.csrfToken = randomBytes(32).toString('base64url');
      res.cookie(CSRF_COOKIE, req.session.csrfToken, { sameSite: 'strict', secure: req.secure, httpOnly: false });
      req.session.save(() => res.redirect(303, '/admin/queues'));
    });
  });
  return router;
}

export function logout(req: Request, res: Response): void {
  req.session.destroy(() => {
    res.clearCookie(SESSION_COOKIE).clearCookie(CSRF_COOKIE).redirect(303, '/login');
  });
}
