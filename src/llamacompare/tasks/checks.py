"""The `checks:` of a suite: what each check kind may say (one pydantic model per kind, a union on `kind`), and
the files some of them name (a JSON Schema file, a user's Python function), found relative to the suite.

In YAML a check is one key, its kind, with its value, and optionally a `name` for its metric:

    checks:
      - icontains: istanbul
      - regex: '\\d{4}'
      - {max_words: 20, name: short}

It is stored in the canonical form `{kind: icontains, value: istanbul}`, which is accepted too. Checks on a case
(inline `cases:` entries, or a `checks` column of a dataset file) add to the task's.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from llamacompare.errors import describe_value as _describe

TEXT_KINDS = ("equals", "contains", "icontains", "not_contains", "starts_with")
KINDS = (*TEXT_KINDS, "regex", "is_json", "json_schema", "max_words", "python")
_PYTHON_RE = re.compile(r"(?P<file>.+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)")
_SHOWN = 24  # characters of a check's value in its default metric name


class CheckDefinitionError(ValueError):
    """A check that cannot work as written; `at` is the sub-field (e.g. ('regex',)) the message is about."""

    def __init__(self, message: str, at: tuple[str | int, ...] = ()):
        super().__init__(message)
        self.message = message
        self.at = at


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None  # the metric's name; default: see `label`

    def default_label(self) -> str:
        return str(getattr(self, "kind", "check"))


class TextCheck(_Check):
    """equals / contains / icontains / not_contains / starts_with a text."""

    kind: Literal["equals", "contains", "icontains", "not_contains", "starts_with"]
    value: str

    def default_label(self) -> str:
        return f"{self.kind}:{_short(self.value)}"


class RegexCheck(_Check):
    kind: Literal["regex"]
    value: str

    def default_label(self) -> str:
        return f"regex:{_short(self.value)}"


class IsJsonCheck(_Check):
    """`true`: JSON can be read from the answer (see scoring.checks.extract_json); `strict`: the whole answer is."""

    kind: Literal["is_json"]
    value: Literal[True, "strict"] = True

    def default_label(self) -> str:
        return "is_json" if self.value is True else "is_json:strict"


class JsonSchemaCheck(_Check):
    """A JSON Schema, inline or a .json/.yaml file relative to the suite."""

    kind: Literal["json_schema"]
    value: dict[str, Any] | str

    def default_label(self) -> str:
        return "json_schema" if isinstance(self.value, dict) else f"json_schema:{Path(self.value).name}"


class MaxWordsCheck(_Check):
    kind: Literal["max_words"]
    value: StrictInt = Field(ge=1)

    def default_label(self) -> str:
        return f"max_words:{self.value}"


class PythonCheck(_Check):
    """`FILE.py:FUNCTION`, FILE relative to the suite: FUNCTION(answer, case, task) returns a bool or a score in
    [0, 1], or raises with the reason."""

    kind: Literal["python"]
    value: str

    @property
    def file(self) -> str:
        m = _PYTHON_RE.fullmatch(self.value)
        assert m is not None  # checked by parse_check
        return m["file"]

    @property
    def function(self) -> str:
        m = _PYTHON_RE.fullmatch(self.value)
        assert m is not None
        return m["function"]

    def default_label(self) -> str:
        return f"python:{self.function}"


Check = Annotated[
    TextCheck | RegexCheck | IsJsonCheck | JsonSchemaCheck | MaxWordsCheck | PythonCheck, Field(discriminator="kind")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Check)


def label(check: Check, *, on_case: bool = False) -> str:
    """The check's metric name, without the `check:` prefix the scores carry: its `name`, else for a task's check its
    kind and value (`icontains:istanbul`), for a case's its kind alone, so that the same kind of check on each case
    (`contains:` each its own date) is one metric."""
    return check.name or (str(check.kind) if on_case else check.default_label())


def metric_name(check: Check, *, on_case: bool = False) -> str:
    return "check:" + label(check, on_case=on_case)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# -- reading a check ----------------------------------------------------------------------------------------------
def parse_check(raw: Any) -> Check:
    """A check from its YAML/JSON form (`{regex: X}`, `{regex: X, name: N}`, `is_json`, or `{kind: regex, value:
    X}`). Raises CheckDefinitionError, whose `at` names the offending key."""
    if isinstance(raw, BaseModel):
        checked: Check = _ADAPTER.validate_python(raw)
        return checked
    if isinstance(raw, str) and raw in KINDS:
        raw = {raw: True}
    if not isinstance(raw, dict):
        raise CheckDefinitionError(
            f"a check is a mapping like `contains: TEXT` (kinds: {', '.join(KINDS)}); got {_describe(raw)}"
        )
    data = {str(k): v for k, v in raw.items()}
    if "kind" in data:
        kind = data.get("kind")
        if kind not in KINDS:
            raise CheckDefinitionError(_unknown_kind(str(kind)), ("kind",))
        body = {k: v for k, v in data.items() if k not in ("kind", "value", "name")}
        if body:
            raise CheckDefinitionError(f"unknown key {next(iter(body))!r}; a check has kind, value and name")
        value, name = data.get("value", True), data.get("name")
    else:
        name = data.pop("name", None)
        if len(data) != 1:
            keys = ", ".join(repr(k) for k in data) or "none"
            raise CheckDefinitionError(
                f"a check has exactly one kind (keys here: {keys}); write one check per list item, "
                f"like `- contains: TEXT` (kinds: {', '.join(KINDS)})"
            )
        kind, value = next(iter(data.items()))
        if kind not in KINDS:
            raise CheckDefinitionError(_unknown_kind(kind), (kind,))
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise CheckDefinitionError("the check's name must be a non-empty text; give a name or remove it", ("name",))
    value = _check_value(str(kind), value)
    try:
        check: Check = _ADAPTER.validate_python({"kind": kind, "value": value, "name": name})
    except ValidationError as e:
        err = e.errors()[0]
        raise CheckDefinitionError(f"{err['msg']} (got {_describe(value)}); fix the value", (str(kind),)) from None
    return check


def _unknown_kind(kind: str) -> str:
    close = difflib.get_close_matches(kind, KINDS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(KINDS)}"
    return f"unknown check kind {kind!r}; {hint}"


def _check_value(kind: str, value: Any) -> Any:
    at = (kind,)
    if kind in TEXT_KINDS or kind == "regex":
        if isinstance(value, bool) or value is None:
            raise CheckDefinitionError(f"{kind} needs a text (got {_describe(value)}); put it in quotes", at)
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise CheckDefinitionError(f"{kind} needs a non-empty text (got {_describe(value)}); fix the value", at)
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as e:
                raise CheckDefinitionError(f"bad regular expression /{value}/: {e}; fix the pattern", at) from None
    elif kind == "is_json":
        if value not in (True, "strict"):
            raise CheckDefinitionError(f"is_json is `true` or `strict` (got {_describe(value)}); fix the value", at)
    elif kind == "max_words":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckDefinitionError(
                f"max_words needs a whole number >= 1 (got {_describe(value)}); fix the value", at
            )
    elif kind == "json_schema":
        if isinstance(value, dict):
            schema_problem(value, at)
        elif not isinstance(value, str) or not value.strip():
            raise CheckDefinitionError(
                f"json_schema is a JSON Schema (a mapping) or the path of a .json/.yaml file (got {_describe(value)}); "
                "fix the value",
                at,
            )
    elif kind == "python" and (not isinstance(value, str) or not _PYTHON_RE.fullmatch(value)):
        raise CheckDefinitionError(
            f"python is FILE.py:FUNCTION (got {_describe(value)}); e.g. `python: checks.py:has_date`", at
        )
    return value


def schema_problem(schema: dict[str, Any], at: tuple[str | int, ...]) -> None:
    """Raise CheckDefinitionError when `schema` is not a valid JSON Schema (under the draft it declares)."""
    import jsonschema  # jsonschema (about 0.1 s): only where a schema is checked

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        raise CheckDefinitionError(
            f"invalid JSON Schema{f' at {where}' if where else ''}: {e.message}; fix the schema", at
        ) from None


def check_list(raw: Any) -> list[Check]:
    """A case's checks: a list (YAML/JSON), or its text in a CSV/TSV cell or a canonical stored form (JSON or
    YAML). CheckDefinitionError.at starts with the item's index."""
    if isinstance(raw, str):
        import yaml  # PyYAML: only where YAML is read or written

        try:
            raw = yaml.safe_load(raw)  # YAML reads JSON too
        except yaml.YAMLError as e:
            raise CheckDefinitionError(
                f"the checks are neither JSON nor YAML ({_yaml_problem(e)}); write a list like [{{contains: TEXT}}]"
            ) from None
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise CheckDefinitionError(f"checks are a list like [{{contains: TEXT}}], not {_describe(raw)}; fix the value")
    out: list[Check] = []
    for i, item in enumerate(raw):
        try:
            out.append(parse_check(item))
        except CheckDefinitionError as e:
            raise CheckDefinitionError(e.message, (i, *e.at)) from None
    return out


