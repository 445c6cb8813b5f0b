/**
 * The ranking a candle run used: its coins in order, each with the 24h quote volume it was ranked by and whether the
 * exchange still trades it. Recorded with the run when it is created (`collection_runs.ranking`), so that a backtest
 * can tell which universe a run's data is, and shown by `ferry status` and the admin API's run report.
 */
export interface RunRanking {
  /**
   * `top_quote_volume`: the top N listed coins by 24h quote volume, then (`--include-delisted`) the delisted coins
   * the archive has, by symbol. `given`: the coins named by `--symbols`, in the order given.
   */
  basis: 'top_quote_volume' | 'given';
  /** When the coins were ranked: the exchange's clock. */
  ranked_at: string;
  entries: RankingEntry[];
}

export interface RankingEntry {
  /** 1 for the first coin of the run. */
  rank: number;
  /** Unified symbol, e.g. BTC/USDT. */
  symbol: string;
  /**
   * False for a coin the exchange no longer trades: gone from exchangeInfo, or listed there as not trading (Binance
   * BREAK). Its history comes from archive files only.
   */
  listed: boolean;
  /** The 24h quote volume it was ranked by; null when nothing ranked it (delisted coins, --symbols). */
  quote_volume: number | null;
  /** Where `quote_volume` came from (`<exchange> 24h ticker quoteVolume`); null with it. */
  volume_source: string | null;
}
