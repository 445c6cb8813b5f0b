-- Daily/minute aggregates from the flat-file bucket. One row per (source, ticker, timeframe, bar start); workers
-- insert with ON CONFLICT DO NOTHING so a file ingested twice cannot double a bar.
CREATE TABLE bars (
  source       text             NOT NULL,
  ticker       text             NOT NULL,
  timeframe    text             NOT NULL,
  time         timestamptz      NOT NULL,
  open         double precision NOT NULL,
  high         double precision NOT NULL,
  low          double precision NOT NULL,
  close        double precision NOT NULL,
  volume       double precision NOT NULL,
  -- Flat files carry a trade count per bar; null when a source has none.
  transactions bigint,
  PRIMARY KEY (source, ticker, timeframe, time)
);

-- Files already ingested, by key and ETag: a preload skips these without a request, and a file whose ETag
-- changed upstream is fetched again because its (key, etag) pair is new.
CREATE TABLE ingested_files (
  key         text        NOT NULL,
  etag        text        NOT NULL,
  size        bigint      NOT NULL,
  tickers     text[]      NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, etag)
);
