"""Cases from inline lists or CSV/TSV/JSONL files, streamed, with errors that name the file, line and field.

Files are read in binary, one physical line at a time with a length cap, and decoded line by line: a 100 MB
line fails after reading a few MB, and a bad byte is reported with its line and byte offset.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from llamacompare.errors import UsageError
from llamacompare.prompts.chat_templates import Message
from llamacompare.tasks.case import Case
from llamacompare.tasks.checks import CheckDefinitionError, check_list, dump_checks, label, resolve
from llamacompare.tasks.conversation import MESSAGES, ConversationError, missing_fields, parse_turns
from llamacompare.tasks.errors import Loc, SuiteError, display_path, format_loc
from llamacompare.tasks.hub import HubRef, load_hub_dataset
from llamacompare.tasks.schema import Task
from llamacompare.tasks.tools import ToolSpecError, expected_calls
from llamacompare.toolcall import dump_expected

MAX_CELL = 1 << 20  # 1 MiB of text per field: far above any real prompt, far below a runaway line
MAX_LINE = 4 << 20  # 4 MiB per physical line
MAX_WARNINGS = 20  # per task; the rest are counted
_BOM = b"\xef\xbb\xbf"
DATA_DIR_ENV = "LLAMACOMPARE_DATA_DIR"


@dataclass(slots=True)
class TaskValidation:
    """What validation found for one task: its case count, skipped rows and warnings (not a check on answers:
    those are `tasks.checks`)."""

    task_id: str
    cases: int
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SuiteValidation:
    """Counts and warnings for a whole suite, from reading every case once."""

    tasks: list[TaskValidation]

    @property
    def total_cases(self) -> int:
        return sum(t.cases for t in self.tasks)

    @property
    def warnings(self) -> list[str]:
        return [w for t in self.tasks for w in t.warnings]

    def counts(self) -> dict[str, int]:
        return {t.task_id: t.cases for t in self.tasks}


@dataclass(frozen=True, slots=True)
class CaseSource:
    """Where one task's cases come from, as loading chose it: a data file (with the `where` filter of a shared
    file), or a Hub dataset. Inline cases have none."""

    path: Path | None = None
    hub: HubRef | None = None
    where: tuple[tuple[str, str], ...] = ()


ErrorAt = Callable[[Loc, str], SuiteError]  # a task's field -> an error located in its suite file


def unlocated(loc: Loc, message: str) -> SuiteError:
    """An error about a task that was not loaded from a file: named by its field only."""
    return SuiteError(message, field=format_loc(loc) or None)


# -- locating files --------------------------------------------------------------------------------------
def dataset_candidates(name: str, *, suite_dir: Path | None, data: Path | None) -> list[Path]:
    """Where a relative dataset path is looked for, in order."""
    p = Path(name).expanduser()
    if p.is_absolute():
        return [p]
    out: list[Path] = []
    if data is not None and data.is_dir():
        out.append(data / p)
    if suite_dir is not None:
        out.append(suite_dir / p)
    if os.environ.get(DATA_DIR_ENV):
        out.append(Path(os.environ[DATA_DIR_ENV]).expanduser() / p)
    out.append(Path.cwd() / p)
    return out


def find_dataset(name: str, *, suite_dir: Path | None, data: Path | None) -> tuple[Path | None, list[Path]]:
    """The first existing candidate (or None) and the list that was searched."""
    cands = dataset_candidates(name, suite_dir=suite_dir, data=data)
    return next((c for c in cands if c.is_file()), None), cands


def resolve_source(task: Task, *, suite_dir: Path | None, data: Path | HubRef | None = None,
                   hub: bool = False, error: ErrorAt = unlocated) -> CaseSource:
    """Choose where a task's cases come from: `data` (a Hub dataset or a file) wins; `hub` asks for the Hub
    dataset the task names; otherwise its own file (found as `dataset_candidates` says), else its Hub dataset."""
    spec = task.dataset
    assert spec is not None
    if isinstance(data, HubRef):
        return CaseSource(hub=data)
    if data is not None and data.is_file():
        return CaseSource(path=data)
    if hub:
        if spec.hf is None:
            raise error(("dataset",), "this task names no Hub dataset (`hf:`); pass --data hf:NAME[:CONFIG]/SPLIT")
        return CaseSource(hub=spec.hf.hub_ref())
    if spec.path is not None:
        found, cands = find_dataset(spec.path, suite_dir=suite_dir, data=data)
        if found is not None:
            return CaseSource(path=found, where=tuple(spec.where.items()))
        if spec.hf is None:
            raise error(("dataset", "path"), not_found_message(spec.path, cands))
    assert spec.hf is not None
    return CaseSource(hub=spec.hf.hub_ref())


# -- reading lines ---------------------------------------------------------------------------------------
def _lines(path: Path) -> Iterator[str]:
    """Decoded physical lines (with their line ends); errors name the line and byte offset."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise SuiteError(f"cannot open the file ({e.strerror}); check the path", path=path) from None
    with f:
        offset = 0
        lineno = 0
        while True:
            raw = f.readline(MAX_LINE + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > MAX_LINE:
                raise SuiteError(
                    f"the line is longer than {MAX_LINE >> 20} MiB (stopped reading); is this really a "
                    "CSV/TSV/JSONL file? split the record or fix the line ends",
                    path=path,
                    line=lineno,
                )
            if lineno == 1 and raw.startswith(_BOM):
                raw, offset = raw[len(_BOM) :], len(_BOM)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise SuiteError(
                    f"byte 0x{raw[e.start]:02x} at byte offset {offset + e.start} (byte {e.start + 1} of the "
                    "line) is not valid UTF-8; save the file as UTF-8",
                    path=path,
                    line=lineno,
                ) from None
            yield text
            offset += len(raw)


@dataclass(slots=True)
class _Record:
    number: int  # 1-based record number (the default case id)
    line: int  # line where the record starts
    values: dict[str, Any]


def _norm(text: str) -> str:
    # Quoted CSV cells keep the file's CRLFs; prompts should not depend on the OS the data was saved on.
    return text.replace("\r\n", "\n")


def _delimited(path: Path, tsv: bool) -> tuple[list[str], Iterator[_Record]]:
    if csv.field_size_limit() < MAX_CELL:  # the default (128 KiB) is below our documented cell limit
        csv.field_size_limit(MAX_CELL)
    # SST-2-style TSV has bare quotes inside sentences: no quoting at all there. CSV quotes multi-line cells.
    kw: dict[str, Any] = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if tsv else {"strict": True}
    reader = csv.reader(_lines(path), **kw)
    kind = "TSV" if tsv else "CSV"

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                msg, hint = str(e), "fix the quoting"
                if "field larger than field limit" in msg:
                    msg, hint = f"a field is larger than {MAX_CELL >> 20} MiB (the limit per cell)", "shorten it"
                elif "unexpected end of data" in msg:
                    msg = "a quoted field is never closed (unexpected end of file)"
                elif "new-line character seen in unquoted field" in msg:
                    msg, hint = "a carriage return (\\r) inside a line", "save the file with \\n line ends"
                raise SuiteError(f"bad {kind} record: {msg}; {hint}", path=path, line=start) from None
            yield start, row
            start = reader.line_num + 1

    it = rows()
    header: list[str] | None = None
    line = 1
    for line, row in it:  # noqa: B007 - `line` is the header's line, used below
        if row:
            header = [h.strip() for h in row]
            break
    if header is None:
        raise SuiteError(
            f"the file is empty; a {kind} dataset needs a header row and at least one row", path=path, line=1
        )
    for i, h in enumerate(header):
        if not h:
            raise SuiteError(
                f"column {i + 1} of the header has no name; name every column", path=path, line=line
            )
        if header.index(h) != i:
            raise SuiteError(f"the header names column {h!r} twice; rename one", path=path, line=line)

    def records() -> Iterator[_Record]:
        n = 0
        for lineno, row in it:
            if not row or row == [""]:
                continue  # blank line
            if len(row) != len(header):
                hint = " (a tab inside a text?)" if tsv else " (an unquoted comma?)"
                raise SuiteError(
                    f"the row has {len(row)} fields but the header has {len(header)}{hint}; fix the row",
                    path=path,
                    line=lineno,
                )
            n += 1
            yield _Record(n, lineno, {h: _norm(v) for h, v in zip(header, row, strict=True)})

    return header, records()


def _jsonl(path: Path) -> tuple[list[str], Iterator[_Record]]:
    def records() -> Iterator[_Record]:
        n = 0
        for lineno, text in enumerate(_lines(path), 1):
            if not text.strip():
                continue
            try:
                obj = orjson.loads(text)  # the stdlib's parser was a visible cost per case in large runs
            except orjson.JSONDecodeError:
                obj = None
            try:
                obj = json.loads(text) if obj is None else obj  # NaN and huge integers; its error messages
            except json.JSONDecodeError as e:
                raise SuiteError(
                    f"not valid JSON ({e.msg} at column {e.colno}); one JSON object per line",
                    path=path,
                    line=lineno,
                ) from None
            if not isinstance(obj, dict):
                raise SuiteError(
                    f"a JSON {type(obj).__name__} where an object was expected; "
                    'write one {"field": "value"} object per line',
                    path=path,
                    line=lineno,
                )
            n += 1
            yield _Record(n, lineno, obj)

    it = records()
    first = next(it, None)
    if first is None:
        raise SuiteError(
            "the file has no records; a JSONL dataset needs one JSON object per line", path=path, line=1
        )

    def chained() -> Iterator[_Record]:
        yield first
        yield from it

    return list(first.values), chained()


def _cell(value: Any) -> str | None:
    """A JSON value as case text; None when absent/null."""
    if value is None:
        return None
    if isinstance(value, str):
        return _norm(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(type(value).__name__)


# -- cases -----------------------------------------------------------------------------------------------
class CaseReader:
    """Iterates a task's cases once, checking each; `skipped` and `warnings` fill in as it goes."""

    def __init__(self, task: Task, *, source: CaseSource | None = None, error: ErrorAt = unlocated,
                 base_dir: Path | None = None, check_dir: Path | None = None):
        self.task = task
        self.error = error
        self.check_dir = check_dir  # set when validating: the files that case checks name are read then
        if source is None and task.dataset is not None:  # a task built in code: find its data now
            source = resolve_source(task, suite_dir=base_dir, error=error)
        self.skipped = 0
        self.warnings: list[str] = []
        self.path: Path | None = None
        self.hub: HubRef | None = None
        if source is not None and task.dataset is not None:
            self.path, self.hub = source.path, source.hub
        # where errors point: the file, or the Hub reference (rows numbered like lines)
        self.source: Path | None = self.path if self.hub is None else Path(str(self.hub))
        spec = task.dataset
        if spec is not None and self.hub is not None and spec.hf is not None:
            self.columns, self.id_column = spec.hf.columns, spec.hf.id_column
        elif spec is not None:
            self.columns, self.id_column = spec.columns, spec.id_column
        else:
            self.columns, self.id_column = {}, "id"
        self.where: dict[str, str] = dict(source.where) if source is not None and self.path is not None else {}

    # errors: for a file, FILE:LINE: column; for inline cases, the suite line of the case's field
    def _err(self, rec: _Record, fld: str | None, msg: str) -> SuiteError:
        if self.source is not None:
            return SuiteError(msg, path=self.source, line=rec.line, field=fld)
        loc: Loc = ("cases", rec.number - 1) + ((fld,) if fld else ())
        return self.error(loc, msg)

    def _warn(self, msg: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(msg)
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append(f"{self.task.id}: more records skipped (see the count)")

    def _source(self) -> tuple[list[str] | None, Iterator[_Record]]:
        task = self.task
        if task.cases is not None:
            return None, (_Record(i, 0, dict(c)) for i, c in enumerate(task.cases, 1))
        if self.hub is not None:
            return _hub_records(self.hub)
        assert task.dataset is not None and self.path is not None
        try:
            fmt = task.dataset.resolved_format(self.path)
        except UsageError as e:
            raise self.error(("dataset", "format"), str(e)) from None
        if fmt == "jsonl":
            return _jsonl(self.path)
        return _delimited(self.path, tsv=fmt == "tsv")

    def _check_columns(self, columns: list[str]) -> None:
        """Before any row: the template, reference, id and mapped columns must exist in the file."""
        task = self.task
        assert self.source is not None
        name = self.path.name if self.path is not None else str(self.hub)
        at = "hf" if self.hub is not None and task.dataset is not None and task.dataset.hf is not None else None
        shown = ", ".join(columns)
        for col in self.where:
            if col not in columns:
                raise self.error(("dataset", "where", col), f"column {col!r} is not in {name} (columns: {shown}); "
                                 "fix the column name")
        for fld, col in self.columns.items():
            if col not in columns:
                raise self.error(
                    ("dataset", *((at,) if at else ()), "columns", fld),
                    f"column {col!r} is not in {name} (columns: {shown}); fix the column name",
                )
        if self.id_column is not None and self.id_column not in columns:
            raise self.error(
                ("dataset", *((at,) if at else ()), "id_column"),
                f"column {self.id_column!r} is not in {name} "
                f"(columns: {shown}); fix it or remove id_column to number the rows",
            )
        available = set(columns) | set(self.columns)
        for ph in task.used_fields():
            if ph in available:
                continue
            if ph == task.reference:
                raise self.error(
                    ("reference",),
                    f"reference field {ph!r} is not a column of {name} "
                    f"(columns: {shown}); set `reference:` or map it in dataset.columns",
                )
            raise self.error(
                ("template",),
                f"placeholder {{{ph}}} is not a column of {name} (columns: {shown}); "
                f"rename the placeholder or map it with dataset.columns: {{{ph}: COLUMN}}",
            )

    def __iter__(self) -> Iterator[Case]:
        task = self.task
        columns, records = self._source()
        if columns is not None:
            self._check_columns(columns)
        spec = task.dataset
        mapping = self.columns
        limit = spec.limit if spec else None
        id_col = self.id_column
        used = task.used_fields()
        seen: dict[str, int] = {}
        produced = 0
        where = list(self.where.items())
        for rec in records:
            if limit is not None and produced >= limit:
                break
            if where and any(_cell(rec.values.get(col)) != value for col, value in where):
                continue
            case = self._case(rec, mapping, id_col, used, seen)
            if case is not None:
                produced += 1
                yield case

    def _case(
        self, rec: _Record, mapping: dict[str, str], id_col: str | None, used: list[str], seen: dict[str, int]
    ) -> Case | None:
        raw = rec.values
        fields: dict[str, str] = {}
        conversation_column = mapping.get(MESSAGES, MESSAGES)
        for key, value in raw.items():
            if key == conversation_column:
                continue
            if key == mapping.get("checks", "checks"):
                if value is not None and value != "":
                    fields["checks"] = self._checks(rec, key, value)
                continue
            if key == self.task.reference and self.task.type == "tool_call":
                fields[key] = self._expected(rec, key, value)
                continue
            if key == self.task.reference and isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)  # a structured reference, for json_schema checks
            try:
                text = _cell(value)
            except TypeError as e:
                if key in used or key in mapping.values() or key == id_col:
                    raise self._err(
                        rec, key, f"field {key!r} is a JSON {e}, not a text; flatten it"
                    ) from None
                continue
            if text is not None:
                fields[key] = text
        for fld, col in mapping.items():
            if col in fields and fld != "checks":
                fields[fld] = fields[col]
        # id
        if id_col is not None and id_col in raw:
            case_id = fields.get(id_col, "").strip()
            if not case_id:
                raise self._err(rec, id_col, "the case id is empty; give every record an id")
        else:
            case_id = str(rec.number)
        if case_id in seen:
            prev = seen[case_id]
            where = f"line {prev}" if self.source is not None else f"cases[{prev - 1}]"
            raise self._err(rec, id_col, f"duplicate case id {case_id!r} (also at {where}); make ids unique")
        seen[case_id] = rec.line if self.source is not None else rec.number
        messages = self._conversation(rec, conversation_column, fields)
        if messages is None and all(v.template is None for v in self.task.variants()):
            raise self._err(rec, None, "the case has no `messages` and the task no template; give the case a "
                                       "conversation or the task a template")
        # required fields (a conversation needs its own placeholders' fields, checked above, and the reference)
        for fld in used:
            if messages is not None and fld != self.task.reference:
                continue
            source = mapping.get(fld, fld)
            if source not in raw:
                have = ", ".join(raw) or "nothing"
                what = "the reference" if fld == self.task.reference else "the template"
                raise self._err(
                    rec, None, f"the case has no field {source!r}, used by {what} (it has: {have}); add it"
                )
            value = fields.get(fld)
            if value is not None and len(value) > MAX_CELL:
                raise self._err(
                    rec,
                    fld,
                    f"the value is larger than {MAX_CELL >> 20} MiB (the limit per field); shorten it",
                )
            if value is None or not value.strip():
                self.skipped += 1
                where_s = f"{display_path(self.source)}:{rec.line}" if self.source else f"cases[{rec.number - 1}]"
                self._warn(f"{self.task.id}: {where_s}: empty {fld!r}, case {case_id!r} skipped")
                return None
        reference = None
        if self.task.reference is not None:
            reference = fields[self.task.reference]
            if self.task.type == "classify":
                reference = self._gold(rec, reference)
        return Case(case_id, fields, reference, messages)

    def _conversation(self, rec: _Record, column: str, fields: dict[str, str]) -> tuple[Message, ...] | None:
        """The case's `messages`, checked (roles, order, placeholders), or None when it has none."""
        if column not in rec.values:
            return None
        try:
            turns = parse_turns(rec.values[column])
        except ConversationError as e:
            if self.source is None:
                raise self.error(("cases", rec.number - 1, MESSAGES, *e.at), str(e)) from None
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.at)
            raise self._err(rec, column + where, str(e)) from None
        gap = missing_fields(turns, fields)
        if gap is not None:
            raise self._err(rec, f"{column}[{gap[0]}].content",
                            f"placeholder {{{gap[1]}}} is not a field of this case (it has: "
                            f"{', '.join(fields) or 'nothing'}); add the field or fix the placeholder")
        return turns

    def _checks(self, rec: _Record, key: str, value: Any) -> str:
        """A case's checks (a list, or its JSON/YAML text) in canonical form; with `check_dir`, the files they name
        are read too. Errors point at the record."""
        try:
            checks = check_list(value)
            task_labels = {label(c) for c in self.task.checks or []}
            seen: set[str] = set()
            kept = []
            for i, c in enumerate(checks):
                name = label(c, on_case=True)
                if c in (self.task.checks or []):
                    continue  # the same check as the task's: one metric
                kept.append(c)
                if name in task_labels or name in seen:
                    raise CheckDefinitionError(
                        f"two checks are named {name!r} (here or on the task); give this one a `name:`", (i,))
                seen.add(name)
                if self.check_dir is not None:
                    try:
                        resolve(c, self.check_dir)
                    except CheckDefinitionError as e:
                        raise CheckDefinitionError(e.message, (i, *e.at)) from None
        except CheckDefinitionError as e:
            at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.at)
            raise self._err(rec, key + at, e.message) from None
        return dump_checks(kept)

    def _expected(self, rec: _Record, key: str, value: Any) -> str:
        """A tool_call case's expected call(s), checked against the task's tools, as its reference text."""
        try:
            return dump_expected(expected_calls(value, self.task.tool_list()))
        except ToolSpecError as e:
            at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.at)
            if self.source is None and e.at:
                raise self.error(("cases", rec.number - 1, key, *e.at), e.message) from None
            raise self._err(rec, key + at, e.message) from None

    def _gold(self, rec: _Record, value: str) -> str:
        label = self.task.gold_label(value)
        if label is None:
            task = self.task
            labels = ", ".join(task.label_names())
            known = (
                f"label_map (keys: {', '.join(task.label_map)})"
                if task.label_map
                else f"the labels ({labels})"
            )
            raise self._err(
                rec,
                task.reference,
                f"gold value {value.strip()!r} is not in {known}; add it to label_map or fix the data",
            )
        return label


