import type { FerryConfig } from '../core/config/config.js';
import type { SyncRuleName } from '../jobs/payloads.js';

/**
 * The scheduled directory syncs, as in the seeds: what each rule backs up (directories under DATA_DIR) and how often.
 * Defaults: learning data and logs/monitoring every 5 minutes, models every 30, the candle cache every 2 hours (new
 * candle files are also synced as they are written, by the jobs the download workers chain).
 */
export interface DirectorySyncRule {
  name: SyncRuleName;
  /** Top-level directories under DATA_DIR. */
  directories: readonly string[];
  /** Interval in ms; null = disabled. */
  everyMs: number | null;
}

const DIRECTORIES: Record<SyncRuleName, readonly string[]> = {
  learning: ['learning'],
  logs: ['logs', 'monitoring'],
  models: ['models'],
  candles: ['candles'],
};

export function directorySyncRules(every: FerryConfig['sync']['every']): DirectorySyncRule[] {
  return (Object.keys(DIRECTORIES) as SyncRuleName[]).map((name) => ({ name, directories: DIRECTORIES[name], everyMs: every[name] }));
}

/** The BullMQ job scheduler id of a rule: the same on every replica, so there is one schedule however many run. */
export function syncSchedulerId(rule: SyncRuleName): string {
  return `sync-directory.${rule}`;
}

/** `learning (learning) every 5m; logs (logs, monitoring) every 5m; models (models) off; ...` for the start-up line. */
export function describeSyncRules(rules: readonly DirectorySyncRule[]): string {
  return rules
    .map((r) => `${r.name} (${r.directories.join(', ')}) ${r.everyMs === null ? 'off' : `every ${formatInterval(r.everyMs)}`}`)
    .join('; ');
}

export function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
