import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { createQueueAndFerryRegistry, redactText, verifyApiKey, type FerryConfig, type Logger, type Pool } from '@ferry/shared';
import { adminRouter } from './admin/express-admin.js';
import { apiKeyFrom, isReadOnlyMethod } from './credentials.js';
import { hasValidCsrfToken, loginRouter, logout, sessionMiddleware, sessionUser } from './session-auth.js';
import { readFerryVersion } from './version.js';

export interface DashboardDeps {
  db: Pool;
  redis: Redis;
  queues: Queue[];
  logger: Logger;
  /** With a config the admin API (/api/admin/...) is served too; it needs one to start collections. */
  config?: FerryConfig;
  /** Signs sign-in cookies; with it, browsers may sign in on /login (session in Redis). */
  sessionSecret?: string;
}

/** Every error answer is built here: `{error, message}` and the right status. */
function fail(res: Response, status: 401 | 403 | 503, message: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="ferry", charset="UTF-8"');
  res.status(status).json({ error: status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'unavailable', message });
}

/**
 * The dashboard: health endpoints open to all; everything else (Bull Board's pages, its API and its static assets)
 * needs an API key, and only admins may change anything.
 */
export function createDashboardApp(deps: DashboardDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.use((req, _res, next) => {
    deps.logger.debug({ method: req.method, url: redactText(req.originalUrl) }, 'request');
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([deps.redis.ping(), deps.db.query('SELECT 1')]);
    const [redis, postgres] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unreachable'));
    const ready = redis === 'ok' && postgres === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', redis, postgres });
  });

  if (deps.sessionSecret) {
    app.use(sessionMiddleware({ redis: deps.redis, prefix: deps.config?.redis.prefix ?? deps.queues[0]?.opts.prefix ?? 'ferry', secret: deps.sessionSecret }));
    app.use(loginRouter(deps.db));
  }

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeyFrom(req.headers, new URL(req.originalUrl, 'http://dashboard').searchParams);
    if (!key && deps.sessionSecret && req.session?.user) {
      const user = await sessionUser(deps.db, req).catch(() => undefined);
      if (!user) return fail(res, 401, 'the key you signed in with was revoked; sign in again at /login');
      if (!isReadOnlyMethod(req.method) && !hasValidCsrfToken(req)) return fail(res, 403, 'missing or wrong CSRF token (X-XSRF-TOKEN)');
      if (user.role !== 'admin' && !isReadOnlyMethod(req.method) && req.path !== '/logout') return fail(res, 403, `the ${user.role} role can only look`);
      return next();
    }
    if (!key) return fail(res, 401, `sign in${deps.sessionSecret ? ' at /login or' : ''} with an API key: X-API-Key, Authorization: Bearer, HTTP Basic (key as password) or ?api_key=`);
    const who = await verifyApiKey(deps.db, key).catch(() => undefined);
    if (!who) return fail(res, 401, 'unknown or revoked API key');
    if (who.role !== 'admin' && !isReadOnlyMethod(req.method)) return fail(res, 403, `the ${who.role} role can only look`);
    next();
  });

  if (deps.config) {
    app.use(adminRouter({ ...deps, config: deps.config, version: readFerryVersion() }));
  }
  const metrics = createQueueAndFerryRegistry(deps.queues);
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await metrics.metrics();
      res.type(metrics.contentType).send(text);
    } catch (err) {
      deps.logger.warn({ err }, 'metrics collection failed');
      fail(res, 503, 'metrics are unavailable: Redis did not answer');
    }
  });
  if (deps.sessionSecret) app.post('/logout', logout);
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
