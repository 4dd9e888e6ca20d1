-- Settings: a task may run each case under several generation settings (`settings:` in a suite), so a result and a
-- score are about (task, case, model, prompt, setting, mode, repeat): llamacompare.identity's AnswerKey. The
-- setting is part of the primary key, which SQLite cannot change in place: the two tables are rebuilt, as for
-- prompt variants (0004). Earlier runs had one setting per task: '' (the task's own params).
CREATE TABLE results_v8 (
    run_id        TEXT NOT NULL REFERENCES runs(id),
    task_id       TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    model         TEXT NOT NULL,
    prompt        TEXT NOT NULL DEFAULT '',
    setting       TEXT NOT NULL DEFAULT '',  -- the setting's id; '' for a task without settings
    mode          TEXT NOT NULL,
    rep           INTEGER NOT NULL DEFAULT 0,
    seq           INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    response_key  TEXT REFERENCES responses(key),
    cached        INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 1,
    input_json    TEXT NOT NULL,
    reference     TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, case_id, model, prompt, setting, mode, rep)
);
INSERT INTO results_v8 (run_id, task_id, case_id, model, prompt, setting, mode, rep, seq, status, response_key,
                        cached, error, attempts, input_json, reference, updated_at)
    SELECT run_id, task_id, case_id, model, prompt, '', mode, rep, seq, status, response_key, cached, error,
           attempts, input_json, reference, updated_at FROM results;
DROP TABLE results;
ALTER TABLE results_v8 RENAME TO results;

CREATE TABLE scores_v8 (
    run_id    TEXT NOT NULL,
    task_id   TEXT NOT NULL,
    case_id   TEXT NOT NULL,
    model     TEXT NOT NULL,
    prompt    TEXT NOT NULL DEFAULT '',
    setting   TEXT NOT NULL DEFAULT '',
    mode      TEXT NOT NULL,
    rep       INTEGER NOT NULL DEFAULT 0,
    scorer    TEXT NOT NULL,
    value     REAL,
    detail    TEXT,
    PRIMARY KEY (run_id, task_id, case_id, model, prompt, setting, mode, rep, scorer)
);
INSERT INTO scores_v8 (run_id, task_id, case_id, model, prompt, setting, mode, rep, scorer, value, detail)
    SELECT run_id, task_id, case_id, model, prompt, '', mode, rep, scorer, value, detail FROM scores;
DROP TABLE scores;
ALTER TABLE scores_v8 RENAME TO scores;
