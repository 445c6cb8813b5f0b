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

export function send(res: Response, answer: HttpAnswer): void {
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.status(answer.status).json(answer.body);
}
