import pg from 'pg';
import { errorMessage } from '../core/errors.js';
import type { Secret } from '../core/config/secret.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  url: Secret;
  poolSize: number;
  applicationName: string;
}

// int8 (bigint) counts come back as strings by default; ferry's counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url.reveal(),
    max: options.poolSize,
    application_name: options.applicationName,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (PostgreSQL restarting) must not crash the process; the next query
  // gets a fresh connection.
  pool.on('error', () => undefined);
  return pool;
}

export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`cannot reach PostgreSQL (DATABASE_URL): ${errorMessage(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

export async function assertDatabaseReachable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new DatabaseUnavailableError(err);
  }
}

/**
 * Whether PostgreSQL answers `SELECT 1` within `timeoutMs`: after a job's failure, tells an outage of ferry's own
 * store from a failure of the job.
 */
export async function databaseAnswers(pool: pg.Pool, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([pool.query('SELECT 1').then(() => true, () => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` in a transaction on one client; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