def _hub_records(ref: HubRef) -> tuple[list[str], Iterator[_Record]]:
    ds = load_hub_dataset(ref)
    if len(ds) == 0:
        raise SuiteError("the dataset has no rows; choose another split", path=Path(str(ref)))

    def records() -> Iterator[_Record]:
        for i, row in enumerate(ds, 1):
            yield _Record(i, i, row)

    return list(ds.column_names), records()


def not_found_message(name: str, candidates: list[Path]) -> str:
    looked = ", ".join(display_path(c.parent) for c in candidates)
    return (
        f"dataset file {name!r} not found (looked in: {looked}); pass --data PATH or set "
        f"{DATA_DIR_ENV} to the folder that holds it"
    )


def iter_cases(task: Task, *, source: CaseSource | None = None, error: ErrorAt = unlocated,
               base_dir: Path | None = None) -> Iterator[Case]:
    """Stream a task's cases (inline, or from `source`; a task built in code finds its file relative to
    `base_dir`); records with an empty required field are skipped. Raises SuiteError for anything malformed.
    A loaded suite's `LoadedSuite.cases(task)` passes its source and error locations."""
    return iter(CaseReader(task, source=source, error=error, base_dir=base_dir))


def count_cases(task: Task, *, source: CaseSource | None = None, base_dir: Path | None = None) -> int:
    """Number of usable cases (reads them all; a validated LoadedSuite knows it: `counts()`)."""
    return sum(1 for _ in iter_cases(task, source=source, base_dir=base_dir))


