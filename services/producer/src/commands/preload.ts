import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { parsePreloadRequest } from '../preload-request.js';

/** What `ferry preload --wait --json` prints. */
export type { PreloadReport } from '../actions/preload.js';

/**
 * `ferry preload TSLA [AAPL ...]`: daily (or minute) aggregates from the flat-file bucket, one job per file. Exit 0
 * only when every file is in and the Parquet files are written.
 */
export const preloadCommand: CliCommand = (program, io) => {
  program
    .command('preload')
    .description('download flat files (S3) for tickers into PostgreSQL, then one Parquet file per ticker; resumable')
    .argument('<tickers...>', 'stock tickers, case-sensitive as the files spell them (TSLA, ABRpD), or crypto pairs (BTC-USD, X:BTCUSD)')
    .option('--period <n[dmy]>', 'how far back, e.g. 30d, 6m, 5y (default 5y for stocks, 2y for crypto)')
    .option('--interval <1d|1m>', 'day or minute aggregates', '1d')
    .option('--start <YYYY-MM-DD>', 'first day (instead of --period)')
    .option('--end <YYYY-MM-DD>', 'last day, inclusive (default: yesterday)')
    .option('--wait', 'show progress until every file is in, then a summary; exit 0 only if nothing failed')
    .option('--json', 'print a machine-readable summary')
    .actionWithExitCode(async (tickers: string[], opts: { period?: string; interval: string; start?: string; end?: string; wait?: boolean; json?: boolean }) => {
      const request = parsePreloadRequest({ tickers, period: opts.period, interval: opts.interval, start: opts.start, end: opts.end });
      return withCliContext(io, { open: ['flatFiles', 'redis', 'postgres'] }, async (ctx) =>
        (await import('../actions/preload.js')).preload(io, ctx, request, opts));
    });
};
