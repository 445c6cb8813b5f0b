import { isLeveragedToken, STABLECOINS, type MarketSummary } from '../exchange/top-symbols.js';

/**
 * Which of the archive's symbols are coins the exchange no longer lists (`ferry collect --include-delisted`): USDT
 * spot pairs with a directory in the archive's listing (`data/spot/monthly/klines/FTTUSDT/`) whose id no spot market
 * of exchangeInfo has, without stablecoins and leveraged tokens (the top N's rules). Pure, over plain data.
 */

const SYMBOL_DIRECTORY = /^data\/spot\/(?:monthly|daily)\/klines\/([A-Z0-9]+)\/$/;

/** `data/spot/monthly/klines/FTTUSDT/` -> `FTTUSDT`; undefined for anything else. */
export function archiveIdOfDirectory(directory: string): string | undefined {
  return SYMBOL_DIRECTORY.exec(directory)?.[1];
}

/** Unified symbols (FTT/USDT) of the delisted coins among `archiveIds` (Binance ids), sorted. */
export function delistedSymbols(archiveIds: readonly string[], markets: readonly MarketSummary[], quote = 'USDT'): string[] {
  // Spot ids only: a perpetual future of a coin whose spot pair was delisted has the same id (XYZUSDT).
  const listedIds = new Set(markets.filter((m) => m.spot).map((m) => m.id ?? m.symbol.replace('/', '')));
  const candidates = [...new Set(archiveIds)]
    .filter((id) => id.endsWith(quote) && !listedIds.has(id))
    .map((id) => ({ id, base: id.slice(0, -quote.length) }))
    // As the run's payloads accept them (collectCandlesPayload's symbol).
    .filter((c) => /^[A-Z0-9]{1,20}$/.test(c.base));
  // A delisted BTCUP is a leveraged token because BTC is a known base, listed or delisted alike.
  const knownBases = new Set([...markets.map((m) => m.base), ...candidates.map((c) => c.base)]);
  return candidates
    .filter((c) => !STABLECOINS.has(c.base)
      && !isLeveragedToken({ symbol: `${c.base}/${quote}`, base: c.base, quote, spot: true, active: false }, knownBases))
    .map((c) => `${c.base}/${quote}`)
    .sort();
}
