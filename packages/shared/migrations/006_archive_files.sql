-- Files of an exchange's public archive (Binance's data.binance.vision) whose rows are in `candles`: which
-- publication (ETag and SHA-256 from its CHECKSUM file) was ingested, so that a re-published file is fetched again
-- and its rows replace the old ones. Owned by archive/archive-file-store.ts.
CREATE TABLE archive_files (
  exchange    text        NOT NULL,
  key         text        NOT NULL,  -- data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01.zip
  symbol      text        NOT NULL,  -- unified, e.g. BTC/USDT
  timeframe   text        NOT NULL,
  start_time  timestamptz NOT NULL,  -- the period the file covers, [start_time, end_time) of open times
  end_time    timestamptz NOT NULL,
  etag        text        NOT NULL,
  sha256      text        NOT NULL,
  rows        integer     NOT NULL,
  timestamp_unit text     NOT NULL,  -- ms | us, as found in the file
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, key)
);
CREATE INDEX archive_files_series ON archive_files (exchange, symbol, timeframe, start_time);
