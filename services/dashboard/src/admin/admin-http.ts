import type { FerryConfig, Logger, Pool } from '@ferry/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** A request as the admin handlers see it: no Express, so each handler is a plain async function of data. */
export interface AdminRequest {
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  query: URLSearchParams;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

export interface AdminDeps {
  config: FerryConfig;
  db: Pool;
  redis: Redis;
  queues: readonly Queue[];
  logger: Logger;
  /** ferry's version (the root package.json). */
  version: string;
}

export type AdminHandler = (req: AdminRequest, deps: AdminDeps) => Promise<AdminResponse>;

export interface FieldProblem {
  field: string;
  message: string;
}

const ERROR_CODES = {
  400: 'invalid_request',
  404: 'not_found',
  409: 'conflict',
  422: 'unprocessable',
  500: 'internal',
  503: 'unavailable',
} as const;
export type AdminErrorStatus = keyof typeof ERROR_CODES;

/** Every admin API error is built here: `{success: false, error, message, problems?}`. */
export function adminError(status: AdminErrorStatus, message: string, problems?: FieldProblem[]): AdminResponse {
  return { status, body: { success: false, error: ERROR_CODES[status], message, ...(problems ? { problems } : {}) } };
}
