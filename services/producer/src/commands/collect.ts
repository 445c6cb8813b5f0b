import { Option } from 'commander';
import { COLLECT_DEFAULTS } from '@ferry/shared/collect/collect-defaults';
import { TIMEFRAME_NAMES } from '@ferry/shared/core/timeframes';
import type { CliCommand } from '../command.js';
import type { RawCollectOptions } from '../collect-request.js';
import { withCliContext } from '../context.js';

interface CollectCommandOptions extends Omit<RawCollectOptions, 'exchange'> {
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
    .option('--include-delisted', 'also the coins the exchange no longer trades (delisted, or halted: BREAK) whose archive files lie in the range (needs the archive)')
    .option('--wait', 'show progress until the run ends, then a summary; exit 0 only if every coin is complete')
    .option('--json', 'print a machine-readable summary')
    .actionWithExitCode(({ wait, json, ...options }: CollectCommandOptions) => withCliContext(io, {
      open: ['redis', 'postgres'],
      prepare: async (config) => {
        // The checks' modules (zod, the archive's exchanges) load when the command runs, not for --help.
        const { parseCollectOptions, parseCollectRequest } = await import('../collect-request.js');
        const checked = parseCollectOptions({ ...options, exchange: options.exchange ?? config.exchange.id });
        // ccxt (about a second to load) only once every option has the right shape: it lists the known exchanges.
        const { loadCcxt } = await import('@ferry/shared/exchange');
        return parseCollectRequest(checked, (await loadCcxt()).exchanges, Date.now(), config);
      },
    }, async (ctx, request) => (await import('../actions/collect.js')).collect(io, ctx, request, { wait, json })));
};
