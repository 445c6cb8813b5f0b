import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Range } from '../collect/plan.js';

/**
 * Collection runs and their items in PostgreSQL: what `ferry status`, `--wait` and the admin API report.
 * Item statuses: queued -> running -> complete | partial | skipped | failed.
 */
type Queryable = Pick<pg.Pool, 'query'>;

export type RunKind = 'candles' | 'flat_files';
export type ItemStatus = 'queued' | 'running' | 'complete' | 'partial' | 'skipped' | 'failed';
export const FINAL_ITEM_STATUSES: readonly ItemStatus[] = ['complete', 'partial', 'skipped', 'failed'];

/** A stable fingerprint of a request's parameters: the same request gives the same run while it is unfinished. */
export function runFingerprint(kind: RunKind, params: unknown): string {
  return createHash('sha256').update(`${kind}\n${stableJson(params)}`).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface CreatedRun {
  runId: string;
  /** True when an unfinished run with the same parameters existed and is reused. */
  reused: boolean;
}

/** Creates the run and its items, or returns the unfinished run with the same fingerprint. */
export async function createOrReuseRun(
  db: pg.Pool,
  kind: RunKind,
  params: unknown,
  itemKeys: readonly string[],
): Promise<CreatedRun> {
  const fingerprint = runFingerprint(kind, params);
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO collection_runs (kind, fingerprint, params) VALUES ($1, $2, $3)
       ON CONFLICT (fingerprint) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id`,
      [kind, fingerprint, JSON.stringify(params)],
    );
    let runId = inserted.rows[0]?.id;
    const reused = runId === undefined;
    if (runId === undefined) {
      const existing = await client.query<{ id: string }>(
        `SELECT id FROM collection_runs WHERE fingerprint = $1 AND status IN ('queued', 'running')`,
        [fingerprint],
      );
      runId = existing.rows[0]!.id;
    }
    await client.query(
      `INSERT INTO run_items (run_id, item_key) SELECT $1, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING`,
      [runId, itemKeys],
    );
    await client.query('COMMIT');
    return { runId, reused };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function markItemRunning(db: Queryable, runId: string, itemKey: string, attempt: number): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = 'running', attempts = $3, updated_at = now()
     WHERE run_id = $1 AND item_key = $2 AND status NOT IN ('complete', 'skipped')`,
    [runId, itemKey, attempt],
  );
  await db.query(
    `UPDATE collection_runs SET status = 'running', started_at = coalesce(started_at, now())
     WHERE id = $1 AND status = 'queued'`,
    [runId],
  );
}

export interface ItemOutcome {
  status: Exclude<ItemStatus, 'queued' | 'running'>;
  records?: number;
  expected?: number;
  missingRanges?: readonly Range[];
  error?: string;
  details?: Record<string, unknown>;
}

/** Records an item's outcome and closes the run when it was the last unfinished item. */
export async function finishItem(db: Queryable, runId: string, itemKey: string, outcome: ItemOutcome): Promise<void> {
  await recordItemOutcome(db, runId, itemKey, outcome);
  await closeRunIfDone(db, runId);
}

/**
 * Records an item's outcome only, e.g. inside the transaction that stored its data. Call closeRunIfDone after the
 * commit: inside concurrent transactions the last items would each still see the other unfinished.
 */
