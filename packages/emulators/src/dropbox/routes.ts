import type { EmulatorRequest } from '../common/http-server.js';
import type { FaultRule } from '../common/control.js';
import { bearerFrom } from './auth.js';
import type { DropboxState, Route, RouteCall, RouteStyle } from './context.js';
import { authError, badRequest, rateLimited, rateLimitedText, routeError, serverError, tagged, unknownRoute } from './errors.js';
import { deleteRoutes } from './delete-routes.js';
import { fileRoutes } from './file-routes.js';
import { resetReply, textReply, type Reply } from './reply.js';
import { DropboxCounter, DropboxFault } from './settings.js';
import { uploadRoutes } from './upload-routes.js';

/** The route table, and the checks every call passes in order: faults, auth, rate limits, wire format, the route. */

export const routes: Record<string, Route> = { ...uploadRoutes, ...fileRoutes, ...deleteRoutes };

export const TOKEN_ROUTE = 'oauth2/token';

/** `/2/files/upload` -> `files/upload`; `/oauth2/token` -> `oauth2/token`. */
function routeName(path: string): string | undefined {
  if (path === `/${TOKEN_ROUTE}`) return TOKEN_ROUTE;
  return path.startsWith('/2/') ? path.slice(3) : undefined;
}

export async function answer(state: DropboxState, req: EmulatorRequest): Promise<Reply> {
  const name = routeName(req.path);
  if (name === undefined) return unknownRoute(req.path);
  state.control.count(DropboxCounter.calls(name));
  const reset = state.control.takeFault(req.path, [DropboxFault.ConnectionReset]);
  if (reset && reset.params?.afterProcessing !== true) return resetReply;
  const reply = await processCall(state, name, req);
  return reset ? resetReply : reply;
}

async function processCall(state: DropboxState, name: string, req: EmulatorRequest): Promise<Reply> {
  const { control } = state;
  const failure = control.takeFault(req.path, [DropboxFault.ServerError]);
  if (failure) return serverError(failure.params?.status === 503 ? 503 : 500, numberParam(failure, 'retryAfterSeconds'));

  if (name === TOKEN_ROUTE) return tokenEndpoint(state, req);
  const route = routes[name];
  if (!route) return unknownRoute(name);
  const methodOk = req.method === 'POST' || (route.style === 'download' && req.method === 'GET');
  if (!methodOk) return textReply(`Error in call to API function "${name}": Method ${req.method} not allowed`, 405);

  const bearer = bearerFrom(header(req, 'authorization') ?? req.query.get('authorization') ?? undefined);
  if ('problem' in bearer) return badRequest(name, bearer.problem);
  const check = state.tokens.check(bearer.token);
  if (check !== 'valid') return authError(check);
  if (control.takeFault(req.path, [DropboxFault.ExpireToken])) {
    state.tokens.expire(bearer.token);
    return authError('expired_access_token');
  }

  const throttled = control.takeFault(req.path, [DropboxFault.TooManyRequests]);
  if (throttled) {
    const wait = numberParam(throttled, 'retryAfterSeconds') ?? 1;
    return throttled.params?.body === 'text' ? rateLimitedText(wait) : rateLimited('too_many_requests', wait);
  }
  if (route.writes) {
    const contended = control.takeFault(req.path, [DropboxFault.TooManyWriteOperations]);
    if (contended) return rateLimited('too_many_write_operations', numberParam(contended, 'retryAfterSeconds') ?? 1);
    if (control.takeFault(req.path, [DropboxFault.WriteContention])) {
      return routeError(tagged('path', { reason: tagged('too_many_write_operations') }));
    }
  }

  const call = callOf(name, route.style, req);
  return 'problem' in call ? badRequest(name, call.problem) : route.handle(state, call);
}

/** Content-Type and argument placement per route style, checked as strictly as Dropbox does. */
function callOf(name: string, style: RouteStyle, req: EmulatorRequest): RouteCall | { problem: string } {
  const contentType = header(req, 'content-type') ?? '';
  const corsHack = 'text/plain; charset=dropbox-cors-hack';
  if (style === 'rpc') {
    const accepted = ['application/json', 'application/json; charset=utf-8', corsHack];
    if (!accepted.includes(contentType.toLowerCase())) return badContentType(contentType, accepted);
    return { name, path: req.path, rawArg: req.body.toString('utf8'), argSource: 'body', body: req.body };
  }
  if (style === 'upload') {
    const accepted = ['application/octet-stream', corsHack];
    if (!accepted.includes(contentType.toLowerCase())) return badContentType(contentType, accepted);
  } else if (contentType !== '') {
    return {
      problem: `You provided a non-empty HTTP "Content-Type" header ("${contentType}").  This API function requires that the header be missing or empty.`,
    };
  }
  const rawArg = header(req, 'dropbox-api-arg') ?? req.query.get('arg');
  if (rawArg === null) return { problem: 'Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".' };
  return { name, path: req.path, rawArg, argSource: 'header', body: req.body };
}

function badContentType(given: string, accepted: string[]): { problem: string } {
  return {
    problem: `Bad HTTP "Content-Type" header: "${given}".  Expecting one of ${accepted.map((a) => `"${a}"`).join(', ')}.`,
  };
}

function tokenEndpoint(state: DropboxState, req: EmulatorRequest): Reply {
  if (req.method !== 'POST') return textReply('Method not allowed', 405);
  const params = new URLSearchParams(req.query);
  if ((header(req, 'content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(req.body.toString('utf8'))) params.set(key, value);
  }
  const lifetime = state.control.settings.accessTokenLifetimeSeconds;
  const { reply, issued } = state.tokens.refreshGrant(params, header(req, 'authorization'), lifetime);
  if (issued) state.control.count(DropboxCounter.tokenRefreshes);
  return reply;
}

function header(req: EmulatorRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberParam(rule: FaultRule, name: string): number | undefined {
  const value = rule.params?.[name];
  return typeof value === 'number' ? value : undefined;
}
