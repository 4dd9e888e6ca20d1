"""YAML suite file -> checked Suite, with every error pointing at `FILE:LINE: field`.

The YAML is composed into a node tree first (PyYAML keeps each node's start mark), then constructed and
validated by pydantic; a pydantic error's `loc` is walked down the node tree to find its line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from llamacompare.errors import UsageError
from llamacompare.errors import describe_value as _describe
from llamacompare.suites import builtin_suite_names, builtin_suite_path
from llamacompare.tasks.datasets import resolve_source
from llamacompare.tasks.errors import Loc, SuiteError, format_loc
from llamacompare.tasks.hub import HubRef, is_hub_ref, parse_hub_ref
from llamacompare.tasks.loaded import LoadedSuite
from llamacompare.tasks.schema import (
    DatasetSpec,
    HubSource,
    JsonSchemaSpec,
    JudgeSpec,
    ModelConfig,
    ParamsSpec,
    ResponseFormatSpec,
    Suite,
    Task,
)

MAX_SUITE_BYTES = 16 << 20  # inline cases belong in a dataset file long before this
MAX_NODES = 1_000_000  # after alias expansion: stops "billion laughs" before pydantic walks it
_BOM = b"\xef\xbb\xbf"


def load_suite(path_or_name: str | Path, *, data: str | Path | None = None, validate: bool = True) -> LoadedSuite:
    """Load a suite file or a built-in suite by name, resolve its datasets and check everything
    (unless `validate=False`): all errors are SuiteError (a UsageError) in one line. The `Suite` (what the file
    says) comes with what loading learned (`LoadedSuite`: the file, line numbers, case sources and counts).

    `data` replaces the dataset of every task that reads one: a file, `hf:NAME[:CONFIG]/SPLIT` (a Hugging Face
    Hub dataset), or `hf` (the Hub dataset each task names); a folder is searched first for the tasks' files.
    """
    path = resolve_suite_path(path_or_name)
    text = read_suite_text(path)
    root, obj = parse_yaml(text, path)
    suite = build_suite(obj, root, path)
    resolve_datasets(suite, data=data)
    if validate:
        suite.validate()
    return suite


def resolve_suite_path(path_or_name: str | Path) -> Path:

    p = Path(path_or_name).expanduser()
    if p.is_file():
        return p
    name = str(path_or_name)
    names = builtin_suite_names()
    if not isinstance(path_or_name, Path) and name in names:
        return builtin_suite_path(name)
    if p.is_dir():
        raise UsageError(
            f"{name}: is a folder; pass a suite .yaml file or a built-in suite name ({', '.join(names)})"
        )
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(
        f"{name}: no such suite file and no built-in suite by that name; {hint}"
        f"pass a .yaml file or one of: {', '.join(names)}"
    )


def read_suite_text(path: Path) -> str:
    """The file as text: size-capped, UTF-8 (a BOM is fine), with bad bytes reported by line and offset."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_SUITE_BYTES + 1)
    except OSError as e:
        raise SuiteError(f"cannot read the suite ({e.strerror}); check the path", path=path) from None
    if len(raw) > MAX_SUITE_BYTES:
        raise SuiteError(
            f"the suite file is larger than {MAX_SUITE_BYTES >> 20} MiB; put the cases in a "
            "dataset file (dataset: {path: ...})",
            path=path,
        )
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        pos = skip + e.start
        line = raw.count(b"\n", 0, pos) + 1
        col = pos - (raw.rfind(b"\n", 0, pos) + 1) + 1
        raise SuiteError(
            f"byte 0x{raw[pos]:02x} at byte offset {pos} (column {col}) is not valid UTF-8; "
            "save the file as UTF-8",
            path=path,
            line=line,
        ) from None


