import type { FerryConfig, Logger } from '@ferry/shared/core';
import type { Pool } from '@ferry/shared/postgres';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HttpAnswer } from '../http-answer.js';

/** A request as the admin handlers see it: no Express, so each handler is a plain async function of data. */
export interface AdminRequest {
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  query: URLSearchParams;
}

export interface AdminDeps {
  config: FerryConfig;
  db: Pool;
  redis: Redis;
  /** Answers health checks: a connection that fails fast instead of waiting out a Redis restart. */
  probeRedis: Redis;
  queues: readonly Queue[];
  logger: Logger;
  /** ferry's version (the root package.json). */
  version: string;
}

export type AdminHandler = (req: AdminRequest, deps: AdminDeps) => Promise<HttpAnswer>;
