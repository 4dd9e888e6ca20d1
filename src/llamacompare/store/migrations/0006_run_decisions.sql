-- `run --until-decided`: why each model stopped asking a task's cases, and how many requests that saved, so that
-- `show` and the reports say it after the run (a resumed run rewrites its rows).
CREATE TABLE run_decisions (
    run_id   TEXT NOT NULL REFERENCES runs(id),
    task_id  TEXT NOT NULL,
    model    TEXT NOT NULL,     -- as the race names it: the model, or model@mode when a task runs two modes
    verdict  TEXT NOT NULL,     -- best | within margin | worse | undecided | tied
    cases    INTEGER NOT NULL,  -- the cases its decision rests on
    saved    INTEGER NOT NULL,  -- requests of this model for this task not sent
    line     TEXT NOT NULL,     -- the sentence the run printed
    PRIMARY KEY (run_id, task_id, model)
);
