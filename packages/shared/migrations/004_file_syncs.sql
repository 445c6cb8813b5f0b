-- Per-file backup state: one row per file and sync target, describing its latest sync. `ferry status` and Bull Board
-- report it; the scheduled directory syncs use it as their hash cache (a file whose size and mtime match an uploaded
-- row is not hashed or uploaded again).
CREATE TABLE file_syncs (
  target         text        NOT NULL,  -- the target's description: 'dropbox /ferry', 'local /backup'
  remote_key     text        NOT NULL,  -- path under the target's root: data/candles/BTC/..., 2025-11-11/logs/...
  relative_path  text        NOT NULL,  -- path under DATA_DIR
  size           bigint,                -- bytes of the synced file
  content_hash   text,                  -- Dropbox content hash (packages/shared/src/sync/content-hash.ts)
  local_mtime_ms bigint,                -- mtime of the local file that was synced, for the hash cache
  status         text        NOT NULL
                 CHECK (status IN ('pending', 'uploaded', 'skipped-identical', 'failed')),
  reason         text,                  -- why it failed; while pending, why the last attempt failed
  run_id         uuid,                  -- the collection run whose file this is, if any (no FK: runs may be pruned)
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target, remote_key)
);
CREATE INDEX file_syncs_run_id ON file_syncs (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX file_syncs_status ON file_syncs (status, updated_at DESC);
