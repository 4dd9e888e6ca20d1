-- The runner loads the cache keys of a model once (to skip a lookup per request for answers it cannot have),
-- and the status index cost more on every insert than it saved: listing runs scans a run's rows by primary key.
CREATE INDEX responses_by_model ON responses (model);
DROP INDEX results_by_run_status;
