-- Candles: the data contract users query. Keep it stable.
CREATE TABLE candles (
  exchange   text             NOT NULL,
  symbol     text             NOT NULL,  -- unified symbol, e.g. BTC/USDT
  timeframe  text             NOT NULL,  -- 1m .. 1d
  open_time  timestamptz      NOT NULL,  -- start of the candle, UTC
  open       double precision NOT NULL,
  high       double precision NOT NULL,
  low        double precision NOT NULL,
  close      double precision NOT NULL,
  volume     double precision NOT NULL,
  PRIMARY KEY (exchange, symbol, timeframe, open_time)
);

-- Ranges where the exchange itself has no candles (before listing, outages), found while collecting, so gap_fill
-- does not chase them forever. [start_time, end_time) in candle open times.
CREATE TABLE exchange_gaps (
  exchange   text        NOT NULL,
  symbol     text        NOT NULL,
  timeframe  text        NOT NULL,
  start_time timestamptz NOT NULL,
  end_time   timestamptz NOT NULL,
  found_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, timeframe, start_time),
  CHECK (end_time > start_time)
);

-- One row per collection request (a `ferry collect`, an admin trigger, a schedule, a preload).
CREATE TABLE collection_runs (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  kind        text        NOT NULL,            -- candles | flat_files
  -- The same request made twice while the first is unfinished maps to the same run (see the unique index).
  fingerprint text        NOT NULL,
  params      jsonb       NOT NULL,
  status      text        NOT NULL DEFAULT 'queued', -- queued | running | completed | failed
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz
);
CREATE UNIQUE INDEX collection_runs_unfinished_fingerprint
  ON collection_runs (fingerprint) WHERE status IN ('queued', 'running');
CREATE INDEX collection_runs_created_at ON collection_runs (created_at DESC);

-- One row per item of a run: a coin x timeframe, or a file.
CREATE TABLE run_items (
  run_id         uuid        NOT NULL REFERENCES collection_runs (id) ON DELETE CASCADE,
  item_key       text        NOT NULL,   -- e.g. binance:BTC/USDT:1h
  status         text        NOT NULL DEFAULT 'queued', -- queued | running | complete | partial | failed | skipped
  records        bigint      NOT NULL DEFAULT 0,
  expected       bigint,
  missing_ranges jsonb       NOT NULL DEFAULT '[]',
  last_error     text,
  attempts       integer     NOT NULL DEFAULT 0,
  details        jsonb       NOT NULL DEFAULT '{}',
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, item_key)
);
