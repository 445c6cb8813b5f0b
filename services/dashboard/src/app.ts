import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { verifyApiKey } from '@ferry/shared/auth';
import { redactText, type FerryConfig, type Logger } from '@ferry/shared/core';
import { createQueueAndFerryRegistry } from '@ferry/shared/metrics';
import { type Pool } from '@ferry/shared/postgres';
import { adminRouter } from './admin/express-admin.js';
import { apiKeyFrom, isReadOnlyMethod } from './credentials.js';
import { checkHealth } from './health-checks.js';
import { errorAnswer, send } from './http-answer.js';
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

/**
 * The dashboard: health endpoints open to all; everything else (Bull Board's pages, its API and its static assets)
 * needs an API key, and only admins may change anything.
 */
export function createDashboardApp(deps: DashboardDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Decides req.ip (the sign-in limit's key) and req.secure (Secure cookies) behind a reverse proxy.
  app.set('trust proxy', deps.trustProxy ?? false);
  const probeRedis = deps.probeRedis ?? deps.redis;
  const signIn = deps.sessionSecret !== undefined;

  app.use((req, _res, next) => {
    deps.logger.debug({ method: req.method, url: redactText(req.originalUrl) }, 'request');
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const health = await checkHealth({ redis: probeRedis, db: deps.db });
    const ready = health.redis.status === 'ok' && health.postgres.status === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', redis: health.redis.status, postgres: health.postgres.status });
  });

  if (deps.sessionSecret) {
    app.use(sessionMiddleware({ redis: deps.redis, prefix: deps.config?.redis.prefix ?? deps.queues[0]?.opts.prefix ?? 'ferry', secret: deps.sessionSecret }));
    app.use(loginRouter(deps.db, deps.sessionSecret));
  }

  const unauthorized = (req: Request, res: Response, message: string) => {
    if (signIn && isPageRequest(req)) return res.redirect(303, loginRedirectFor(req));
    send(res, errorAnswer(401, message));
  };

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeyFrom(req.headers, new URL(req.originalUrl, 'http://dashboard').searchParams);
    if (!key && signIn && req.session?.user) {
      const user = await sessionUser(deps.db, req).catch(() => undefined);
      if (!user) {
        req.session.destroy(() => undefined);
        return unauthorized(req, res, 'the key you signed in with was revoked; sign in again at /login');
      }
      if (!isReadOnlyMethod(req.method) && !hasValidCsrfToken(req)) return send(res, errorAnswer(403, 'missing or wrong CSRF token (X-XSRF-TOKEN)'));
      if (user.role !== 'admin' && !isReadOnlyMethod(req.method) && req.path !== '/logout') return send(res, errorAnswer(403, `the ${user.role} role can only look`));
      return next();
    }
    if (!key) return unauthorized(req, res, `sign in${signIn ? ' at /login or' : ''} with an API key: X-API-Key, Authorization: Bearer, HTTP Basic (key as password) or ?api_key=`);
    const who = await verifyApiKey(deps.db, key).catch(() => undefined);
    if (!who) return send(res, errorAnswer(401, 'unknown or revoked API key'));
    if (who.role !== 'admin' && !isReadOnlyMethod(req.method)) return send(res, errorAnswer(403, `the ${who.role} role can only look`));
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
  app.use('/admin/queues', serverAdapter.getRouter() as express.Router);
  return app;
}
