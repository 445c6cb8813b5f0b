import { Args } from './args.js';
import { defineRoute, type DropboxState, type Route } from './context.js';
import { badRequest, lookupNotFound, malformedPath, routeError, tagged } from './errors.js';
import { parsePath } from './paths.js';
import { httpHeaderSafeJson, jsonReply, type Reply } from './reply.js';
import { DropboxFault } from './settings.js';
import { deletedMetadata, fileMetadata, taggedMetadata, type Entry } from './store.js';

/** Reading: `files/get_metadata`, `files/list_folder`, `files/list_folder/continue`, `files/download`. */

const pathError = (lookup: ReturnType<typeof tagged>) => routeError(tagged('path', { path: lookup }));

/**
 * list_folder cursors are stateless: the folder, the options, the change `seq` the listing started at and, while the
 * first listing is being paged, the last path returned. Entries written after `seq` are left out of the pages and
 * come back as changes once the listing is exhausted, as Dropbox's cursors report changes.
 */
interface ListCursor {
  folder: string;
  recursive: boolean;
  limit: number;
  seq: number;
  /** Present while paging the initial listing: the last `path_lower` returned. */
  after?: string;
}

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string): ListCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const c = value as Record<string, unknown>;
    if (typeof c.folder !== 'string' || typeof c.recursive !== 'boolean') return undefined;
    if (typeof c.limit !== 'number' || typeof c.seq !== 'number') return undefined;
    if (c.after !== undefined && typeof c.after !== 'string') return undefined;
    return { folder: c.folder, recursive: c.recursive, limit: c.limit, seq: c.seq, after: c.after };
  } catch {
    return undefined;
  }
}

function listPage(state: DropboxState, cursor: ListCursor): Reply {
  const self = state.store.get(cursor.folder);
  // A recursive listing of a folder includes the folder itself.
  const scope: Entry[] = [
    ...(cursor.recursive && self ? [self] : []),
    ...state.store.listInside(cursor.folder, cursor.recursive),
  ];
  if (cursor.after !== undefined) {
    const after = cursor.after;
    const remaining = scope.filter((e) => e.seq <= cursor.seq && e.lower > after);
    const page = remaining.slice(0, cursor.limit);
    const hasMore = remaining.length > page.length;
    const last = page.at(-1)?.lower ?? after;
    const next: ListCursor = hasMore ? { ...cursor, after: last } : { ...cursor, after: undefined };
    return jsonReply({ entries: page.map(taggedMetadata), cursor: encodeCursor(next), has_more: hasMore });
  }
  const changed = [
    ...scope.filter((e) => e.seq > cursor.seq).map((e) => ({ seq: e.seq, metadata: taggedMetadata(e) })),
    ...state.store.deletedInside(cursor.folder, cursor.recursive, cursor.seq).map((d) => ({ seq: d.seq, metadata: deletedMetadata(d) })),
  ].sort((a, b) => a.seq - b.seq);
  const page = changed.slice(0, cursor.limit);
  const next: ListCursor = { ...cursor, seq: page.at(-1)?.seq ?? cursor.seq };
  return jsonReply({ entries: page.map((c) => c.metadata), cursor: encodeCursor(next), has_more: changed.length > page.length });
}

export const fileRoutes: Record<string, Route> = {
  'files/get_metadata': defineRoute('rpc', false, Args.getMetadata, (state, args, call) => {
    const path = parsePath(args.path);
    if (path.kind === 'malformed') return pathError(malformedPath());
    const entry = state.store.resolve(path);
    if (entry === 'root') return badRequest(call.name, 'request body: path: The root folder is unsupported.');
    return entry ? jsonReply(taggedMetadata(entry)) : pathError(lookupNotFound());
  }),

  'files/list_folder': defineRoute('rpc', false, Args.listFolder, (state, args, call) => {
    if (args.path === '/') {
      return badRequest(call.name, 'request body: path: Specify the root folder as an empty string rather than as "/".');
    }
    const path = parsePath(args.path);
    if (path.kind === 'malformed') return pathError(malformedPath());
    const entry = state.store.resolve(path);
    if (entry === undefined) return pathError(lookupNotFound());
    if (entry !== 'root' && entry.kind === 'file') return pathError(tagged('not_folder'));
    return listPage(state, {
      folder: entry === 'root' ? '' : entry.lower,
      recursive: args.recursive ?? false,
      limit: Math.min(args.limit ?? state.control.settings.listFolderDefaultLimit, state.control.settings.listFolderMaxLimit),
      seq: state.store.latestSeq,
      after: '',
    });
  }),

  'files/list_folder/continue': defineRoute('rpc', false, Args.listFolderContinue, (state, args, call) => {
    const cursor = decodeCursor(args.cursor);
    if (!cursor) return badRequest(call.name, 'Invalid "cursor" parameter');
    if (state.control.takeFault(call.path, [DropboxFault.CursorReset])) return routeError(tagged('reset'));
    return listPage(state, cursor);
  }),

  'files/download': defineRoute('download', false, Args.download, (state, args) => {
    const path = parsePath(args.path);
    if (path.kind === 'malformed') return pathError(malformedPath());
    const entry = state.store.resolve(path);
    if (entry === undefined || entry === 'root') return pathError(lookupNotFound());
    if (entry.kind === 'folder') return pathError(tagged('not_file'));
    // Old revisions are not kept.
    if (args.rev !== undefined && args.rev !== entry.rev) return pathError(lookupNotFound());
    return {
      kind: 'file',
      status: 200,
      path: entry.blobPath,
      size: entry.size,
      headers: { 'dropbox-api-result': httpHeaderSafeJson(fileMetadata(entry)) },
    };
  }),
};
