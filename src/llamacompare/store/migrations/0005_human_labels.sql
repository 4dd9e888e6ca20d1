-- What people said about a run's answers, imported from the HTML report's export (`rescore RUN --labels FILE`):
-- an answer marked correct or wrong, or for a pair of answers (model against versus) which is better.
CREATE TABLE human_labels (
    run_id       TEXT NOT NULL REFERENCES runs(id),
    task_id      TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    model        TEXT NOT NULL,
    mode         TEXT NOT NULL,
    rep          INTEGER NOT NULL DEFAULT 0,
    versus       TEXT NOT NULL DEFAULT '',  -- the other model of a pairwise label; '' for correct / wrong
    label        TEXT NOT NULL CHECK (label IN ('correct', 'wrong', 'a_better', 'b_better', 'tie')),
    reviewer     TEXT NOT NULL DEFAULT '',
    labelled_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, case_id, model, mode, rep, versus, reviewer)
);
