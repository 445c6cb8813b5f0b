import express, { type NextFunction, type Request, type Response } from 'express';
import { errorAnswer, send } from '../http-answer.js';
import type { AdminDeps } from './admin-http.js';
import { ADMIN_ROUTES } from './routes.js';

/** Mounts the route table on Express: the only place the admin API touches Express. */
export function adminRouter(deps: AdminDeps): express.Router {
  const router = express.Router();
  router.use('/api/admin', express.json({ limit: '64kb' }));
  for (const route of ADMIN_ROUTES) {
    const method = route.method === 'GET' ? 'get' : 'post';
    router[method](route.path, async (req: Request, res: Response) => {
      try {
        const body: unknown = req.body;
        send(res, await route.handler({ body, query: new URL(req.originalUrl, 'http://dashboard').searchParams }, deps));
      } catch (err) {
        deps.logger.error({ err, route: route.path }, 'admin API handler failed');
        send(res, errorAnswer(500, 'internal error; see the dashboard log'));
      }
    });
  }
  router.all('/api/admin/{*rest}', (_req: Request, res: Response) => send(res, errorAnswer(404, 'no such admin API route')));
  // express.json's errors (malformed JSON, too large) become the same error shape as the handlers'.
  router.use('/api/admin', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err && typeof err === 'object' && 'status' in err && err.status === 400) {
      return send(res, errorAnswer(400, 'the body is not valid JSON', [{ field: '(body)', message: 'expected a JSON object' }]));
    }
    if (err && typeof err === 'object' && 'status' in err && err.status === 415) {
      return send(res, errorAnswer(415, 'the body cannot be decoded', [{ field: '(body)', message: 'expected UTF-8 JSON, without a content encoding or with gzip/deflate/br' }]));
    }
    if (err && typeof err === 'object' && 'status' in err && err.status === 413) {
      return send(res, errorAnswer(400, 'the body is too large', [{ field: '(body)', message: 'expected at most 64 KiB' }]));
    }
    next(err);
  });
  return router;
}
