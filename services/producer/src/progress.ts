import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '@ferry/shared/postgres';
import { runProgress, runSummary, type RunProgress, type RunRanking, type RunSummary } from '@ferry/shared/runs';
import type { CliIo } from './io.js';

/** Pure rendering of a run's progress line: what `--wait` shows while a run goes on. */
export function progressLine(summary: RunProgress, elapsedMs: number): string {
  const done = summary.total - summary.pending;
  const pct = summary.total === 0 ? 100 : (done / summary.total) * 100;
  const pauses = summary.rate_limit_pauses;
  // ETA from the pace of items that did work; items skipped as already complete take no time.
  const worked = summary.complete + summary.partial + summary.failed;
  const eta = worked > 0 && summary.pending > 0 ? (elapsedMs / worked) * summary.pending : undefined;
  return [
    `coins ${done}/${summary.total} (${pct.toFixed(1)}%)`,
    `candles ${summary.total_records.toLocaleString('en-US')}`,
    `failed ${summary.failed}`,
    `rate-limit pauses ${pauses}`,
    `elapsed ${formatDuration(elapsedMs)}`,
    `ETA ${eta === undefined ? (summary.pending === 0 ? '0s' : '-') : formatDuration(eta)}`,
    `resumed: ${summary.skipped} skipped`,
  ].join(' | ');
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${(m % 60).toString().padStart(2, '0')}m`;
}

/** Polls the run's counts until no item is queued or running (`onUpdate` gets each), then returns its summary. */
export async function waitForRun(
  db: Pool,
  runId: string,
  onUpdate: (progress: RunProgress) => void | Promise<void>,
  options: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<RunSummary> {
  for (;;) {
    options.signal?.throwIfAborted();
    const progress = await runProgress(db, runId);
    if (!progress) throw new Error(`run ${runId} disappeared`);
    await onUpdate(progress);
    if (progress.pending === 0) return (await runSummary(db, runId))!;
    await sleep(options.intervalMs ?? 500, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** How long `--wait` lets a run sit untaken before it looks for workers. */
export const NO_WORKER_NOTICE_AFTER_MS = 5_000;

/** Who should be taking a run's jobs: the queue, and what starts a worker for it. */
export interface WorkerWatch {
  /** How many workers are connected to the queue (BullMQ's getWorkers: Redis CLIENT LIST). */
  connected(): Promise<number>;
  /** What the notice says: which workers are missing and how to start one. */
  notice: string;
}

/**
 * What `--wait` shows while it polls the run (see waitForRun): `render`'s line on stderr, redrawn in place on a
 * terminal; elsewhere (logs, CI) one line every 5 s and the last one. With `workers`, a run that no item of has
 * started after NO_WORKER_NOTICE_AFTER_MS is checked for a connected worker, and if there is none that is said once.
 */
export async function waitShowingProgress(
  io: CliIo,
  db: Pool,
  runId: string,
  render: (progress: RunProgress, elapsedMs: number) => string,
  options: { intervalMs?: number; workers?: WorkerWatch; noWorkerAfterMs?: number } = {},
): Promise<RunSummary> {
  const started = Date.now();
  let lastPrinted = 0;
  let nextWorkerCheck = started + (options.noWorkerAfterMs ?? NO_WORKER_NOTICE_AFTER_MS);
  let noticeGiven = false;
  const summary = await waitForRun(db, runId, async (progress) => {
    if (options.workers && !noticeGiven && progress.status === 'queued' && progress.pending > 0 && Date.now() >= nextWorkerCheck) {
      nextWorkerCheck = Date.now() + NO_WORKER_NOTICE_AFTER_MS;
      if ((await options.workers.connected()) === 0) {
        noticeGiven = true;
        io.stderr(`${io.isTty ? '\r\x1b[2K' : ''}${options.workers.notice}\n`);
      }
    }
    const line = render(progress, Date.now() - started);
    if (io.isTty) io.stderr(`\r\x1b[2K${line}`);
    else if (Date.now() - lastPrinted >= 5_000 || progress.pending === 0) {
      lastPrinted = Date.now();
      io.stderr(`${line}\n`);
    }
  }, options);
  if (io.isTty) io.stderr('\n');
  return summary;
}

/** The summary table printed when a run ends (and by `ferry status`). */
export function summaryTable(summary: RunSummary): string {
  const header = ['item', 'status', 'records', 'missing', 'last error'];
  const rows = summary.details.map((d) => [
    d.item,
    d.status,
    String(d.records),
    d.missing_ranges.length === 0 ? '-' : `${d.missing_ranges.length} range(s)`,
    (d.last_error ?? '').slice(0, 80),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const totals =
    `run ${summary.run_id} ${summary.status}: total ${summary.total}, complete ${summary.complete}, ` +
    `partial ${summary.partial}, failed ${summary.failed}, skipped ${summary.skipped}, pending ${summary.pending}, ` +
    `records ${summary.total_records}`;
  const anomalies = summary.details.flatMap((d) => {
    const offGrid = d.details['off_grid_candles'];
    if (!Array.isArray(offGrid) || offGrid.length === 0) return [];
    const shown = (offGrid as { exchange_open_time: string; stored_at: string }[])
      .map((o) => `${o.exchange_open_time} stored at ${o.stored_at}`);
    return [`${d.item}: ${offGrid.length} candle(s) the exchange sent off the grid: ${shown.join(', ')}`];
  });
  // Why an item ended as it did when its status alone does not say (a delisted coin skipped).
  const reasons = summary.details.flatMap((d) => (typeof d.details['reason'] === 'string' ? [`${d.item}: ${d.details['reason']}`] : []));
  const notes = anomalies.length + reasons.length ? ['', ...anomalies, ...reasons] : [];
  const ranking = rankingLine(summary.ranking);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...notes, '', ...(ranking ? [ranking] : []), totals]
    .join('\n');
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

/**
 * The ranking a run used, in one line: its first coins with their 24h quote volume, and its delisted ones (`ferry
 * status --json` has every entry).
 */
export function rankingLine(ranking: RunRanking | null, shown = 5): string | undefined {
  if (!ranking || ranking.entries.length === 0) return undefined;
  const listed = ranking.entries.filter((e) => e.listed);
  const delisted = ranking.entries.filter((e) => !e.listed).map((e) => e.symbol);
  const more = (n: number) => (n > shown ? `, ... (${n - shown} more)` : '');
  const head = ranking.basis === 'top_quote_volume'
    ? `ranking: top ${listed.length} by 24h quote volume at ${ranking.ranked_at}` +
      (listed.length ? `: ${listed.slice(0, shown).map((e) => `${e.rank} ${e.symbol} ${e.quote_volume === null ? '-' : compact.format(e.quote_volume)}`).join(', ')}${more(listed.length)}` : '')
    : `ranking: ${ranking.entries.length} coin(s) as given${listed.length ? `: ${listed.slice(0, shown).map((e) => e.symbol).join(', ')}${more(listed.length)}` : ''}`;
  const tail = delisted.length ? `; ${delisted.length} delisted (archive only): ${delisted.slice(0, shown).join(', ')}${more(delisted.length)}` : '';
  return head + tail;
}

/** A run succeeded when every item is complete or skipped. */
export function runSucceeded(summary: RunSummary): boolean {
  return summary.pending === 0 && summary.complete + summary.skipped === summary.total;
}
