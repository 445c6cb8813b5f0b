import type { Pool } from '@ferry/shared/postgres';

export interface RunRow {
  id: string;
  status: string;
  params: { mode?: string; symbols?: string[]; timeframes?: string[] };
  created_at: Date;
  started_at: Date | null;
}

/** The candle run in progress (queued or running), if any. */
export async function runInProgress(db: Pool): Promise<RunRow | undefined> {
  const { rows } = await db.query<RunRow>(
    `SELECT id, status, params, created_at, started_at FROM collection_runs
     WHERE kind = 'candles' AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1`,
  );
  return rows[0];
}
