-- The ranking a candle run used (runs/run-ranking.ts): its coins in order, each with the 24h quote volume it was
-- ranked by and whether the exchange still lists it. Written once, when the run is created; NULL for runs of other
-- kinds and for runs created before this column. Owned by runs/run-store.ts.
ALTER TABLE collection_runs ADD COLUMN ranking jsonb;
