import type { Response } from 'express';

/** What a handler answers: plain data, so handlers need no Express; `send` is the one place it meets Express. */
export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FieldProblem {
  field: string;
  message: string;
}

const ERROR_CODES = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  500: 'internal',
  503: 'unavailable',
} as const;
export type ErrorStatus = keyof typeof ERROR_CODES;

/**
 * Every JSON error of the dashboard (auth, admin API, metrics) is built here: `{success: false, error, message,
 * problems?}`. A 401 also names Basic auth, so a browser without the sign-in page can prompt for the key.
 */
export function errorAnswer(status: ErrorStatus, message: string, problems?: FieldProblem[]): HttpAnswer {
  return {
    status,
    body: { success: false, error: ERROR_CODES[status], message, ...(problems ? { problems } : {}) },
    ...(status === 401 ? { headers: { 'WWW-Authenticate': 'Basic realm="ferry", charset="UTF-8"' } } : {}),
  };
}

/** An answer that asks the client to come back later: 429 and 503 carry Retry-After. */
export function retryLater(status: 429 | 503, message: string, retryAfterSeconds: number): HttpAnswer {
  const answer = errorAnswer(status, message);
  return { ...answer, headers: { ...answer.headers, 'Retry-After': String(retryAfterSeconds) } };
}

/**
 * What an error thrown inside Express (body parsers, Bull Board's router) answers: its own 4xx with a short message,
 * anything else a 500; never Express's HTML page, which shows a stack with server paths outside production.
 */
export function answerForThrown(err: unknown): HttpAnswer {
  const status = err !== null && typeof err === 'object' && 'status' in err && typeof err.status === 'number' ? err.status : 500;
  if (status === 413) return errorAnswer(413, 'the body is too large');
  if (status === 415) return errorAnswer(415, 'the body cannot be decoded: unsupported content encoding or charset');
  if (status >= 400 && status < 500) return errorAnswer(400, 'the request cannot be read');
  return errorAnswer(500, 'internal error; see the dashboard log');
}

export function send(res: Response, answer: HttpAnswer): void {
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.status(answer.status).json(answer.body);
}
