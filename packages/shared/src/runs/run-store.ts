import { createHash } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../postgres/pool.js';
import type { Range } from '../core/range.js';
import type { RunRanking } from './run-ranking.js';

/**
 * Collection runs and their items in PostgreSQL: what `ferry status`, `--wait` and the admin API report. Every
 * statement on `collection_runs` and `run_items` is here.
 *
 * Item statuses: queued -> running -> complete | partial | skipped | failed; a retried item goes back to running.
 * One rule gives a run its status from its items, whatever moved them (a worker, a retry from Bull Board, a resumed
 * CLI run): queued while no item has started, running while any item is queued or running, then failed if any item
 * failed, else completed. A run that was closed and has an item running again is reopened (finished_at cleared).
 */
type Queryable = Pick<pg.Pool, 'query'>;

export type RunKind = 'candles' | 'flat_files';
export type ItemStatus = 'queued' | 'running' | 'complete' | 'partial' | 'skipped' | 'failed';

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

/**
 * Creates the run and its items, or returns the unfinished run with the same fingerprint. A reused run keeps the
 * ranking it was created with: the one its coins were chosen by.
 */
export async function createOrReuseRun(
  db: pg.Pool,
  kind: RunKind,
  params: unknown,
  itemKeys: readonly string[],
  ranking?: RunRanking,
): Promise<CreatedRun> {
  const fingerprint = runFingerprint(kind, params);
  return inTransaction(db, async (client) => {
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO collection_runs (kind, fingerprint, params, ranking) VALUES ($1, $2, $3, $4)
       ON CONFLICT (fingerprint) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id`,
      [kind, fingerprint, JSON.stringify(params), ranking === undefined ? null : JSON.stringify(ranking)],
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
    return { runId, reused };
  });
}

export async function markItemRunning(db: Queryable, runId: string, itemKey: string, attempt: number): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = 'running', attempts = $3, updated_at = now()
     WHERE run_id = $1 AND item_key = $2 AND status NOT IN ('complete', 'skipped')`,
    [runId, itemKey, attempt],
  );
  await markRunRunning(db, runId);
}

/** The run has work going on: running from now, and reopened if it had been closed (a retried item). */
export async function markRunRunning(db: Queryable, runId: string): Promise<void> {
  await db.query(
    `UPDATE collection_runs SET status = 'running', started_at = coalesce(started_at, now()), finished_at = NULL
     WHERE id = $1 AND status <> 'running'`,
    [runId],
  );
}

/**
 * Sets the status of a resumed run's items: `skipped` for work found done when it was planned again, and `queued`
 * again for items that have work once more (a file changed upstream).
 */
export async function replanItems(db: Queryable, runId: string, plan: { skipped: readonly string[]; queued: readonly string[] }): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = 'skipped', updated_at = now()
     WHERE run_id = $1 AND item_key = ANY($2::text[]) AND status IN ('queued', 'running')`,
    [runId, plan.skipped],
  );
  await db.query(
    `UPDATE run_items SET status = 'queued', updated_at = now()
     WHERE run_id = $1 AND item_key = ANY($2::text[]) AND status IN ('complete', 'skipped')`,
    [runId, plan.queued],
  );
}

/** Puts finished items back to queued: work that has to be done again (a finishing step after a retried file). */
export async function requeueItems(db: Queryable, runId: string, itemKeys: readonly string[]): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = 'queued', last_error = NULL, updated_at = now()
     WHERE run_id = $1 AND item_key = ANY($2::text[]) AND status NOT IN ('queued', 'running')`,
    [runId, itemKeys],
  );
}

/** The items that failed, with why. */
export async function failedItems(db: Queryable, runId: string): Promise<Array<{ item: string; reason: string | null }>> {
  const { rows } = await db.query<{ item_key: string; last_error: string | null }>(
    `SELECT item_key, last_error FROM run_items WHERE run_id = $1 AND status = 'failed' ORDER BY item_key`,
    [runId],
  );
  return rows.map((r) => ({ item: r.item_key, reason: r.last_error }));
}

