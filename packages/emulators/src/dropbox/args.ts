import { z } from 'zod';
import { badRequest } from './errors.js';
import { PathPattern, matchesPattern } from './paths.js';
import type { Reply } from './reply.js';
import type { CommitRequest, WriteMode } from './store.js';

/**
 * The endpoints' arguments, one schema each, as strict as Dropbox: unknown fields, wrong types, paths that miss the
 * API's pattern and malformed JSON are 400s, so a client's wire-format mistake fails loudly in tests.
 */

function pathString(pattern: PathPattern) {
  return z.string().superRefine((value, ctx) => {
    if (!matchesPattern(value, pattern)) ctx.addIssue({ code: 'custom', message: `'${value}' did not match pattern '${pattern}'` });
  });
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a 64-digit lowercase hex SHA-256');

/** Void union members may be sent as a bare string: `"add"` or `{".tag": "add"}`; `update` carries a rev. */
const writeMode = z.union([
  z.enum(['add', 'overwrite']).transform((tag): WriteMode => ({ tag })),
  z.strictObject({ '.tag': z.enum(['add', 'overwrite']) }).transform((v): WriteMode => ({ tag: v['.tag'] })),
  z
    .strictObject({ '.tag': z.literal('update'), update: z.string().regex(/^[0-9a-f]{9,}$/, 'expected a rev') })
    .transform((v): WriteMode => ({ tag: 'update', rev: v.update })),
]);

const commitInfoFields = {
  path: pathString(PathPattern.writePathOrId),
  mode: writeMode.optional(),
  autorename: z.boolean().optional(),
  client_modified: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "expected a timestamp like '2015-05-12T15:50:38Z'")
    .optional(),
  mute: z.boolean().optional(),
  property_groups: z.array(z.unknown()).optional(),
  strict_conflict: z.boolean().optional(),
};

type CommitInfoArgs = {
  path: string;
  mode?: WriteMode;
  autorename?: boolean;
  client_modified?: string;
  strict_conflict?: boolean;
};

export function commitRequest(args: CommitInfoArgs): CommitRequest {
  return {
    path: args.path,
    mode: args.mode ?? { tag: 'add' },
    autorename: args.autorename ?? false,
    strictConflict: args.strict_conflict ?? false,
    clientModified: args.client_modified,
  };
}

const cursor = z.strictObject({ session_id: z.string().min(1), offset: z.number().int().min(0) });

const finishArgs = z.strictObject({ cursor, commit: z.strictObject(commitInfoFields), content_hash: sha256Hex.optional() });

const sessionType = z.union([
  z.enum(['sequential', 'concurrent']),
  z.strictObject({ '.tag': z.enum(['sequential', 'concurrent']) }).transform((v) => v['.tag']),
]);

const deleteArg = z.strictObject({
  path: pathString(PathPattern.writePathOrId),
  parent_rev: z.string().min(9).regex(/^[0-9a-f]+$/, 'expected a rev').optional(),
});

export const Args = {
  upload: z.strictObject({ ...commitInfoFields, content_hash: sha256Hex.optional() }),
  sessionStart: z.strictObject({ close: z.boolean().optional(), session_type: sessionType.optional(), content_hash: sha256Hex.optional() }),
  sessionAppendV2: z.strictObject({ cursor, close: z.boolean().optional(), content_hash: sha256Hex.optional() }),
  /** The deprecated v1 append takes the cursor itself as its argument. */
  sessionAppend: cursor,
  sessionFinish: finishArgs,
  // Dropbox allows up to 1000 entries per batch.
  sessionFinishBatch: z.strictObject({ entries: z.array(finishArgs).max(1000) }),
  poll: z.strictObject({ async_job_id: z.string().min(1) }),
  getMetadata: z.strictObject({
    path: pathString(PathPattern.readPath),
    include_media_info: z.boolean().optional(),
    include_deleted: z.boolean().optional(),
    include_has_explicit_shared_members: z.boolean().optional(),
    include_property_groups: z.unknown().optional(),
  }),
  listFolder: z.strictObject({
    path: pathString(PathPattern.pathROrId),
    recursive: z.boolean().optional(),
    include_media_info: z.boolean().optional(),
    include_deleted: z.boolean().optional(),
    include_has_explicit_shared_members: z.boolean().optional(),
    include_mounted_folders: z.boolean().optional(),
    limit: z.number().int().min(1).max(2000).optional(),
    shared_link: z.unknown().optional(),
    include_property_groups: z.unknown().optional(),
    include_non_downloadable_files: z.boolean().optional(),
  }),
  listFolderContinue: z.strictObject({ cursor: z.string().min(1) }),
  download: z.strictObject({ path: pathString(PathPattern.readPath), rev: z.string().optional() }),
  delete: deleteArg,
  // Dropbox allows up to 1000 entries per batch.
  deleteBatch: z.strictObject({ entries: z.array(deleteArg).max(1000) }),
} as const;

export type FinishArgs = z.infer<typeof finishArgs>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; reply: Reply };

/** Where the JSON argument came from; Dropbox's 400 messages name it. */
export type ArgSource = 'header' | 'body';

const sourceLabel: Record<ArgSource, string> = {
  header: 'HTTP header "Dropbox-API-Arg"',
  body: 'request body',
};

export function decodeArgs<T>(route: string, source: ArgSource, raw: string, schema: z.ZodType<T>): Decoded<T> {
  const label = sourceLabel[source];
  // Header values must be ASCII: clients escape other characters as \uXXXX (http-header-safe JSON).
  if (source === 'header' && /[^\x20-\x7e]/.test(raw)) {
    return { ok: false, reply: badRequest(route, `${label}: could not decode input as JSON (non-ASCII characters must be escaped)`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reply: badRequest(route, `${label}: could not decode input as JSON`) };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reply: badRequest(route, `${label}: ${describeIssue(parsed.error.issues[0])}`) };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid input';
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return `${where ? `${where}: ` : ''}unknown field '${issue.keys[0] ?? ''}'`;
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `missing required field '${String(issue.path[issue.path.length - 1] ?? '')}'`;
  }
  return `${where ? `${where}: ` : ''}${issue.message}`;
}
