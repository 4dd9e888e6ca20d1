"""The SQLite store, in WAL mode, so two processes can share one database safely.

During a run, answers go to a writer thread that commits whatever has arrived in one transaction, typically
within a millisecond or two of arrival: the event loop never waits for the disk, and a killed process loses at
most the answers of that last instant (a resume asks for those again; nothing stored is ever asked twice).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from llamacompare.errors import UsageError
from llamacompare.identity import AnswerKey, Contender
from llamacompare.jsonfast import canonical
from llamacompare.models.base import ModelUsage, Response
from llamacompare.settings import data_dir
from llamacompare.store.rows import (
    AnswerHistory,
    BatchRow,
    CachedResponse,
    DecisionRow,
    HumanLabelRow,
    ResultRow,
    ResultStat,
    RunListing,
    RunRow,
    ScoreRow,
)
from llamacompare.toolcall import dump_calls

_RUN_COLUMNS = "id, suite, config_json, created_at, finished_at, status"


def default_db_path() -> Path:
    env = os.environ.get("LLAMACOMPARE_DB")
    if env:
        return Path(env)

    return data_dir() / "llamacompare.db"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def canonical_json(value: Any) -> str:
    return canonical(value)


def response_key(model: str, kind: str, request: dict[str, Any] | str, rep: int = 0) -> str:
    """Content address of a request: same model, kind, rendered prompt, parameters (and repeat) -> same key."""
    body = request if isinstance(request, str) else canonical_json(request)
    blob = f"{model}\n{kind}\n{rep}\n{body}" if rep else f"{model}\n{kind}\n{body}"
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    for entry in resources.files("llamacompare.store.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open database {self.path}: {exc}; pass --db PATH to use another") from None
        self.conn.row_factory = sqlite3.Row  # for ad-hoc inspection; the methods hand out typed rows
        self.conn.execute("PRAGMA busy_timeout = 30000")
        for _ in range(300):  # another process may be creating or checkpointing the same database
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise UsageError(f"cannot use database {self.path}: {exc}; pass --db PATH") from None
                time.sleep(0.1)
            except sqlite3.DatabaseError as exc:
                raise UsageError(f"{self.path} is not a llamacompare database ({exc}); pass --db PATH") from None
        self.conn.execute("PRAGMA synchronous = NORMAL")  # durable across process kills; fsync at checkpoints
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._writer: _Writer | None = None
        self._migrate()

    def close(self) -> None:
        self.stop_writer()
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")  # serialise concurrent first opens
        try:
            c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, "
                      "applied_at TEXT)")
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in _migrations():
                if version in done:
                    continue
                code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
                for statement in code.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now_iso()))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    # -- runs ----------------------------------------------------------------------------------------------

    def create_run(self, run_id: str, suite: str, config: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO runs (id, suite, config_json, created_at, status) VALUES (?, ?, ?, ?, 'running')",
            (run_id, suite, json.dumps(config, ensure_ascii=False), now_iso()),
        )

    def set_run_config(self, run_id: str, config: dict[str, Any]) -> None:
        """A resumed run's plan, as it goes on (a new server address, other limits)."""
        self.conn.execute("UPDATE runs SET config_json = ? WHERE id = ?", (json.dumps(config, ensure_ascii=False),
                                                                           run_id))

    def set_run_status(self, run_id: str, status: str) -> None:
        finished = now_iso() if status != "running" else None
        self.conn.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, finished, run_id))

    def get_run(self, run_id: str) -> RunRow:
        """A run by id, by a unique prefix of its id, or 'latest'; a UsageError names what is wrong."""
        row = self.conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunRow(*row) if row is not None else self._run_by_prefix(run_id)

    def run_exists(self, run_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def _run_by_prefix(self, prefix: str) -> RunRow:
        if prefix == "latest":
            row = self.conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise UsageError(f"no runs in {self.path} yet; start one with `llamacompare run`")
            return RunRow(*row)
        rows = self.conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id LIKE ? LIMIT 2", (prefix + "%",)).fetchall()
        if len(rows) == 1:
            return RunRow(*rows[0])
        what = "is ambiguous" if rows else "not found"
        raise UsageError(f"run {prefix!r} {what} in {self.path}; see `llamacompare runs`")

    def list_runs(self, limit: int = 50) -> list[RunListing]:
        """The newest runs first, with how many answers each holds and how many failed."""
        rows = self.conn.execute(
            f"""SELECT {", ".join("r." + c for c in _RUN_COLUMNS.split(", "))},
                      (SELECT COUNT(*) FROM results s WHERE s.run_id = r.id AND s.status = 'ok') AS n_ok,
                      (SELECT COUNT(*) FROM results s WHERE s.run_id = r.id AND s.status = 'failed') AS n_failed
               FROM runs r ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?""",
            (limit,),
        ).fetchall()
        return [RunListing(RunRow(*r[:6]), r[6], r[7]) for r in rows]

    # -- responses and results -----------------------------------------------------------------------------

    def cached_response(self, key: str) -> CachedResponse | None:
        row = self.conn.execute(f"SELECT {_RESPONSE_COLUMNS} FROM responses WHERE key = ?", (key,)).fetchone()
        return CachedResponse(*row) if row is not None else None

    def cached_keys(self, model: str) -> set[int]:
        """64-bit prefixes of the cache keys stored for `model`: a key not in this set is certainly not cached,
        so the runner skips the lookup (a fresh run then does no lookups at all)."""
        rows = self.conn.execute("SELECT key FROM responses WHERE model = ?", (model,))
        return {int(k[:16], 16) for (k,) in rows}

    def done_keys(self, run_id: str) -> set[AnswerKey]:
        """The answers this run already has: a resume skips them."""
        rows = self.conn.execute(
            "SELECT task_id, case_id, model, prompt, mode, rep, setting FROM results "
            "WHERE run_id = ? AND status = 'ok'",
            (run_id,),
        )
        return {AnswerKey(r[0], r[1], Contender(r[2], r[4], r[3], r[6]), r[5]) for r in rows}

    def record(
        self,
        run_id: str,
        answer: AnswerKey,
        *,
        seq: int,
        input_json: str,
        reference: str | None,
        response_key: str,
        kind: str,
        response: Response | None,
        cached: bool,
        error: str | None = None,
        attempts: int = 1,
        request_json: str | None = None,
    ) -> None:
        """Store one outcome of `answer` (the case at position `seq` of its dataset): the response (none for a cache
        hit, found by `response_key`) and the result row, in one transaction.

        Timestamps are taken by SQLite when the rows are written: formatting one per answer in Python was a visible
        cost at thousands of answers/s.
        """
        resp_row = (_response_row(response_key, kind, response, request_json)
                    if response is not None and not cached else None)
        ok = cached or response is not None  # a cache hit is answered by the response already stored
        c = answer.contender
        result_row = (run_id, answer.task, answer.case, c.model, c.prompt, c.setting, c.mode, answer.repeat, seq,
                      "ok" if ok else "failed", response_key if ok else None, int(cached), error, attempts,
                      input_json, reference)
        if self._writer is not None:
            self._writer.put(resp_row, result_row)
        else:
            _write(self.conn, [resp_row] if resp_row else [], [result_row])

    def save_response(self, key: str, kind: str, response: Response) -> None:
        """A response that belongs to no result row (a judge's verdict): cached by key only."""
        _insert_rows(self.conn, _RESPONSE_ROWS, [_response_row(key, kind, response)])

    def start_writer(self) -> None:
        """From now on `record` hands rows to a writer thread; `stop_writer` flushes and stops it."""
        if self._writer is None:
            self._writer = _Writer(self.path)

    def stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def results(self, run_id: str, *, task: str | None = None, max_seq: int | None = None) -> Iterator[ResultRow]:
        """Results joined with their responses, ordered by task, case position, model, mode, repeat."""
        sql = f"""SELECT {_RESULT_COLUMNS}, p.text, p.finish_reason, p.prompt_tokens, p.completion_tokens,
                         p.latency_s, p.ttft_s, p.cost_usd, p.cost_source, p.label_logprobs, p.request_json,
                         p.label_method, p.label_covered, r.setting, p.tool_calls
                  FROM results r LEFT JOIN responses p ON p.key = r.response_key
                  WHERE r.run_id = ?"""
        args: list[Any] = [run_id]
        if task is not None:
            sql += " AND r.task_id = ?"
            args.append(task)
        if max_seq is not None:
            sql += " AND r.seq < ?"
            args.append(max_seq)
        sql += " ORDER BY r.task_id, r.seq, r.model, r.prompt, r.setting, r.mode, r.rep"
        cursor = self.conn.cursor()
        cursor.row_factory = _as(ResultRow)
        yield from cursor.execute(sql, args)

    # -- scores --------------------------------------------------------------------------------------------

    def replace_scores(self, run_id: str, rows: Iterable[ScoreRow]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("DELETE FROM scores WHERE run_id = ?", (run_id,))
            c.executemany(
                f"INSERT INTO scores ({_SCORE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                ((s.run_id, s.task_id, s.case_id, s.model, s.prompt, s.mode, s.rep, s.scorer, s.value, s.detail,
                  s.setting) for s in rows),
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def scores(self, run_id: str) -> Iterator[ScoreRow]:
        cursor = self.conn.cursor()
        cursor.row_factory = _as(ScoreRow)
        yield from cursor.execute(f"SELECT {_SCORE_COLUMNS} FROM scores WHERE run_id = ?", (run_id,))

    def result_stats(self, run_id: str) -> Iterator[ResultStat]:
        """What a summary needs of every result, without the texts (runs can hold 100,000s of cases)."""
        cursor = self.conn.cursor()
        cursor.row_factory = _as(ResultStat)
        yield from cursor.execute(
            """SELECT r.task_id, r.case_id, r.model, r.prompt, r.mode, r.rep, r.seq, r.status, r.reference, p.latency_s,
                      p.cost_usd, p.prompt_tokens, p.completion_tokens, p.label_method, p.label_covered, r.setting
               FROM results r LEFT JOIN responses p ON p.key = r.response_key
               WHERE r.run_id = ? AND r.mode != 'calibration'""",
            (run_id,),
        )

    def has_settings(self, run_id: str) -> bool:
        """Whether any answer of the run was under a named setting (a task with `settings:`)."""
        sql = "SELECT 1 FROM results WHERE run_id = ? AND setting != '' LIMIT 1"
        return self.conn.execute(sql, (run_id,)).fetchone() is not None

    def has_prompt_variants(self, run_id: str) -> bool:
        """Whether any answer of the run was to a named prompt variant (a task with `prompts:`)."""
        sql = "SELECT 1 FROM results WHERE run_id = ? AND prompt != '' LIMIT 1"
        return self.conn.execute(sql, (run_id,)).fetchone() is not None

    def modes_by_task(self, run_id: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        sql = "SELECT DISTINCT task_id, mode FROM results WHERE run_id = ? AND mode != 'calibration'"
        for task, mode in self.conn.execute(sql, (run_id,)):
            out.setdefault(task, set()).add(mode)
        return out

    # -- human labels --------------------------------------------------------------------------------------

    def save_human_labels(self, rows: Iterable[HumanLabelRow]) -> int:
        """Store labels in one transaction; a label for the same answer (or pair) by the same reviewer replaces
        the one stored. Returns how many were written."""
        values = [(r.run_id, r.task_id, r.case_id, r.model, r.mode, r.rep, r.versus, r.label, r.reviewer,
                   r.labelled_at) for r in rows]
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(
                f"""INSERT INTO human_labels ({_LABEL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT (run_id, task_id, case_id, model, mode, rep, versus, reviewer) DO UPDATE SET
                      label = excluded.label, labelled_at = excluded.labelled_at""",
                values,
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return len(values)

    def human_labels(self, run_id: str) -> list[HumanLabelRow]:
        cursor = self.conn.cursor()
        cursor.row_factory = _as(HumanLabelRow)
        return list(cursor.execute(
            f"SELECT {_LABEL_COLUMNS} FROM human_labels WHERE run_id = ? "
            "ORDER BY task_id, case_id, model, mode, rep, versus, reviewer", (run_id,)))

    # -- `run --until-decided` -------------------------------------------------------------------------------

    def save_decisions(self, rows: Iterable[DecisionRow]) -> None:
        """Why each model stopped; a resumed run's rows replace the first's."""
        values = [(r.run_id, r.task_id, r.model, r.mode, r.verdict, r.cases, r.saved, r.line) for r in rows]
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany("INSERT OR REPLACE INTO run_decisions VALUES (?,?,?,?,?,?,?,?)", values)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def decisions(self, run_id: str) -> list[DecisionRow]:
        cursor = self.conn.cursor()
        cursor.row_factory = _as(DecisionRow)
        return list(cursor.execute("SELECT run_id, task_id, model, mode, verdict, cases, saved, line "
                                   "FROM run_decisions "
                                   "WHERE run_id = ? ORDER BY rowid", (run_id,)))

    # -- `run --batch` -----------------------------------------------------------------------------------------

    def add_batch(self, row: BatchRow) -> None:
        """A batch the provider accepted, stored before it is polled."""
        self.conn.execute("INSERT OR REPLACE INTO batches VALUES (?,?,?,?,?,?,?,?)",
                          (row.run_id, row.model, row.batch_id, row.input_file, row.requests, row.status,
                           int(row.collected), now_iso()))

    def set_batch_status(self, run_id: str, batch_id: str, status: str, *, collected: bool = False) -> None:
        self.conn.execute("UPDATE batches SET status = ?, collected = ? WHERE run_id = ? AND batch_id = ?",
                          (status, int(collected), run_id, batch_id))

    def batches(self, run_id: str, model: str | None = None) -> list[BatchRow]:
        """The run's batches (of one model), oldest first."""
        sql = ("SELECT run_id, model, batch_id, input_file, requests, status, collected FROM batches "
               "WHERE run_id = ?" + (" AND model = ?" if model is not None else "") + " ORDER BY created_at, rowid")
        args = (run_id,) if model is None else (run_id, model)
        return [BatchRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in self.conn.execute(sql, args)]

    def forget_run(self, run_id: str) -> None:
        """A run refused before it sent anything (a batch too large): nothing of it is left behind."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            if c.execute("SELECT 1 FROM results WHERE run_id = ? LIMIT 1", (run_id,)).fetchone() is None:
                for table in ("batches", "run_decisions", "model_usage", "runs"):
                    c.execute(f"DELETE FROM {table} WHERE {'id' if table == 'runs' else 'run_id'} = ?", (run_id,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # -- what earlier runs say, for `run --plan` ---------------------------------------------------------------

    def answer_history(self, model: str, kind: str = "generate") -> AnswerHistory:
        """Count, mean output tokens and mean latency of the model's stored answers of one kind (cache hits
        are not answers: they carry no new measurement)."""
        n, tokens, latency = self.conn.execute(
            """SELECT COUNT(*), AVG(completion_tokens), AVG(latency_s) FROM responses
               WHERE model = ? AND kind = ? AND text IS NOT NULL""", (model, kind)).fetchone()
        return AnswerHistory(int(n), tokens, latency)

    def task_scores(self, task_id: str, scorer: str, models: Sequence[str]) -> Iterator[tuple[str, str, str, float]]:
        """(run, case, model, value) of the first repeat's `scorer` scores of a task, for these models, in every
        run: how differently they answered the same cases before."""
        if not models:
            return
        marks = ",".join("?" * len(models))
        yield from self.conn.execute(
            f"""SELECT run_id, case_id, model, value FROM scores WHERE task_id = ? AND scorer = ? AND rep = 0
                AND value IS NOT NULL AND model IN ({marks}) ORDER BY run_id, case_id""",
            (task_id, scorer, *models))

    # -- what local models cost -----------------------------------------------------------------------------

    def add_model_usage(self, run_id: str, model: str, usage: ModelUsage) -> None:
        """Record a model's usage in a run; a resumed run adds its tokens and times to what is there."""
        self.conn.execute(
            """INSERT INTO model_usage VALUES (?,?,?,?,?,?,?,?,?)
               ON CONFLICT (run_id, model) DO UPDATE SET
                 load_s = excluded.load_s, memory_bytes = excluded.memory_bytes,
                 peak_rss_bytes = MAX(COALESCE(peak_rss_bytes, 0), COALESCE(excluded.peak_rss_bytes, 0)),
                 prompt_tokens = prompt_tokens + excluded.prompt_tokens, prompt_s = prompt_s + excluded.prompt_s,
                 generated_tokens = generated_tokens + excluded.generated_tokens,
                 generation_s = generation_s + excluded.generation_s""",
            (run_id, model, usage.load_s, usage.memory_bytes, usage.peak_rss_bytes, usage.prompt_tokens,
             usage.prompt_s, usage.generated_tokens, usage.generation_s),
        )

    def model_usage(self, run_id: str) -> dict[str, ModelUsage]:
        """What each in-process model cost in the run, by model name (none for hosted models)."""
        rows = self.conn.execute(
            """SELECT model, load_s, memory_bytes, peak_rss_bytes, prompt_tokens, prompt_s, generated_tokens,
                      generation_s FROM model_usage WHERE run_id = ? ORDER BY rowid""", (run_id,))
        return {row[0]: ModelUsage(*row[1:]) for row in rows}

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


_RESPONSE_COLUMNS = ("key, model, kind, request_json, text, finish_reason, prompt_tokens, completion_tokens, "
                     "latency_s, ttft_s, cost_usd, cost_source, label_logprobs, created_at, label_method, "
                     "label_covered, tool_calls")
_RESULT_COLUMNS = ", ".join("r." + c for c in (
    "run_id", "task_id", "case_id", "model", "prompt", "mode", "rep", "seq", "status", "response_key", "cached",
    "error", "attempts", "input_json", "reference", "updated_at"))
_LABEL_COLUMNS = "run_id, task_id, case_id, model, mode, rep, versus, label, reviewer, labelled_at"
_SCORE_COLUMNS = "run_id, task_id, case_id, model, prompt, mode, rep, scorer, value, detail, setting"


def _as(row_type: Callable[..., Any]) -> Callable[[sqlite3.Cursor, tuple[Any, ...]], Any]:
    """A cursor row factory that builds `row_type` from the selected columns, in order."""
    return lambda _cursor, row: row_type(*row)


_NOW = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"  # = datetime.now(UTC).isoformat(timespec="milliseconds")
_RESPONSE_ROWS = (f"INSERT OR IGNORE INTO responses ({_RESPONSE_COLUMNS}) VALUES ",
                  f"(?,?,?,?,?,?,?,?,?,?,?,?,?,{_NOW},?,?,?)", "")
_RESULT_ROWS = (
    """INSERT INTO results (run_id, task_id, case_id, model, prompt, setting, mode, rep, seq, status, response_key,
                            cached, error, attempts, input_json, reference, updated_at) VALUES """,
    f"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{_NOW})",
    """ ON CONFLICT (run_id, task_id, case_id, model, prompt, setting, mode, rep) DO UPDATE SET
          status = excluded.status, response_key = excluded.response_key, cached = excluded.cached,
          error = excluded.error, attempts = results.attempts + excluded.attempts, updated_at = excluded.updated_at
        WHERE results.status != 'ok'""",
)


def _response_row(key: str, kind: str, response: Response, request_json: str | None = None) -> tuple[Any, ...]:
    """A `responses` row without its timestamp (SQLite adds it)."""
    return (
        key, response.model, kind, request_json or json.dumps(response.request, ensure_ascii=False), response.text,
        response.finish_reason, response.prompt_tokens, response.completion_tokens, response.latency_s,
        response.ttft_s, response.cost_usd, response.cost_source,
        json.dumps(response.label_logprobs) if response.label_logprobs is not None else None,
        response.label_method, None if response.label_covered is None else int(response.label_covered),
        dump_calls(response.tool_calls),
    )


def _write(conn: sqlite3.Connection, responses: list[tuple[Any, ...]], results: list[tuple[Any, ...]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        _insert_rows(conn, _RESPONSE_ROWS, responses)
        _insert_rows(conn, _RESULT_ROWS, results)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


_MAX_ROWS = 512
_statements: dict[tuple[str, int], str] = {}


def _insert_rows(conn: sqlite3.Connection, shape: tuple[str, str, str], rows: list[tuple[Any, ...]]) -> None:
    """Many rows per INSERT statement, in chunks of power-of-two sizes (so a handful of statements are ever
    prepared and all stay in the connection's statement cache).

    Why not `executemany`: it releases and retakes the GIL around every row's step, and with the event loop busy
    in the other thread each retake waits for a GIL hand-over; one statement per chunk steps once. Measured in
    bench/client_overhead.py, this was the largest single cost of storage at thousands of answers per second.
    """
    head, values, tail = shape
    most = min(_MAX_ROWS, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // values.count("?"))
    start = 0
    while start < len(rows):
        size = min(most, 1 << ((len(rows) - start).bit_length() - 1))
        sql = _statements.get((head, size))
        if sql is None:
            sql = _statements[(head, size)] = head + ",".join([values] * size) + tail
        chunk = rows[start : start + size]
        if size == 1:
            conn.execute(sql, chunk[0])
        else:
            conn.execute(sql, [v for row in chunk for v in row])
        start += size


_STOP = object()


class _Writer:
    """A thread that commits queued rows in batches (group commit) on its own connection."""

    def __init__(self, path: Path) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._thread = threading.Thread(target=self._loop, name="llamacompare-writer", daemon=True)
        self._thread.start()

    def put(self, resp_row: tuple[Any, ...] | None, result_row: tuple[Any, ...]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((resp_row, result_row))

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < 2000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(b is _STOP for b in batch)
            rows = [b for b in batch if b is not _STOP]
            if not rows or self._error is not None:
                continue
            try:
                _write(self._conn, [r for r, _ in rows if r is not None], [res for _, res in rows])
            except BaseException as exc:  # surfaced to the run on its next put or at close
                self._error = exc

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        self._conn.close()
        if self._error is not None:
            raise self._error
