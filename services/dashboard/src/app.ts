import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { type Role } from '@ferry/shared/auth';
import { redactText, type FerryConfig, type Logger } from '@ferry/shared/core';
import { createQueueAndFerryRegistry } from '@ferry/shared/metrics';
import { type Pool } from '@ferry/shared/postgres';
import { adminRouter } from './admin/express-admin.js';
import { boardReadLimits, isAdminOnlyBoardRead } from './board-limits.js';
import { boardRunRecords } from './board-runs.js';
import { apiKeyFrom, isReadOnlyMethod } from './credentials.js';
import { isCrossSiteWrite } from './cross-site.js';
import { checkHealth } from './health-checks.js';
import { answerForThrown, errorAnswer, retryLater, send } from './http-answer.js';
import { ApiKeyGuard } from './key-guard.js';
import { securityHeaders } from './security-headers.js';
import { hasValidCsrfToken, loginRedirectFor, loginRouter, logout, sessionMiddleware, sessionUser } from './session-auth.js';
import { readFerryVersion } from './version.js';

export interface DashboardDeps {
  db: Pool;
  /** Bull Board's queues and the sessions use it; a queue-role connection (commands fail rather than hang forever). */
  redis: Redis;
  /** Answers /readyz and system info: a connection that fails fast. Default: `redis` (health checks time out anyway). */
  probeRedis?: Redis;
  queues: Queue[];
  logger: Logger;
  /** With a config the admin API (/api/admin/...) is served too; it needs one to start collections. */
  config?: FerryConfig;
  /** Signs sign-in cookies; with it, browsers may sign in on /login (session in Redis). */
  sessionSecret?: string;
  /** Express's `trust proxy` (TRUST_PROXY): whose X-Forwarded-For gives the client address. Default: no proxy. */
  trustProxy?: false | number | string[];
}

/** A browser navigating (not a script or Bull Board's API client): it is sent to the sign-in page instead of a 401. */
function isPageRequest(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';
}

/** The key store (PostgreSQL) did not answer: nothing was decided, so the client should simply ask again. */
const STORE_UNAVAILABLE = retryLater(503, 'the key store (PostgreSQL) is unavailable; try again shortly', 5);

/**
 * The dashboard: health endpoints open to all; everything else (Bull Board's pages, its API and its static assets)
 * needs an API key, and only admins may change anything.
 */
export function createDashboardApp(deps: DashboardDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Decides req.ip (the sign-in limit's key) and req.secure (Secure cookies) behind a reverse proxy.
  app.set('trust proxy', deps.trustProxy ?? false);
  const probeRedis = deps.probeRedis ?? deps.redis;
  const signIn = deps.sessionSecret !== undefined;

  // Redacting costs time on every request, before authentication: only when the line is written.
  const logRequests = deps.logger.isLevelEnabled('debug');
  app.use((req, _res, next) => {
    if (logRequests) deps.logger.debug({ method: req.method, url: redactText(req.originalUrl) }, 'request');
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const health = await checkHealth({ redis: probeRedis, db: deps.db });
    const ready = health.redis.status === 'ok' && health.postgres.status === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', redis: health.redis.status, postgres: health.postgres.status });
  });

  // Before any credential is looked at: a browser's write from another site fails whatever it carries.
  app.use((req, res, next) => {
    if (isCrossSiteWrite(req.method, req.headers, `${req.protocol}://${req.host}`)) {
      return send(res, errorAnswer(403, 'a write from another site (Origin or Sec-Fetch-Site) is refused'));
    }
    next();
  });

  const guard = new ApiKeyGuard(deps.db);
  if (deps.sessionSecret) {
    app.use(sessionMiddleware({ redis: deps.redis, prefix: deps.config?.redis.prefix ?? deps.queues[0]?.opts.prefix ?? 'ferry', secret: deps.sessionSecret }));
    app.use(loginRouter(guard, deps.sessionSecret));
  }

  const unauthorized = (req: Request, res: Response, message: string) => {
    if (signIn && isPageRequest(req)) return res.redirect(303, loginRedirectFor(req));
    send(res, errorAnswer(401, message));
  };

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeyFrom(req.headers, new URL(req.originalUrl, 'http://dashboard').searchParams);
    let role: Role;
    if (!key && signIn && req.session?.user) {
      let user;
      try {
        user = await sessionUser(deps.db, req);
      } catch {
        // Not a revoked key, just no answer: the session stays for when PostgreSQL is back.
        return send(res, STORE_UNAVAILABLE);
      }
      if (!user) {
        req.session.destroy(() => undefined);
        return unauthorized(req, res, 'the key you signed in with was revoked; sign in again at /login');
      }
      if (!isReadOnlyMethod(req.method) && !hasValidCsrfToken(req)) return send(res, errorAnswer(403, 'missing or wrong CSRF token (X-XSRF-TOKEN)'));
      role = user.role;
    } else {
      if (!key) return unauthorized(req, res, `sign in${signIn ? ' at /login or' : ''} with an API key: X-API-Key, Authorization: Bearer, HTTP Basic (key as password) or ?api_key=`);
      const check = await guard.check(key, req.ip ?? 'unknown');
      if (check.outcome === 'unavailable') return send(res, STORE_UNAVAILABLE);
      if (check.outcome === 'refused') {
        return send(res, check.retryAfterSeconds === undefined
          ? errorAnswer(401, 'unknown or revoked API key')
          : retryLater(429, 'too many wrong keys from your address; a correct key still gets in', check.retryAfterSeconds));
      }
      role = check.owner.role;
    }
    if (role !== 'admin' && !isReadOnlyMethod(req.method) && req.path !== '/logout') return send(res, errorAnswer(403, `the ${role} role can only look`));
    if (role !== 'admin' && req.path.startsWith('/admin/queues/') && isAdminOnlyBoardRead(req.path.slice('/admin/queues'.length))) {
      return send(res, errorAnswer(403, `the ${role} role does not see Redis details or worker addresses`));
    }
    next();
  });

  if (deps.config) {
    app.use(adminRouter({ ...deps, probeRedis, config: deps.config, version: readFerryVersion() }));
  }
  const metrics = createQueueAndFerryRegistry(deps.queues);
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await metrics.metrics();
      res.type(metrics.contentType).send(text);
    } catch (err) {
      deps.logger.warn({ err }, 'metrics collection failed');
      send(res, errorAnswer(503, 'metrics are unavailable: Redis did not answer'));
    }
  });
  if (signIn) app.post('/logout', logout);
  app.get('/', (_req, res) => res.redirect('/admin/queues'));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: deps.queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'ferry' } },
  });
  const board = serverAdapter.getRouter() as express.Express;
  board.disable('x-powered-by');
  app.use('/admin/queues/api', boardReadLimits());
  // Console actions that would drop a run's queued work are recorded in the run, or refused (board-runs.ts).
  app.use('/admin/queues/api', boardRunRecords({ db: deps.db, queues: deps.queues }));
  app.use('/admin/queues', board);
  app.use((_req: Request, res: Response) => send(res, errorAnswer(404, 'no such page')));
  // Last: whatever a parser or a router threw becomes a short JSON answer, never a stack trace with server paths.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const answer = answerForThrown(err);
    if (answer.status >= 500) deps.logger.error({ err }, 'request failed');
    send(res, answer);
  });
  return app;
}
