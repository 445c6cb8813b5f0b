import { z } from 'zod';
import type { CollectRequest } from '@ferry/shared/collect';
import { isoDateString, isTimeframe, parseIsoDate, TIMEFRAME_NAMES, type FerryConfig, type Timeframe } from '@ferry/shared/core';
import { COLLECTION_MODES } from '@ferry/shared/jobs/payloads';
// The light module, not the archive's folder (its client, zip reader and stores): checks load no more than they need.
import { ARCHIVE_EXCHANGES, COLLECT_SOURCES, includeDelistedProblem } from '@ferry/shared/archive/sources';
import { UsageError } from './errors.js';

const intIn = (min: number, max: number) =>
  z.string().regex(/^\d+$/, `expected a whole number from ${min} to ${max}`).transform(Number)
    .refine((n) => n >= min && n <= max, `expected a whole number from ${min} to ${max}`);

const raw = z.object({
  exchange: z.string(),
  top: intIn(1, 1000),
  minVolume: z.string().regex(/^\d+(\.\d+)?$/, 'expected a number >= 0').transform(Number),
  days: intIn(1, 3650),
  timeframe: z.string(),
  symbols: z.string().optional(),
  mode: z.enum(COLLECTION_MODES, { message: `expected one of ${COLLECTION_MODES.join(', ')}` }),
  start: isoDateString.optional(),
  end: isoDateString.optional(),
  source: z.enum(COLLECT_SOURCES, { message: `expected one of ${COLLECT_SOURCES.join(', ')}` }).default('auto'),
  includeDelisted: z.boolean().optional(),
});

export type RawCollectOptions = z.input<typeof raw>;
export type CollectOptions = z.output<typeof raw>;

const OPTION_NAMES: Record<string, string> = {
  exchange: '--exchange', top: '--top', minVolume: '--min-volume', days: '--days',
  timeframe: '--timeframe', symbols: '--symbols', mode: '--mode', start: '--start', end: '--end',
  source: '--source', includeDelisted: '--include-delisted',
};

/**
 * Checks each CLI option's shape (numbers, modes, dates); every problem names the option, the value and what was
 * expected. First of two steps: a value of the wrong shape is reported before the exchange list is loaded.
 */
export function parseCollectOptions(options: RawCollectOptions): CollectOptions {
  const parsed = raw.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const value = (options as Record<string, unknown>)[key];
    return `${OPTION_NAMES[key] ?? key} ${JSON.stringify(value)}: ${issue.message}`;
  });
  throw new UsageError(problems.join('\n'));
}

/**
 * Checks the options against each other, the exchange list and the clock, and makes the request; every problem names
 * the option, the value and what was expected. `nowMs` (the clock, passed in so this stays pure) bounds --end:
 * candles of the future cannot be fetched. `config` says whether the archive can be used, which --include-delisted needs.
 */
export function parseCollectRequest(o: CollectOptions, knownExchanges: readonly string[], nowMs: number,
  config: Pick<FerryConfig, 'exchange' | 'archive'>): CollectRequest {
  const problems: string[] = [];
  const exchange = o.exchange.toLowerCase();
  if (!knownExchanges.includes(exchange)) {
    problems.push(`--exchange ${JSON.stringify(o.exchange)}: expected a ccxt exchange id such as binance, kraken, okx`);
  }
  const timeframes = o.timeframe.split(',').map((t) => t.trim()).filter(Boolean);
  const badTimeframes = timeframes.filter((t) => !isTimeframe(t));
  if (timeframes.length === 0 || badTimeframes.length > 0) {
    problems.push(`--timeframe ${JSON.stringify(o.timeframe)}: expected one or more of ${TIMEFRAME_NAMES.join(', ')} (comma-separated)`);
  }
  const repeated = [...new Set(timeframes.filter((t, i) => timeframes.indexOf(t) !== i))];
  if (repeated.length > 0) {
    problems.push(`--timeframe ${JSON.stringify(o.timeframe)}: ${repeated.join(', ')} given more than once: expected each timeframe once`);
  }
  let symbols: string[] | undefined;
  if (o.symbols !== undefined) {
    symbols = [...new Set(o.symbols.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean))].map((s) =>
      s.includes('/') ? s : `${s}/USDT`);
    const bad = symbols.filter((s) => !/^[A-Z0-9]{1,20}\/[A-Z0-9]{2,10}$/.test(s));
    if (symbols.length === 0 || bad.length > 0) {
      problems.push(`--symbols ${JSON.stringify(o.symbols)}: expected coins such as BTC,ETH or BTC/USDT`);
    }
  }
  const startMs = o.start === undefined ? undefined : parseIsoDate(o.start);
  const endMs = o.end === undefined ? undefined : parseIsoDate(o.end);
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    problems.push(`--end ${JSON.stringify(o.end)}: expected a date after --start ${JSON.stringify(o.start)}`);
  }
  if (endMs !== undefined && endMs > nowMs) {
    problems.push(`--end ${JSON.stringify(o.end)}: expected a date no later than now, ${new Date(nowMs).toISOString()}`);
  }
  if (o.source === 'archive' && !ARCHIVE_EXCHANGES.includes(exchange)) {
    problems.push(`--source archive: ${exchange} has no public archive of candles (${ARCHIVE_EXCHANGES.join(', ')} do)`);
  }
  const delistedProblem = o.includeDelisted ? includeDelistedProblem(o.source, exchange, config) : undefined;
  if (delistedProblem) problems.push(`--include-delisted: ${delistedProblem}`);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    exchange,
    top: o.top,
    minVolume: o.minVolume,
    days: o.days,
    timeframes: timeframes as Timeframe[],
    symbols,
    mode: o.mode,
    startMs,
    endMs,
    source: o.source,
    ...(o.includeDelisted ? { includeDelisted: true } : {}),
  };
}