/** Ends every unfinished item whose key starts with `keyPrefix` as failed, with one reason, and closes the run. */
export async function failUnfinishedItems(db: Queryable, runId: string, keyPrefix: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE run_items SET status = 'failed', last_error = $3, updated_at = now()
     WHERE run_id = $1 AND status IN ('queued', 'running') AND starts_with(item_key, $2)`,
    [runId, keyPrefix, reason],
  );
  await closeRunIfDone(db, runId);
}

/** The values one detail field has in a run's items, for the items that have it. */
export async function itemDetailValues(db: Queryable, runId: string, field: string): Promise<unknown[]> {
  const { rows } = await db.query<{ value: unknown }>(
    'SELECT details->$2 AS value FROM run_items WHERE run_id = $1 AND details ? $2 ORDER BY item_key',
    [runId, field],
  );
  return rows.map((r) => r.value);
}

/** A run's parameters as recorded when it was created. */
export async function runParams(db: Queryable, runId: string): Promise<unknown> {
  const { rows } = await db.query<{ params: unknown }>('SELECT params FROM collection_runs WHERE id = $1', [runId]);
  return rows[0]?.params;
}

/** Items still queued or running, e.g. those a finishing step ends in one go when it fails for good. */
export async function unfinishedItems(db: Queryable, runId: string, keyPrefix = ''): Promise<string[]> {
  const { rows } = await db.query<{ item_key: string }>(
    `SELECT item_key FROM run_items WHERE run_id = $1 AND status IN ('queued', 'running') AND starts_with(item_key, $2)
     ORDER BY item_key`,
    [runId, keyPrefix],
  );
  return rows.map((r) => r.item_key);
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
export async function recordItemOutcome(db: Queryable, runId: string, itemKey: string, outcome: ItemOutcome): Promise<ItemStatus | undefined> {
  const [previous] = await recordItemOutcomes(db, [{ runId, itemKey, outcome }]);
  return previous;
}

/** One item's outcome, as recordItemOutcomes takes them. */
export interface ItemOutcomeEntry {
  runId: string;
  itemKey: string;
  outcome: ItemOutcome;
}

/**
 * recordItemOutcome of several items in one statement; returns the status each had before, in the order given
 * (undefined for an item the run does not have).
 */
export async function recordItemOutcomes(db: Queryable, entries: readonly ItemOutcomeEntry[]): Promise<Array<ItemStatus | undefined>> {
  if (entries.length === 0) return [];
  const column = <T>(value: (e: ItemOutcomeEntry) => T) => entries.map(value);
  // The status each had before, read in the same statement: a retried item that had failed may have to reopen its run.
  const { rows } = await db.query<{ run_id: string; item_key: string; previous: ItemStatus }>({
    // Named: each connection parses and plans it once, not once an item (a preload records one per flat file).
    name: 'record-item-outcomes',
    text: `WITH outcome AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::jsonb[], $7::text[], $8::jsonb[])
         AS x(run_id, item_key, status, records, expected, missing_ranges, last_error, details)
     ), previous AS (
       SELECT i.run_id, i.item_key, i.status FROM run_items i JOIN outcome o ON i.run_id = o.run_id AND i.item_key = o.item_key
     )
     UPDATE run_items i SET status = o.status, records = coalesce(o.records, i.records), expected = coalesce(o.expected, i.expected),
       missing_ranges = coalesce(o.missing_ranges, i.missing_ranges), last_error = o.last_error, details = i.details || o.details,
       updated_at = now()
     FROM outcome o JOIN previous p ON p.run_id = o.run_id AND p.item_key = o.item_key
     WHERE i.run_id = o.run_id AND i.item_key = o.item_key
     RETURNING i.run_id, i.item_key, p.status AS previous`,
    values: [
      column((e) => e.runId), column((e) => e.itemKey), column((e) => e.outcome.status),
      column((e) => e.outcome.records ?? null), column((e) => e.outcome.expected ?? null),
      column((e) => (e.outcome.missingRanges ? JSON.stringify(e.outcome.missingRanges.map(rangeToIso)) : null)),
      column((e) => e.outcome.error ?? null), column((e) => JSON.stringify(e.outcome.details ?? {})),
    ],
  });
  const previous = new Map(rows.map((r) => [`${r.run_id}\n${r.item_key}`, r.previous]));
  return entries.map((e) => previous.get(`${e.runId}\n${e.itemKey}`));
}

/** Counts a rate-limit pause an item's job met (what `--wait` shows as rate-limit pauses). */
export async function countItemPause(db: Queryable, runId: string, itemKey: string): Promise<void> {
  await db.query(
    `UPDATE run_items SET details = jsonb_set(details, '{rate_limit_pauses}',
       to_jsonb(coalesce((details->>'rate_limit_pauses')::int, 0) + 1)) WHERE run_id = $1 AND item_key = $2`,
    [runId, itemKey],
  );
}

/** Applies the one status rule once the run has no item queued or running (see the top of this file). */
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
  /** The coins' ranking the run used (candle runs); null for other kinds and runs older than the record. */
  ranking: RunRanking | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  details: RunItemSummary[];
}

/** The summary of a run, or of the latest run when no id is given; undefined if there is none. */
export async function runSummary(db: Queryable, runId?: string): Promise<RunSummary | undefined> {
  const runs = await db.query<{
    id: string; kind: RunKind; status: string; params: unknown; ranking: RunRanking | null; created_at: Date; started_at: Date | null;
    finished_at: Date | null;
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
    ranking: run.ranking,
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

export interface RunInProgress {
  id: string;
  status: string;
  params: { mode?: string; symbols?: string[]; timeframes?: string[] };
  created_at: Date;
  started_at: Date | null;
}

/** The run of this kind in progress (queued or running), if any. */
export async function runInProgress(db: Queryable, kind: RunKind): Promise<RunInProgress | undefined> {
  const { rows } = await db.query<RunInProgress>(
    `SELECT id, status, params, created_at, started_at FROM collection_runs
     WHERE kind = $1 AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1`,
    [kind],
  );
  return rows[0];
}

/** The id of the latest run of this kind, if any. */
export async function latestRunId(db: Queryable, kind: RunKind): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM collection_runs WHERE kind = $1 ORDER BY created_at DESC LIMIT 1',
    [kind],
  );
  return rows[0]?.id;
}

/**
 * Deletes the runs that finished before `finishedBefore`, their items with them (ON DELETE CASCADE); runs still
 * queued or running are kept however old. Returns how many runs went. In batches, so a first prune of years of
 * runs does not hold one long transaction.
 */
export async function pruneFinishedRuns(db: Queryable, finishedBefore: Date, batchSize = 1_000): Promise<number> {
  let pruned = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM collection_runs WHERE id IN (
         SELECT id FROM collection_runs
         WHERE status IN ('completed', 'failed') AND finished_at < $1
         LIMIT $2)`,
      [finishedBefore, batchSize],
    );
    pruned += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return pruned;
  }
}
