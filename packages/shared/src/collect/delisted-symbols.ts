import { isLeveragedToken, STABLECOINS, type MarketSummary } from '../exchange/top-symbols.js';

/**
 * Which of the archive's symbols are coins the exchange no longer trades (`ferry collect --include-delisted`): USDT
 * spot pairs with a directory in the archive's listing (`data/spot/monthly/klines/FTTUSDT/`) whose id no trading spot
 * market of exchangeInfo has, without stablecoins and leveraged tokens (the top N's rules). That is both the pairs
 * exchangeInfo dropped and those it still lists as not trading: Binance keeps many delisted pairs there with status
 * BREAK (ccxt: `active: false`), and the top N, which ranks trading pairs only, leaves them out too. Pure, over plain
 * data.
 */

const SYMBOL_DIRECTORY = /^data\/spot\/(?:monthly|daily)\/klines\/([A-Z0-9]+)\/$/;

/** `data/spot/monthly/klines/FTTUSDT/` -> `FTTUSDT`; undefined for anything else. */
export function archiveIdOfDirectory(directory: string): string | undefined {
  return SYMBOL_DIRECTORY.exec(directory)?.[1];
}

/** The exchange's id of a market (Binance: BTCUSDT), which is what the archive names. */
const marketId = (m: MarketSummary) => m.id ?? m.symbol.replace('/', '');

/** Unified symbols (FTT/USDT) of the delisted coins among `archiveIds` (Binance ids), sorted. */
export function delistedSymbols(archiveIds: readonly string[], markets: readonly MarketSummary[], quote = 'USDT'): string[] {
  // Spot ids only: a perpetual future of a coin whose spot pair was delisted has the same id (XYZUSDT).
  const tradingIds = new Set(markets.filter((m) => m.spot && m.active).map(marketId));
  // A pair exchangeInfo lists as not trading still says what it is (Binance marks leveraged tokens in permissions).
  const haltedById = new Map(markets.filter((m) => m.spot && !m.active).map((m) => [marketId(m), m]));
  const candidates = [...new Set(archiveIds)]
    .filter((id) => id.endsWith(quote) && !tradingIds.has(id))
    .map((id) => ({ id, base: id.slice(0, -quote.length) }))
    // As the run's payloads accept them (collectCandlesPayload's symbol).
    .filter((c) => /^[A-Z0-9]{1,20}$/.test(c.base));
  // A delisted BTCUP is a leveraged token because BTC is a known base, listed or delisted alike.
  const knownBases = new Set([...markets.map((m) => m.base), ...candidates.map((c) => c.base)]);
  return candidates
    .filter((c) => !STABLECOINS.has(c.base)
      && !isLeveragedToken(haltedById.get(c.id) ?? { symbol: `${c.base}/${quote}`, base: c.base, quote, spot: true, active: false }, knownBases))
    .map((c) => `${c.base}/${quote}`)
    .sort();
}
