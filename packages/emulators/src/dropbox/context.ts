import type { z } from 'zod';
import type { EmulatorControl } from '../common/control.js';
import { decodeArgs, type ArgSource, type FinishArgs } from './args.js';
import type { TokenRegistry } from './auth.js';
import type { Reply } from './reply.js';
import type { DropboxSettings } from './settings.js';
import type { FileStore } from './store.js';
import type { UploadSessions } from './upload-sessions.js';

/** Everything a route may touch. */
export interface DropboxState {
  control: EmulatorControl<DropboxSettings>;
  store: FileStore;
  sessions: UploadSessions;
  tokens: TokenRegistry;
  /** `finish_batch` (v1) jobs by async_job_id. */
  batchJobs: Map<string, BatchJob>;
  /** `delete_batch` jobs by async_job_id. */
  deleteJobs: Map<string, DeleteBatchJob>;
}

export interface DeleteBatchJob {
  pollsLeft: number;
  entries: Array<{ path: string; parent_rev?: string }>;
  /** Set once the job has run; later checks repeat it. */
  result?: unknown[];
}

export interface BatchJob {
  pollsLeft: number;
  entries: FinishArgs[];
  /** Set once the job has run; later polls repeat it. */
  result?: unknown[];
}

/**
 * How a route takes its argument and answers (https://www.dropbox.com/developers/documentation/http/documentation):
 *  - rpc: JSON body, JSON answer (api host);
 *  - upload: argument in `Dropbox-API-Arg`, `application/octet-stream` body, JSON answer (content host);
 *  - download: argument in `Dropbox-API-Arg`, no body, result in `Dropbox-API-Result`, file as body (content host).
 */
export type RouteStyle = 'rpc' | 'upload' | 'download';

export interface RouteCall {
  /** `files/upload`, as Dropbox names routes in its messages. */
  name: string;
  /** Full request path, e.g. `/2/files/upload`, which faults' `pathIncludes` match. */
  path: string;
  rawArg: string;
  argSource: ArgSource;
  body: Buffer;
}

export interface Route {
  style: RouteStyle;
  /** Write routes are the ones Dropbox may refuse with `too_many_write_operations`. */
  writes: boolean;
  handle(state: DropboxState, call: RouteCall): Promise<Reply>;
}

export function defineRoute<T>(
  style: RouteStyle,
  writes: boolean,
  schema: z.ZodType<T>,
  handler: (state: DropboxState, args: T, call: RouteCall) => Promise<Reply> | Reply,
): Route {
  return {
    style,
    writes,
    async handle(state, call) {
      const decoded = decodeArgs(call.name, call.argSource, call.rawArg, schema);
      return decoded.ok ? handler(state, decoded.value, call) : decoded.reply;
    },
  };
}
