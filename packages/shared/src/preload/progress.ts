/** The `--wait` progress line: `files done/total (pct) | elapsed | ETA | resumed: N skipped`. */
export interface PreloadProgress {
  /** Files finished in this run (ingested or failed), not counting skipped ones. */
  done: number;
  /** Files this run must download. */
  total: number;
  /** Files skipped because they were already ingested with the same ETag. */
  skipped: number;
  elapsedMs: number;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** ETA extrapolates the rate so far; unknown until the first file is done. */
export function formatPreloadProgress(p: PreloadProgress): string {
  const pct = p.total === 0 ? 100 : (p.done / p.total) * 100;
  const eta = p.done === 0 ? '?' : seconds((p.elapsedMs / p.done) * (p.total - p.done));
  return `${p.done}/${p.total} files (${pct.toFixed(1)}%) | elapsed: ${seconds(p.elapsedMs)} | ETA: ${eta} | resumed: ${p.skipped} skipped`;
}