export async function recordItemOutcome(db: Queryable, runId: string, itemKey: string, outcome: ItemOutcome): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = $3, records = coalesce($4, records), expected = coalesce($5, expected),
       missing_ranges = coalesce($6, missing_ranges), last_error = $7, details = details || $8, updated_at = now()
     WHERE run_id = $1 AND item_key = $2`,
    [
      runId, itemKey, outcome.status, outcome.records ?? null, outcome.expected ?? null,
      outcome.missingRanges ? JSON.stringify(outcome.missingRanges.map(rangeToIso)) : null,
      outcome.error ?? null, JSON.stringify(outcome.details ?? {}),
    ],
  );
}

/** Counts a rate-limit pause an item's job met (what `--wait` shows as rate-limit pauses). */
export async function countItemPause(db: Queryable, runId: string, itemKey: string): Promise<void> {
  await db.query(
    `UPDATE run_items SET details = jsonb_set(details, '{rate_limit_pauses}',
       to_jsonb(coalesce((details->>'rate_limit_pauses')::int, 0) + 1)) WHERE run_id = $1 AND item_key = $2`,
    [runId, itemKey],
  );
}

export async function closeRunIfDone(db: Queryable, runId: string): Promise<void> {
  await db.query(
    `UPDATE collection_runs r SET
       status = CASE WHEN EXISTS (SELECT 1 FROM run_items WHERE run_id = r.id AND status = 'failed')
                     THEN 'failed' ELSE 'completed' END,
       finished_at = now()
     WHERE r.id = $1 AND r.status IN ('queued', 'running')
       AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = r.id AND status IN ('queued', 'running'))`,
    [runId],
  );
}

function rangeToIso(r: Range): { start: string; end: string } {
  return { start: new Date(r.start).toISOString(), end: new Date(r.end).toISOString() };
}

export interface RunItemSummary {
  item: string;
  status: ItemStatus;
  records: number;
  expected: number | null;
  missing_ranges: Array<{ start: string; end: string }>;
  last_error: string | null;
  attempts: number;
  details: Record<string, unknown>;
}

/** A run's items counted by status, and the records they stored. */
export interface RunCounts {
  status: string;
  total: number;
  complete: number;
  partial: number;
  failed: number;
  skipped: number;
  pending: number;
  total_records: number;
}

/** The seeds' summary shape. */
export interface RunSummary extends RunCounts {
  run_id: string;
  kind: RunKind;
  params: unknown;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  details: RunItemSummary[];
}

/** The summary of a run, or of the latest run when no id is given; undefined if there is none. */
export async function runSummary(db: Queryable, runId?: string): Promise<RunSummary | undefined> {
  const runs = await db.query<{
    id: string; kind: RunKind; status: string; params: unknown; created_at: Date; started_at: Date | null; finished_at: Date | null;
  }>(
    runId
      ? 'SELECT * FROM collection_runs WHERE id = $1'
      : 'SELECT * FROM collection_runs ORDER BY created_at DESC LIMIT 1',
    runId ? [runId] : [],
  );
  const run = runs.rows[0];
  if (!run) return undefined;
  const items = await db.query<Omit<RunItemSummary, 'item'> & { item_key: string }>(
    `SELECT item_key, status, records, expected, missing_ranges, last_error, attempts, details
     FROM run_items WHERE run_id = $1 ORDER BY item_key`,
    [run.id],
  );
  const details = items.rows.map(({ item_key, ...rest }) => ({ item: item_key, ...rest }));
  const count = (s: ItemStatus) => details.filter((d) => d.status === s).length;
  return {
    run_id: run.id,
    kind: run.kind,
    status: run.status,
    params: run.params,
    created_at: run.created_at.toISOString(),
    started_at: run.started_at?.toISOString() ?? null,
    finished_at: run.finished_at?.toISOString() ?? null,
    total: details.length,
    complete: count('complete'),
    partial: count('partial'),
    failed: count('failed'),
    skipped: count('skipped'),
    pending: count('queued') + count('running'),
    total_records: details.reduce((n, d) => n + Number(d.records), 0),
    details,
  };
}

/** Where a run stands, counted by PostgreSQL: what `--wait` polls, without reading every item. */
export interface RunProgress extends RunCounts {
  /** Rate-limit pauses the run's items met (candle jobs count theirs in details.rate_limit_pauses). */
  rate_limit_pauses: number;
}

export async function runProgress(db: Queryable, runId: string): Promise<RunProgress | undefined> {
  const { rows } = await db.query<RunProgress>(
    `SELECT r.status,
            count(i.item_key)::int AS total,
            count(*) FILTER (WHERE i.status = 'complete')::int AS complete,
            count(*) FILTER (WHERE i.status = 'partial')::int AS partial,
            count(*) FILTER (WHERE i.status = 'failed')::int AS failed,
            count(*) FILTER (WHERE i.status = 'skipped')::int AS skipped,
            count(*) FILTER (WHERE i.status IN ('queued', 'running'))::int AS pending,
            coalesce(sum(i.records), 0)::bigint AS total_records,
            coalesce(sum((i.details->>'rate_limit_pauses')::int), 0)::int AS rate_limit_pauses
     FROM collection_runs r LEFT JOIN run_items i ON i.run_id = r.id
     WHERE r.id = $1 GROUP BY r.id`,
    [runId],
  );
  return rows[0];
}

/** Whether a run id looks valid, so a CLI can say so before asking the database. */
export function isRunId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