def validate_task(task: Task, *, source: CaseSource | None = None, error: ErrorAt = unlocated,
               base_dir: Path | None = None) -> TaskValidation:
    """Read every case of one task once; raise on errors, return counts and warnings."""
    check_task_files(task, base_dir, error)
    reader = CaseReader(task, source=source, error=error, base_dir=base_dir, check_dir=base_dir)
    n = sum(1 for _ in reader)
    if n == 0:
        src = reader.path.name if reader.path else str(reader.hub) if reader.hub else "the inline cases"
        extra = f" ({reader.skipped} skipped for empty fields)" if reader.skipped else ""
        loc: Loc = ("dataset", "path") if reader.path else ("cases",)
        raise error(loc, f"no usable cases in {src}{extra}; add rows or check the columns")
    return TaskValidation(task.id, n, reader.skipped, reader.warnings)


def check_task_files(task: Task, base_dir: Path | None, error: ErrorAt = unlocated) -> None:
    """Read the files the task's checks name (a schema file, a user's function), relative to the suite's folder:
    a missing one is a suite error before anything runs. Without the suite file (`base_dir` None) they are not run."""
    for i, check in enumerate(task.checks or []):
        try:
            resolve(check, base_dir)
        except CheckDefinitionError as e:
            raise error(("checks", i, *e.at), e.message) from None
