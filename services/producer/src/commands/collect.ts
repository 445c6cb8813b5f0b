import { Option } from 'commander';
import { COLLECT_DEFAULTS, queueCollection } from '@ferry/shared/collect';
import { TIMEFRAME_NAMES } from '@ferry/shared/core';
import { loadCcxt } from '@ferry/shared/exchange';
import { QueueName } from '@ferry/shared/jobs';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { parseCollectRequest, type RawCollectOptions } from '../collect-request.js';
import { EXIT } from '../io.js';
import { downloadWorkerWatch, progressLine, runSucceeded, summaryTable, waitShowingProgress } from '../progress.js';

interface CollectOptions extends Omit<RawCollectOptions, 'exchange'> {
  exchange?: string;
  wait?: boolean;
  json?: boolean;
}

/** `ferry collect`: queues a run of candle jobs; with `--wait`, exit 0 only when every coin is complete. */
export const collectCommand: CliCommand = (program, io) => {
  program
    .command('collect')
    .description('download candle history of the top N coins (or --symbols) into PostgreSQL and Parquet files')
    .option('--exchange <id>', 'ccxt exchange id', undefined)
    .option('--top <n>', 'how many coins, by 24h quote volume', String(COLLECT_DEFAULTS.top))
    .option('--min-volume <usd>', 'minimum 24h quote volume', String(COLLECT_DEFAULTS.minVolume))
    .option('--days <n>', 'days of history', String(COLLECT_DEFAULTS.days))
    .option('--timeframe <tf>', `timeframe(s), comma-separated: ${TIMEFRAME_NAMES.join(', ')}`, COLLECT_DEFAULTS.timeframes.join(','))
    .option('--symbols <list>', 'coins instead of the top N, e.g. BTC,ETH')
    .addOption(new Option('--mode <mode>', 'backward = history, forward = since the last candle, gap_fill = holes').default('backward'))
    .option('--start <iso>', 'first day (instead of --days)')
    .option('--end <iso>', 'end (exclusive, no later than now; default: the last closed candle)')
    .addOption(new Option('--source <source>', 'auto = Binance\'s archive files where they exist, REST for the rest; rest; archive')
      .default('auto'))
    .option('--include-delisted', 'also the coins the exchange no longer lists whose archive files lie in the range (needs the archive)')
    .option('--wait', 'show progress until the run ends, then a summary; exit 0 only if every coin is complete')
    .option('--json', 'print a machine-readable summary')
    .actionWithExitCode(({ wait, json, ...options }: CollectOptions) => withCliContext(io, {
      open: ['redis', 'postgres'],
      prepare: async (config) =>
        parseCollectRequest({ ...options, exchange: options.exchange ?? config.exchange.id }, (await loadCcxt()).exchanges, Date.now(), config),
    }, async (ctx, request) => {
      const queued = await queueCollection(request, ctx);
      const delisted = queued.delisted.length > 0 || request.includeDelisted ? `, ${queued.delisted.length} of them delisted` : '';
      const what = `${queued.symbols.length} coin(s)${delisted} x ${request.timeframes.length} timeframe(s)`;
      const said = queued.reused
        ? `run ${queued.runId} already queued (${what}); not queued again`
        : `run ${queued.runId}: ${queued.jobs} job(s) queued (${what})` +
          (queued.archiveFiles > 0 ? `, with ${queued.archiveFiles} archive file(s)` : '');
      if (!json || wait) io.stderr(`${said}\n`);
      if (!wait) {
        if (json) io.stdout(`${JSON.stringify({ run_id: queued.runId, reused: queued.reused, jobs: queued.jobs, symbols: queued.symbols, delisted: queued.delisted })}\n`);
        return EXIT.ok;
      }
      const workers = downloadWorkerWatch(ctx.redis, ctx.config, QueueName.Candles);
      const summary = await waitShowingProgress(io, ctx.db, queued.runId, progressLine, { workers }).finally(() => workers.close());
      io.stdout(json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryTable(summary)}\n`);
      return runSucceeded(summary) ? EXIT.ok : EXIT.failed;
    }));
};
