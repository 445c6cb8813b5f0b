import { restoreCandles, type RestoreCandlesResult, type SyncTarget } from '@ferry/shared/backup';
import { PermanentError } from '@ferry/shared/core';
import type { CliContext } from '../context.js';
import { EXIT, type CliIo } from '../io.js';

/**
 * A restore that left some files out that a later run may bring back; the CLI reports it and exits 1. Files no run can
 * restore (unsafe or foreign names) are skipped, not failed, so they do not make every restore exit 1.
 */
export class RestoreIncompleteError extends PermanentError {}

/** Restores the candle files of `target` and reports them; throws RestoreIncompleteError when some failed. */
export async function restore(io: CliIo, { config, db }: CliContext<'postgres'>, target: SyncTarget, opts: { json?: boolean }): Promise<number> {
  const result = await restoreCandles({
    target, db, dataDir: config.dataDir, exchange: config.exchange.id, log: (line) => io.stderr(`${line}\n`),
  });
  io.stdout(opts.json ? `${JSON.stringify({ target: target.description, exchange: config.exchange.id, ...result }, null, 2)}\n` : restoreReport(result, target.description));
  if (result.failed.length > 0) {
    throw new RestoreIncompleteError(`restore incomplete: ${result.failed.length} of ${result.files} file(s) failed; run it again to retry them`);
  }
  return EXIT.ok;
}

export function restoreReport(result: RestoreCandlesResult, target: string): string {
  if (result.files === 0) return `nothing to restore: ${target} has no candle files\n`;
  const lines = [
    `restored ${result.files - result.skipped.length - result.failed.length} of ${result.files} candle file(s) from ${target}: ` +
      `${result.rows} candle(s), ${result.inserted} new in PostgreSQL; ${result.downloaded} downloaded, ` +
      `${result.files - result.skipped.length - result.failed.length - result.downloaded} already in DATA_DIR`,
    ...result.skipped.map((s) => `skipped ${shownKey(s.key)}: ${s.reason}`),
    ...result.failed.map((f) => `failed  ${shownKey(f.key)}: ${f.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A key as it is, or quoted when it holds characters (a newline, a control character) that would garble the report. */
function shownKey(key: string): string {
  const quoted = JSON.stringify(key);
  return quoted.slice(1, -1) === key ? key : quoted;
}