def _yaml_problem(e: Exception) -> str:
    return " ".join(str(e).split())[:120]


def dump_checks(checks: list[Check]) -> str:
    """The canonical text of a case's checks (what a case's `checks` field holds once read)."""
    return json.dumps([c.model_dump(exclude_none=True) for c in checks], ensure_ascii=False, sort_keys=True)


def suite_error_for(e: CheckDefinitionError, at: tuple[str | int, ...]) -> PydanticCustomError:
    """For pydantic validators: the error, located at `at` + the key it is about."""
    return PydanticCustomError("suite", "{msg}", {"msg": e.message, "at": (*at, *e.at)})


def _validated(raw: Any) -> Any:
    try:
        return parse_check(raw)
    except CheckDefinitionError as e:
        raise suite_error_for(e, ()) from None


TaskCheck = Annotated[Check, BeforeValidator(_validated)]


# -- files a check names ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Resolved:
    """A check with what it needs at scoring time: the schema (inline or read from its file), the user's
    function. `missing` says why a file-based check cannot run (e.g. the run's suite file is not at hand)."""

    check: Check
    schema: dict[str, Any] | None = None
    function: Callable[..., Any] | None = None
    missing: str | None = None
    on_case: bool = False

    @property
    def metric(self) -> str:
        return metric_name(self.check, on_case=self.on_case)


