import type { PreloadRequest } from '@ferry/shared/preload';
import { planDateRange, resolveTicker, type FlatFileInterval, type FlatFileMarket, type ResolvedTicker } from '@ferry/shared/preload/plan';
import { UsageError } from './errors.js';

export interface RawPreloadOptions {
  tickers: readonly string[];
  period?: string;
  interval: string;
  start?: string;
  end?: string;
}

const INTERVALS: readonly FlatFileInterval[] = ['1d', '1m'];
const OPTION_OF: Record<string, string> = { period: '--period', start: '--start', end: '--end' };

/**
 * Validates `ferry preload` arguments: every problem names the argument, the value and what was expected. Tickers are
 * grouped by market (stocks and crypto live under different prefixes), each with its day range: `--start/--end`
 * win over `--period`, whose default is 5y for stocks and 2y for crypto.
 */
export function parsePreloadRequest(options: RawPreloadOptions, today: Date = new Date()): PreloadRequest {
  const problems: string[] = [];
  if (!INTERVALS.includes(options.interval as FlatFileInterval)) {
    problems.push(`--interval ${JSON.stringify(options.interval)}: expected one of ${INTERVALS.join(', ')}`);
  }
  if (options.tickers.length === 0) problems.push('TICKER: expected at least one ticker, e.g. TSLA or BTC-USD');
  const resolved: ResolvedTicker[] = [];
  for (const raw of options.tickers) {
    try {
      resolved.push(resolveTicker(raw));
    } catch (err) {
      problems.push((err as Error).message.replace(/^ticker:/, 'TICKER'));
    }
  }
  const markets = new Map<FlatFileMarket, Set<string>>();
  for (const r of resolved) markets.set(r.market, (markets.get(r.market) ?? new Set()).add(r.ticker));
  const groups: PreloadRequest['markets'] = [];
  for (const [market, tickers] of markets) {
    try {
      const range = planDateRange({ period: options.period, start: options.start, end: options.end, market, today });
      groups.push({ market, tickers: [...tickers].sort(), range });
    } catch (err) {
      const message = (err as Error).message;
      const field = /^(\w+):/.exec(message)?.[1] ?? '';
      const problem = OPTION_OF[field] ? message.replace(/^\w+:/, OPTION_OF[field]!) : message;
      if (!problems.includes(problem)) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { interval: options.interval as FlatFileInterval, markets: groups };
}
