import type { FerryConfig } from '../core/config/config.js';

/*
 * Which source a collection takes history from, and whether the archive can be used: pure, and light on purpose
 * (`@ferry/shared/archive/sources`), since the CLI's and the dashboard's checks of `--source` and
 * `--include-delisted` need it before anything that talks to the archive is loaded.
 */

/** Exchanges whose history ferry can take from an archive. */
export const ARCHIVE_EXCHANGES: readonly string[] = ['binance'];

/** Where a collection takes history from: `auto` = the archive where the exchange has one, REST for the rest. */
export const COLLECT_SOURCES = ['auto', 'rest', 'archive'] as const;
export type CollectSource = (typeof COLLECT_SOURCES)[number];

export class ArchiveUnavailableError extends Error {}

/**
 * Whether a collection on `exchange` uses the archive. `auto` does where the exchange has one, except when
 * EXCHANGE_URL points the exchange elsewhere (a testnet, an emulator) and ARCHIVE_URL was not pointed there too:
 * the real archive's rows would not be that exchange's. `archive` insists, and refuses an exchange without one.
 */
export function usesArchive(source: CollectSource, exchange: string, config: Pick<FerryConfig, 'exchange' | 'archive'>): boolean {
  if (source === 'rest') return false;
  if (!ARCHIVE_EXCHANGES.includes(exchange)) {
    if (source === 'archive') {
      throw new ArchiveUnavailableError(`--source archive: ${exchange} has no public archive (only ${ARCHIVE_EXCHANGES.join(', ')})`);
    }
    return false;
  }
  const redirected = exchange === config.exchange.id && config.exchange.baseUrl !== undefined;
  return source === 'archive' || !redirected || config.archive.explicit;
}

/**
 * Why `include delisted` cannot be done with this source, or undefined when it can: a delisted coin's history is in
 * the archive's files only (REST does not serve coins the exchange no longer lists). `sourceOption` names the
 * caller's option (`--source`, `source`); null when the caller has none to change (schedules take `auto`).
 */
export function includeDelistedProblem(source: CollectSource, exchange: string, config: Pick<FerryConfig, 'exchange' | 'archive'>,
  sourceOption: string | null = '--source'): string | undefined {
  const why = 'delisted coins\' history is only in the archive\'s files (REST does not serve coins the exchange no longer lists)';
  const option = sourceOption ?? 'source';
  if (source === 'rest') return `${why}, and ${option} rest never uses the archive: use ${option} auto or archive`;
  if (!ARCHIVE_EXCHANGES.includes(exchange)) return `${why}, and ${exchange} has none (only ${ARCHIVE_EXCHANGES.join(', ')} have one)`;
  if (!usesArchive(source, exchange, config)) {
    return `${why}, and ${option} auto does not use it while EXCHANGE_URL points ${exchange} elsewhere: set ARCHIVE_URL too` +
      (sourceOption === null ? '' : `, or use ${sourceOption} archive`);
  }
  return undefined;
}