def resolve(check: Check, base_dir: Path | None, *, on_case: bool = False) -> Resolved:
    """Read the files a check names, relative to `base_dir` (the suite's folder). `base_dir=None`: the suite file
    is not at hand (a stored run's suite), so file-based checks are not run and say so; user code is imported
    only for a suite the user loaded. Raises CheckDefinitionError for a missing or bad file or function."""
    if isinstance(check, JsonSchemaCheck):
        if isinstance(check.value, dict):
            return Resolved(check, schema=check.value, on_case=on_case)
        if base_dir is None:
            return Resolved(check, missing="not run: the schema file is read with the suite file (rescore --suite)",
                            on_case=on_case)
        return Resolved(check, schema=load_schema(base_dir / check.value), on_case=on_case)
    if isinstance(check, PythonCheck):
        if base_dir is None:
            return Resolved(check, missing="not run: user code runs only with the suite file (rescore --suite)",
                            on_case=on_case)
        return Resolved(check, function=load_function(base_dir / check.file, check.function), on_case=on_case)
    return Resolved(check, on_case=on_case)


_SCHEMAS: dict[tuple[str, int], dict[str, Any]] = {}
_MODULES: dict[tuple[str, int], Any] = {}


def _stamp(path: Path, what: str) -> tuple[str, int]:
    try:
        return str(path.resolve()), path.stat().st_mtime_ns
    except OSError as e:
        raise CheckDefinitionError(
            f"cannot read {what} {path} ({e.strerror}); the path is relative to the suite"
        ) from None


def load_schema(path: Path) -> dict[str, Any]:
    """A JSON Schema file (.json, or .yaml/.yml), checked; read once per version of the file."""
    key = _stamp(path, "the schema file")
    if key not in _SCHEMAS:
        import yaml  # PyYAML: only where YAML is read or written

        try:
            text = path.read_text(encoding="utf-8")
            schema = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as e:
            raise CheckDefinitionError(
                f"cannot read the schema file {path.name} ({_yaml_problem(e)}); fix the file"
            ) from None
        if not isinstance(schema, dict):
            raise CheckDefinitionError(
                f"the schema file {path.name} holds {_describe(schema)}; write a JSON Schema object"
            )
        schema_problem(schema, ())
        _SCHEMAS[key] = schema
    return _SCHEMAS[key]


def load_function(path: Path, name: str) -> Callable[..., Any]:
    """Import the user's file (once per version of it) and return its function `name`. This runs the user's code,
    which is the point of a python check."""
    key = _stamp(path, "the python file")
    module = _MODULES.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"llamacompare_user_checks_{len(_MODULES)}", path)
        if spec is None or spec.loader is None:
            raise CheckDefinitionError(f"cannot import {path.name}; give a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))  # the user's file may import its neighbours
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - any error in the user's file is reported as theirs
            raise CheckDefinitionError(
                f"importing {path.name} failed ({type(e).__name__}: {e}); fix the file"
            ) from None
        finally:
            sys.path.remove(str(path.parent))
        _MODULES[key] = module
    fn = getattr(module, name, None)
    if not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        have = ", ".join(names) or "none"
        raise CheckDefinitionError(f"{path.name} has no function {name!r} (its functions: {have}); fix the name")
    return fn
