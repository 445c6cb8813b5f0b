import type { NextFunction, Request, Response } from 'express';
import { errorAnswer, send } from './http-answer.js';

/**
 * Jobs one Bull Board request may ask for per page. Bull Board sets no maximum: a million per page over 50,000
 * queued jobs was 60 MB and 6 s of the Redis every worker shares. Its own page-size menu stays well below this.
 */
export const MAX_JOBS_PER_PAGE = 100;
/** Bull Board API reads served at once, for every user together; more wait for a Retry-After (a page polls every 5 s). */
export const MAX_CONCURRENT_BOARD_READS = 6;
const BUSY_RETRY_AFTER_SECONDS = 1;

/** Bull Board API reads that show where Redis runs and who is connected to it (worker client addresses): admins only. */
const ADMIN_ONLY_READS = [/^\/api\/redis\/stats\/?$/, /^\/api\/queues\/[^/]+\/workers\/?$/];

export function isAdminOnlyBoardRead(pathUnderBoard: string): boolean {
  return ADMIN_ONLY_READS.some((pattern) => pattern.test(pathUnderBoard));
}

/** The page size asked for when it exceeds the maximum (Bull Board parses it with `Number`, so this does too). */
export function excessivePageSize(query: URLSearchParams): string | undefined {
  return query.getAll('jobsPerPage').find((value) => Number(value) > MAX_JOBS_PER_PAGE);
}

/**
 * Mounted on Bull Board's API after authentication: refuses pages larger than MAX_JOBS_PER_PAGE and answers 503 with
 * Retry-After while MAX_CONCURRENT_BOARD_READS reads are in flight, so no role can make the dashboard hold Redis.
 */
export function boardReadLimits(): (req: Request, res: Response, next: NextFunction) => void {
  let inFlight = 0;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const tooMany = excessivePageSize(new URL(req.originalUrl, 'http://dashboard').searchParams);
    if (tooMany !== undefined) {
      return send(res, errorAnswer(400, `jobsPerPage ${JSON.stringify(tooMany)}: expected at most ${MAX_JOBS_PER_PAGE}`,
        [{ field: 'jobsPerPage', message: `expected an integer from 1 to ${MAX_JOBS_PER_PAGE}` }]));
    }
    if (inFlight >= MAX_CONCURRENT_BOARD_READS) {
      return send(res, { ...errorAnswer(503, 'the dashboard is busy reading queues; try again shortly'), headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) } });
    }
    inFlight++;
    let released = false;
    res.once('close', () => {
      if (!released) inFlight--;
      released = true;
    });
    next();
  };
}
