-- A race's row names its contender by model and mode (identity.Contender), not by the "model@mode" label the run
-- printed. Rows stored before keep their label's parts: a label ending in "@generate"/"@logprob" was a model of a
-- task run in both modes; any other was the model, in the mode its task ran in ('generate' stands in: those rows
-- are read for their printed line, which is kept).
CREATE TABLE run_decisions_v11 (
    run_id   TEXT NOT NULL REFERENCES runs(id),
    task_id  TEXT NOT NULL,
    model    TEXT NOT NULL,
    mode     TEXT NOT NULL,     -- generate | logprob
    verdict  TEXT NOT NULL,     -- best | within margin | worse | undecided | tied
    cases    INTEGER NOT NULL,  -- the cases its decision rests on
    saved    INTEGER NOT NULL,  -- requests of this model for this task not sent
    line     TEXT NOT NULL,     -- the sentence the run printed
    PRIMARY KEY (run_id, task_id, model, mode)
);
INSERT INTO run_decisions_v11
SELECT run_id, task_id,
       CASE WHEN model LIKE '%@generate' THEN substr(model, 1, length(model) - 9)
            WHEN model LIKE '%@logprob' THEN substr(model, 1, length(model) - 8) ELSE model END,
       CASE WHEN model LIKE '%@logprob' THEN 'logprob' ELSE 'generate' END,
       verdict, cases, saved, line
FROM run_decisions;
DROP TABLE run_decisions;
ALTER TABLE run_decisions_v11 RENAME TO run_decisions;
