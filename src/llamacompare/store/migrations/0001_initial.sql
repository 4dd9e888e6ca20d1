-- A run: one suite x models invocation; its resolved configuration is kept so it can be resumed.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY,
    suite        TEXT NOT NULL,
    config_json  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted', 'failed'))
);

-- Every answer ever received, addressed by the hash of (model, kind, rendered request, parameters):
-- a rerun that would send the same request finds it here and sends nothing.
CREATE TABLE responses (
    key                TEXT PRIMARY KEY,
    model              TEXT NOT NULL,
    kind               TEXT NOT NULL,   -- 'generate' or 'logprob'
    request_json       TEXT NOT NULL,
    text               TEXT,
    finish_reason      TEXT,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    latency_s          REAL,
    ttft_s             REAL,
    cost_usd           REAL,
    cost_source        TEXT,
    label_logprobs     TEXT,
    created_at         TEXT NOT NULL
);

-- One row per (run, task, case, model, mode, repeat): answered (response_key set) or failed with its reason.
CREATE TABLE results (
    run_id        TEXT NOT NULL REFERENCES runs(id),
    task_id       TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    model         TEXT NOT NULL,
    mode          TEXT NOT NULL,
    rep           INTEGER NOT NULL DEFAULT 0,
    seq           INTEGER NOT NULL,        -- the case's position in its task, for stable ordering
    status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    response_key  TEXT REFERENCES responses(key),
    cached        INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 1,
    input_json    TEXT NOT NULL,          -- the case's fields
    reference     TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, case_id, model, mode, rep)
);
CREATE INDEX results_by_run_status ON results (run_id, status);

-- Scores computed from stored answers; `rescore` replaces them without calling any model.
CREATE TABLE scores (
    run_id    TEXT NOT NULL,
    task_id   TEXT NOT NULL,
    case_id   TEXT NOT NULL,
    model     TEXT NOT NULL,
    mode      TEXT NOT NULL,
    rep       INTEGER NOT NULL DEFAULT 0,
    scorer    TEXT NOT NULL,
    value     REAL,
    detail    TEXT,
    PRIMARY KEY (run_id, task_id, case_id, model, mode, rep, scorer)
);
