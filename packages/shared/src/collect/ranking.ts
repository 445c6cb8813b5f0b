import type { RankedSymbol } from '../exchange/top-symbols.js';
import type { RunRanking } from '../runs/run-ranking.js';

/**
 * The ranking record of a run (runs/run-ranking.ts) from what chose its coins. Pure.
 *
 * Order: the top N listed coins by their 24h quote volume, then the delisted coins by symbol. Delisted coins have no
 * 24h ticker (the exchange does not list them), so nothing ranks them against listed ones or against each other;
 * `--top` and `--min-volume` apply to listed coins only.
 */
export function topRanking(exchange: string, top: readonly RankedSymbol[], delisted: readonly string[], rankedAtMs: number): RunRanking {
  const source = `${exchange} 24h ticker quoteVolume`;
  return {
    basis: 'top_quote_volume',
    ranked_at: new Date(rankedAtMs).toISOString(),
    entries: [
      ...top.map((t) => ({ symbol: t.symbol, listed: true, quote_volume: t.quoteVolume, volume_source: source })),
      ...delisted.map((symbol) => ({ symbol, listed: false, quote_volume: null, volume_source: null })),
    ].map((e, i) => ({ rank: i + 1, ...e })),
  };
}

/** `--symbols`: the coins as given, in that order; `delisted` says which of them the exchange no longer trades. */
export function givenRanking(symbols: readonly string[], delisted: ReadonlySet<string>, rankedAtMs: number): RunRanking {
  return {
    basis: 'given',
    ranked_at: new Date(rankedAtMs).toISOString(),
    entries: symbols.map((symbol, i) => ({ rank: i + 1, symbol, listed: !delisted.has(symbol), quote_volume: null, volume_source: null })),
  };
}
