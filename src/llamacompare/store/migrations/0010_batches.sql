-- `run --batch`: the provider batches a run sent, stored the moment the provider gave each its id (before the first
-- poll), so that a killed process re-attaches to its batch on --resume instead of paying for a second one.
CREATE TABLE batches (
    run_id      TEXT NOT NULL REFERENCES runs(id),
    model       TEXT NOT NULL,     -- as the run names it
    batch_id    TEXT NOT NULL,     -- the provider's id of the job
    input_file  TEXT,              -- the uploaded requests (none for a provider that takes them in the body)
    requests    INTEGER NOT NULL,  -- lines sent
    status      TEXT NOT NULL,     -- the provider's last word on it
    collected   INTEGER NOT NULL DEFAULT 0,  -- 1: over, and every answer it had is stored
    created_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, batch_id)
);
