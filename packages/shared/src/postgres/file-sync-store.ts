import type pg from 'pg';

/**
 * PostgreSQL I/O for per-file sync state (`file_syncs`, migration 004): what `ferry status` reports, and the hash
 * cache of the scheduled directory syncs.
 */
type Queryable = Pick<pg.Pool, 'query'>;

export const FILE_SYNC_STATUSES = ['pending', 'uploaded', 'skipped-identical', 'failed'] as const;
export type FileSyncStatus = (typeof FILE_SYNC_STATUSES)[number];

export interface FileSyncRecord {
  /** The target's description (`dropbox /ferry`): another root is another target. */
  target: string;
  key: string;
  relativePath: string;
  status: FileSyncStatus;
  /** Left as they were when undefined (a pending or failed attempt keeps what the last success recorded). */
  size?: number;
  contentHash?: string;
  mtimeMs?: number;
  reason?: string | null;
  runId?: string | null;
}

/** Upserts many rows in one statement. */
export async function recordFileSyncs(db: Queryable, records: readonly FileSyncRecord[]): Promise<void> {
  if (records.length === 0) return;
  // The same key twice in one statement would be an error for ON CONFLICT; the last record wins.
  const byKey = new Map(records.map((r) => [`${r.target}\n${r.key}`, r]));
  const rows = [...byKey.values()];
  await db.query(
    `INSERT INTO file_syncs (target, remote_key, relative_path, status, size, content_hash, local_mtime_ms, reason, run_id, updated_at)
     SELECT t, k, p, s, sz, h, m, r, run, now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::uuid[])
       AS x(t, k, p, s, sz, h, m, r, run)
     ON CONFLICT (target, remote_key) DO UPDATE SET
       relative_path = excluded.relative_path,
       status = excluded.status,
       size = coalesce(excluded.size, file_syncs.size),
       content_hash = coalesce(excluded.content_hash, file_syncs.content_hash),
       local_mtime_ms = coalesce(excluded.local_mtime_ms, file_syncs.local_mtime_ms),
       reason = excluded.reason,
       run_id = coalesce(excluded.run_id, file_syncs.run_id),
       updated_at = now()`,
    [
      rows.map((r) => r.target), rows.map((r) => r.key), rows.map((r) => r.relativePath), rows.map((r) => r.status),
      rows.map((r) => r.size ?? null), rows.map((r) => r.contentHash ?? null),
      rows.map((r) => (r.mtimeMs === undefined ? null : Math.trunc(r.mtimeMs))), rows.map((r) => r.reason ?? null),
      rows.map((r) => r.runId ?? null),
    ],
  );
}

/** Drops the rows of files deleted from `target` (earlier renders of a series): the table describes what is there. */
export async function forgetFileSyncs(db: Queryable, target: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query('DELETE FROM file_syncs WHERE target = $1 AND remote_key = ANY($2::text[])', [target, keys]);
}

export interface LocalFileState {
  key: string;
  size: number;
  mtimeMs: number;
}

/**
 * The keys whose last sync to `target` succeeded for a local file of exactly this size and mtime: unchanged since,
 * so neither hashed nor uploaded again.
 */
export async function unchangedSinceLastSync(db: Queryable, target: string, files: readonly LocalFileState[]): Promise<Set<string>> {
  if (files.length === 0) return new Set();
  const { rows } = await db.query<{ remote_key: string }>(
    `SELECT f.remote_key FROM file_syncs f
     JOIN unnest($2::text[], $3::bigint[], $4::bigint[]) AS x(k, sz, m) ON f.remote_key = x.k
     WHERE f.target = $1 AND f.status IN ('uploaded', 'skipped-identical') AND f.size = x.sz AND f.local_mtime_ms = x.m`,
    [target, files.map((f) => f.key), files.map((f) => f.size), files.map((f) => Math.trunc(f.mtimeMs))],
  );
  return new Set(rows.map((r) => r.remote_key));
}

export interface FileSyncFailure {
  target: string;
  key: string;
  relative_path: string;
  reason: string | null;
  updated_at: string;
}

/** Counts by status, for one run's files or for every file; the most recent failures with their reasons. */
export interface SyncSummary {
  total: number;
  pending: number;
  uploaded: number;
  skipped_identical: number;
  failed: number;
  /** Bytes of the files now uploaded (or found identical) on their targets. */
  synced_bytes: number;
  last_synced_at: string | null;
  /** Up to 20, most recent first. */
  failures: FileSyncFailure[];
}

export async function syncSummary(db: Queryable, runId?: string): Promise<SyncSummary> {
  const where = runId === undefined ? '' : 'WHERE run_id = $1';
  const params = runId === undefined ? [] : [runId];
  const counts = await db.query<{ status: FileSyncStatus; n: number; bytes: number; last: Date | null }>(
    `SELECT status, count(*)::int AS n, coalesce(sum(size), 0)::bigint AS bytes, max(updated_at) AS last
     FROM file_syncs ${where} GROUP BY status`,
    params,
  );
  const failures = await db.query<{ target: string; remote_key: string; relative_path: string; reason: string | null; updated_at: Date }>(
    `SELECT target, remote_key, relative_path, reason, updated_at FROM file_syncs
     ${where ? `${where} AND` : 'WHERE'} status = 'failed' ORDER BY updated_at DESC LIMIT 20`,
    params,
  );
  const of = (status: FileSyncStatus) => counts.rows.find((r) => r.status === status);
  const synced = [of('uploaded'), of('skipped-identical')];
  const lastSynced = synced.map((r) => r?.last?.getTime() ?? 0).reduce((a, b) => Math.max(a, b), 0);
  return {
    total: counts.rows.reduce((n, r) => n + r.n, 0),
    pending: of('pending')?.n ?? 0,
    uploaded: of('uploaded')?.n ?? 0,
    skipped_identical: of('skipped-identical')?.n ?? 0,
    failed: of('failed')?.n ?? 0,
    synced_bytes: synced.reduce((n, r) => n + Number(r?.bytes ?? 0), 0),
    last_synced_at: lastSynced > 0 ? new Date(lastSynced).toISOString() : null,
    failures: failures.rows.map((r) => ({
      target: r.target, key: r.remote_key, relative_path: r.relative_path, reason: r.reason, updated_at: r.updated_at.toISOString(),
    })),
  };
}
