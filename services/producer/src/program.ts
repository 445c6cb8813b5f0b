import { Command, CommanderError, Option } from 'commander';
import {
  COLLECT_DEFAULTS, ConfigError, loadCcxt, DatabaseUnavailableError, FerryError, loadConfig, NothingToCollectError, queueCollection,
  RedisUnavailableError, isRunId, runSummary, syncSummary, type SyncSummary,
  TIMEFRAME_NAMES, type FerryConfig,
} from '@ferry/shared';
import { openCliContext } from './cli-context.js';
import { parseCollectRequest, UsageError, type RawCollectOptions } from './collect-request.js';
import { progressLine, runSucceeded, summaryTable, waitForRun } from './progress.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerPreloadCommands } from './commands/preload.js';
import { registerRestoreCommand } from './commands/restore.js';

/** Exit codes: 0 done, 1 the work failed or is incomplete, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is redrawn in place there). */
  isTty: boolean;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
  env: process.env,
};

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('ferry')
    .description('ferry: reliable bulk downloads of market data, backed up')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('collect')
    .description('download candle history of the top N coins (or --symbols) into PostgreSQL and Parquet files')
    .option('--exchange <id>', 'ccxt exchange id', undefined)
    .option('--exchange-url <url>', "replace the exchange's REST base URL (proxy, testnet, emulator)")
    .option('--top <n>', 'how many coins, by 24h quote volume', String(COLLECT_DEFAULTS.top))
    .option('--min-volume <usd>', 'minimum 24h quote volume', String(COLLECT_DEFAULTS.minVolume))
    .option('--days <n>', 'days of history', String(COLLECT_DEFAULTS.days))
    .option('--timeframe <tf>', `timeframe(s), comma-separated: ${TIMEFRAME_NAMES.join(', ')}`, COLLECT_DEFAULTS.timeframes.join(','))
    .option('--symbols <list>', 'coins instead of the top N, e.g. BTC,ETH')
    .addOption(new Option('--mode <mode>', 'backward = history, forward = since the last candle, gap_fill = holes').default('backward'))
    .option('--start <iso>', 'first day (instead of --days)')
    .option('--end <iso>', 'end (exclusive, no later than now; default: the last closed candle)')
    .option('--wait', 'show progress until the run ends, then a summary; exit 0 only if every coin is complete')
    .option('--json', 'print a machine-readable summary')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const config = configOrThrow(io.env);
      const request = parseCollectRequest({
        exchange: (opts.exchange as string | undefined) ?? config.exchange.id,
        exchangeUrl: opts.exchangeUrl as string | undefined,
        top: opts.top as string,
        minVolume: opts.minVolume as string,
        days: opts.days as string,
        timeframe: opts.timeframe as string,
        symbols: opts.symbols as string | undefined,
        mode: opts.mode as RawCollectOptions['mode'],
        start: opts.start as string | undefined,
        end: opts.end as string | undefined,
      }, (await loadCcxt()).exchanges, Date.now());
      const ctx = await openCliContext(config);
      try {
        const queued = await queueCollection(request, ctx);
        const what = `${queued.symbols.length} coin(s) x ${request.timeframes.length} timeframe(s)`;
        const said = queued.reused
          ? `run ${queued.runId} already queued (${what}); not queued again`
          : `run ${queued.runId}: ${queued.jobs} job(s) queued (${what})`;
        if (!opts.json || opts.wait) io.stderr(`${said}\n`);
        if (!opts.wait) {
          if (opts.json) io.stdout(`${JSON.stringify({ run_id: queued.runId, reused: queued.reused, jobs: queued.jobs, symbols: queued.symbols })}\n`);
          return;
        }
        const started = Date.now();
        let lastPrinted = 0;
        const summary = await waitForRun(ctx.db, queued.runId, (s) => {
          const line = progressLine(s, Date.now() - started);
          if (io.isTty) io.stderr(`\r\x1b[2K${line}`);
          else if (Date.now() - lastPrinted >= 5_000 || s.pending === 0) {
            lastPrinted = Date.now();
            io.stderr(`${line}\n`);
          }
        });
        if (io.isTty) io.stderr('\n');
        io.stdout(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryTable(summary)}\n`);
        exitCode = runSucceeded(summary) ? EXIT.ok : EXIT.failed;
      } finally {
        await ctx.close();
      }
    });

  program
    .command('status')
    .description('summary of a run (the latest one without RUN_ID): totals and per-coin status, records, missing ranges, last error')
    .argument('[run-id]', 'run id printed by collect')
    .option('--json', 'print JSON')
    .action(async (runId: string | undefined, opts: { json?: boolean }) => {
      if (runId !== undefined && !isRunId(runId)) throw new UsageError(`RUN_ID ${JSON.stringify(runId)}: expected a run id (a UUID) printed by ferry collect`);
      const ctx = await openCliContext(configOrThrow(io.env));
      try {
        const summary = await runSummary(ctx.db, runId);
        if (!summary) {
          io.stderr(runId ? `no run ${runId}\n` : 'no runs yet\n');
          exitCode = EXIT.failed;
          return;
        }
        // Where the run's files stand on the sync target (pending, uploaded, identical, failed).
        const sync = await syncSummary(ctx.db, summary.run_id);
        io.stdout(opts.json
          ? `${JSON.stringify({ ...summary, sync }, null, 2)}\n`
          : `${summaryTable(summary)}\n${syncLine(sync)}\n`);
      } finally {
        await ctx.close();
      }
    });

  registerPreloadCommands(program, io, (code) => (exitCode = code));
  registerRestoreCommand(program, io);
  registerKeysCommands(program, io, (code) => (exitCode = code));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

function syncLine(s: SyncSummary): string {
  const failures = s.failures.map((f) => `\n  failed: ${f.relative_path}: ${f.reason}`).join('');
  return `files: ${s.total} (pending ${s.pending}, uploaded ${s.uploaded}, skipped-identical ${s.skipped_identical}, ` +
    `failed ${s.failed}), ${s.synced_bytes} bytes synced${failures}`;
}

function configOrThrow(env: NodeJS.ProcessEnv): FerryConfig {
  return loadConfig(env, { envFile: '.env' });
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; commander already printed what it had to say.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version'
      ? EXIT.ok
      : EXIT.usage;
  }
  if (err instanceof UsageError || err instanceof ConfigError) {
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof RedisUnavailableError || err instanceof DatabaseUnavailableError || err instanceof NothingToCollectError ||
      err instanceof FerryError) {
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT.failed;
  }
  io.stderr(`ferry: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return EXIT.failed;
}
