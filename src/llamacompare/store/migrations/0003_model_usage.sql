-- What each in-process model cost on this machine in a run: its load time and memory, and the tokens llama.cpp
-- read and generated with the time each took (`show` and the reports print them as tokens/s).
CREATE TABLE model_usage (
    run_id            TEXT NOT NULL REFERENCES runs(id),
    model             TEXT NOT NULL,
    load_s            REAL,
    memory_bytes      INTEGER,          -- resident memory the model added when it loaded
    peak_rss_bytes    INTEGER,          -- the whole process's peak resident memory
    prompt_tokens     INTEGER NOT NULL,
    prompt_s          REAL NOT NULL,
    generated_tokens  INTEGER NOT NULL,
    generation_s      REAL NOT NULL,
    PRIMARY KEY (run_id, model)
);