def parse_yaml(text: str, path: Path) -> tuple[Any, Any]:
    """(root node, constructed data); YAML errors become SuiteErrors with the YAML error's line/column."""
    import yaml  # PyYAML: only where YAML is read or written

    loader = None
    try:
        loader = yaml.SafeLoader(text)  # pure Python: marks count characters; it rejects control chars here
        root = loader.get_single_node()
        if root is None:
            raise SuiteError("the suite file is empty; write a suite (name, tasks: ...)", path=path, line=1)
        _check_nodes(root, path)
        obj = loader.construct_document(root)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(s for s in (e.context, e.problem) if s) or "invalid YAML"
        col = f" (column {mark.column + 1})" if mark is not None else ""
        raise SuiteError(
            f"YAML error: {what}{col}; check the indentation and quoting here",
            path=path,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise SuiteError(
            f"character U+{e.character:04X} is not allowed in YAML (at character {e.position}); "
            "remove it or escape it in a double-quoted string",
            path=path,
            line=line,
        ) from None
    except RecursionError:
        raise SuiteError("the YAML is nested too deeply; flatten it", path=path) from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, obj


def _check_nodes(root: Any, path: Path) -> None:
    """Duplicate keys (PyYAML keeps the last one silently) and alias bombs, before construction."""
    import yaml  # PyYAML: only where YAML is read or written

    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # cycles (recursive aliases) count once
        n = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        raise SuiteError(
                            f"key {k.value!r} appears twice in this mapping (also line {seen[k.value]}); "
                            "keep one",
                            path=path,
                            line=k.start_mark.line + 1,
                        )
                    seen[k.value] = k.start_mark.line + 1
                n += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            n += sum(size(v) for v in node.value)
        if n > MAX_NODES:
            raise SuiteError(
                f"the YAML expands to more than {MAX_NODES} values (aliases?); simplify it",
                path=path,
                line=node.start_mark.line + 1,
            )
        sizes[key] = n
        return n

    size(root)


# -- pydantic errors -> one line ---------------------------------------------------------------------------
def _walk(root: Any, loc: Loc) -> tuple[Any, list[str | int]]:
    """The node `loc` points at (for a mapping entry: its key node) and the loc parts found on the way."""
    import yaml  # PyYAML: only where YAML is read or written

    node, mark_node, found = root, root, []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node, mark_node = v, k
                    found.append(part)
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = mark_node = node.value[part]
            found.append(part)
    return mark_node, found


def line_of(root: Any, loc: Loc) -> int | None:
    if root is None:
        return None
    node, _ = _walk(root, loc)
    return node.start_mark.line + 1


_KINDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a text",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
}


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model a loc points into (for listing allowed fields)."""
    model: type[BaseModel] | None = Suite
    sub: dict[str, type[BaseModel]] = {
        "models": ModelConfig,
        "tasks": Task,
        "dataset": DatasetSpec,
        "hf": HubSource,
        "judge": JudgeSpec,
        "params": ParamsSpec,
        "response_format": ResponseFormatSpec,
        "json_schema": JsonSchemaSpec,
    }
    for part in loc:
        if isinstance(part, str) and part in sub:
            model = sub[part]
        elif isinstance(part, str):
            model = None
    return model


def _message(err: ErrorDetails, loc: Loc) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "suite":
        return str(ctx.get("msg", err["msg"]))
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = [f.alias or n for n, f in model.model_fields.items()] if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else f"allowed here: {', '.join(allowed)}"
            if allowed
            else ""
        )
        return f"unknown field {str(loc[-1])!r}; " + (hint or "remove it")
    if kind == "missing":
        return f"required field {str(loc[-1])!r} is missing; add it"
    if kind == "literal_error":
        return f"{_describe(value)} is not allowed; use {ctx.get('expected')}"
    if kind == "string_type" and isinstance(value, bool):
        return f"YAML read this as the boolean {str(value).lower()}; put it in quotes (\"yes\", \"no\")"
    if kind in _KINDS:
        return f"expected {_KINDS[kind]}, got {_describe(value)}; fix the value"
    for key, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx:
            return f"must be {op} {ctx[key]} (got {_describe(value)}); fix the value"
    return f"{err['msg']} (got {_describe(value)}); fix the value"


def validation_error(exc: ValidationError, root: Any, path: Path | None) -> SuiteError:
    """The first pydantic error as a SuiteError (`and N more` when there are several)."""
    errors = exc.errors()
    # A misspelt key shows up twice (unknown + missing); "did you mean" is the more useful of the two.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc: Loc = tuple(err["loc"])
    if err["type"] == "suite":
        loc = loc + tuple((err.get("ctx") or {}).get("at", ()))
    node, found = _walk(root, loc) if root is not None else (None, list(loc))
    shown: list[str | int] = list(loc) if err["type"] == "suite" else found
    if err["type"] == "missing" and (not shown or shown[-1] != loc[-1]):
        shown.append(loc[-1])
    msg = _message(err, tuple(shown) if err["type"] == "extra_forbidden" else loc)
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    line = node.start_mark.line + 1 if node is not None else None
    return SuiteError(msg, path=path, line=line, field=format_loc(tuple(shown)) or None)


def build_suite(obj: Any, root: Any, path: Path | None) -> LoadedSuite:
    """Validate constructed YAML data into a Suite, bound to its file for error locations."""
    if not isinstance(obj, dict):
        raise SuiteError(
            f"the suite must be a mapping (name: ..., tasks: [...]), not {_describe(obj)}; "
            "see the suite format",
            path=path,
            line=1,
        )
    try:
        suite = Suite.model_validate(obj)
    except ValidationError as e:
        raise validation_error(e, root, path) from None
    except RecursionError:
        raise SuiteError("the suite is nested too deeply; flatten it", path=path) from None
    if suite.name is None and path is not None:
        suite.name = path.stem
    locate = (lambda loc: line_of(root, loc)) if root is not None else None
    loaded = LoadedSuite(suite, path=path, locate=locate, base_dir=path.parent if path is not None else None)
    loaded.read_schema_files()
    loaded.read_tools()
    return loaded


def resolve_datasets(suite: LoadedSuite, *, data: str | Path | None) -> None:
    """Choose each task's cases: `data` (see load_suite), else its file (next to the suite,
    $LLAMACOMPARE_DATA_DIR, ./), else the Hub dataset it names."""
    file_tasks = [t for t in suite.tasks if t.dataset is not None]
    source = parse_data_option(data)
    if data is not None and not file_tasks:
        raise UsageError(
            f"--data {data}: suite {suite.name!r} has only inline cases; --data applies to "
            "suites whose tasks read a dataset"
        )
    suite_dir = suite.base_dir
    for task in file_tasks:
        error = suite.task_error(task)
        if isinstance(source, str):  # "hf": each task's own Hub dataset
            suite.sources[task.id] = resolve_source(task, suite_dir=suite_dir, hub=True, error=error)
        else:
            suite.sources[task.id] = resolve_source(task, suite_dir=suite_dir, data=source, error=error)


def parse_data_option(data: str | Path | None) -> Path | HubRef | str | None:
    """`--data`: a HubRef for `hf:NAME[:CONFIG]/SPLIT`, "hf" for the tasks' own Hub datasets, else an existing
    file or folder."""
    if data is None:
        return None
    text = str(data)
    if not isinstance(data, Path) and text == "hf":
        return "hf"
    if not isinstance(data, Path) and is_hub_ref(text):
        try:
            return parse_hub_ref(text)
        except ValueError as e:
            raise UsageError(f"--data: {e}") from None
    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"--data {data}: no such file or folder; check the path (or use hf:NAME[:CONFIG]/SPLIT)")
    return path
