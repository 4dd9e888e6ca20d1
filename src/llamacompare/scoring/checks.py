"""Checks on one answer (pure, the user's own `python:` function aside): each gives a score in [0, 1] (1 = passed)
and, when it fails, the reason shown in the report. Also JSON read from answers, and the field-level score of a
structured answer against its reference.

Case-insensitive matching (`icontains`) follows Turkish and English at once: `İ` is the capital of `i` and `ı`
the small of `I`, so the dots count ("İstanbul" contains "istanbul"; "ısparta" and "isparta" differ), while a
plain capital `I` may stand for either small letter (English "IMPORTANT" contains "important", Turkish "ISPARTA"
contains "ısparta").
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from llamacompare.tasks.case import Case
from llamacompare.tasks.checks import (
    IsJsonCheck,
    JsonSchemaCheck,
    MaxWordsCheck,
    PythonCheck,
    RegexCheck,
    Resolved,
    TextCheck,
)
from llamacompare.tasks.schema import Task

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n(.*?)```", re.DOTALL)
_MAX_OBJECT_TRIES = 50  # '{' positions tried when looking for an object inside prose
_SHOWN = 60


@dataclass(frozen=True, slots=True)
class CheckResult:
    """value: 1.0 passed, 0.0 failed, in between for a user's score; None when the check could not run."""

    value: float | None
    reason: str | None = None

    @property
    def passed(self) -> bool:
        return self.value == 1.0


def run_check(resolved: Resolved, answer: str, case: Case, task: Task) -> CheckResult:
    """One check on one answer."""
    check = resolved.check
    if resolved.missing is not None:
        return CheckResult(None, resolved.missing)
    if isinstance(check, TextCheck):
        return _text(check.kind, check.value, answer)
    if isinstance(check, RegexCheck):
        if re.search(check.value, answer):
            return CheckResult(1.0)
        return CheckResult(0.0, f"regex /{check.value}/ not found")
    if isinstance(check, MaxWordsCheck):
        n = len(answer.split())
        return CheckResult(1.0) if n <= check.value else CheckResult(0.0, f"{n} words, more than {check.value}")
    if isinstance(check, IsJsonCheck):
        return _is_json(answer, strict=check.value == "strict")
    if isinstance(check, JsonSchemaCheck):
        assert resolved.schema is not None
        return _json_schema(answer, resolved.schema)
    if isinstance(check, PythonCheck):
        assert resolved.function is not None
        return _python(resolved, answer, case, task)
    raise AssertionError(f"unknown check {check!r}")


# -- text ---------------------------------------------------------------------------------------------------------
def fold_tr(text: str) -> str:
    """Lower case that keeps Turkish dots: İ -> i, ı stays ı, and a plain capital I stays I (it may be either)."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch == "İ":
            out.append("i")
        elif ch == "I" or ch == "ı":
            out.append(ch)
        else:
            out.append(ch.lower())
    return "".join(out)


_I_CLASSES = {"i": "[iI]", "ı": "[ıI]", "I": "[iıI]"}


def icontains(haystack: str, needle: str) -> bool:
    """Case-insensitive `needle in haystack` under the rule of this module's docstring."""
    pattern = "".join(_I_CLASSES.get(ch) or re.escape(ch) for ch in fold_tr(needle))
    return re.search(pattern, fold_tr(haystack)) is not None


def _text(kind: str, value: str, answer: str) -> CheckResult:
    shown = _quote(value)
    if kind == "equals":
        got = unicodedata.normalize("NFC", answer.strip())
        if got == unicodedata.normalize("NFC", value.strip()):
            return CheckResult(1.0)
        return CheckResult(0.0, f"answer {_quote(got)} is not {shown}")
    if kind == "starts_with":
        if unicodedata.normalize("NFC", answer.lstrip()).startswith(unicodedata.normalize("NFC", value)):
            return CheckResult(1.0)
        return CheckResult(0.0, f"does not start with {shown}")
    if kind == "icontains":
        return CheckResult(1.0) if icontains(answer, value) else CheckResult(0.0, f"{shown} not found (any case)")
    found = unicodedata.normalize("NFC", value) in unicodedata.normalize("NFC", answer)
    if kind == "contains":
        return CheckResult(1.0) if found else CheckResult(0.0, f"{shown} not found")
    assert kind == "not_contains"
    return CheckResult(0.0, f"contains {shown}") if found else CheckResult(1.0)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return json.dumps(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…", ensure_ascii=False)


# -- JSON ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FoundJson:
    """JSON read from an answer: `value` (None with `problem` when none could be read) and where it was."""

    value: Any = None
    where: str | None = None  # "the answer" | "a ```json block" | "a {...} object in the text"
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.where is not None


def extract_json(text: str) -> FoundJson:
    """The answer itself if it is JSON; else the first fenced code block (```json or plain ```) that is; else the
    first {...} object in the text."""
    stripped = text.strip()
    if not stripped:
        return FoundJson(problem="the answer is empty")
    try:
        return FoundJson(json.loads(stripped), "the answer")
    except ValueError:
        pass
    bad_block = None
    for m in _FENCE_RE.finditer(text):
        lang = m[1].lower()
        if lang not in ("", "json", "jsonc", "json5"):
            continue
        try:
            return FoundJson(json.loads(m[2]), f"a ```{lang} block")
        except ValueError as e:
            bad_block = bad_block or f"the ```{lang} block is not valid JSON ({_json_error(e)})"
    decoder = json.JSONDecoder()
    start, tries = text.find("{"), 0
    while start != -1 and tries < _MAX_OBJECT_TRIES:
        try:
            value, _ = decoder.raw_decode(text, start)
            return FoundJson(value, "a {...} object in the text")
        except ValueError:
            start, tries = text.find("{", start + 1), tries + 1
    return FoundJson(problem=bad_block or "no JSON found (neither a ```json block nor a {...} object)")


def _json_error(e: ValueError) -> str:
    return e.msg if isinstance(e, json.JSONDecodeError) else str(e)


def _is_json(answer: str, *, strict: bool) -> CheckResult:
    if strict:
        try:
            json.loads(answer)
            return CheckResult(1.0)
        except ValueError as e:
            found = extract_json(answer)
            inside = f"; JSON was found in {found.where}" if found.found else ""
            return CheckResult(0.0, f"the answer is not JSON ({_json_error(e)}){inside}")
    found = extract_json(answer)
    return CheckResult(1.0) if found.found else CheckResult(0.0, found.problem)


def _json_schema(answer: str, schema: dict[str, Any]) -> CheckResult:
    import jsonschema  # jsonschema (about 0.1 s): only where a schema is checked

    found = extract_json(answer)
    if not found.found:
        return CheckResult(0.0, found.problem)
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(found.value))
    if error is None:
        return CheckResult(1.0)
    return CheckResult(0.0, schema_reason(error))


def schema_reason(error: Any) -> str:
    """A jsonschema ValidationError as a short reason: "missing field 'date'", "field 'n': 'x' is not of type
    'integer'"."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.validator_value, list):
        have = error.instance if isinstance(error.instance, dict) else {}
        missing = [f for f in error.validator_value if f not in have]
        if missing:
            field = f"{path}.{missing[0]}" if path else missing[0]
            return f"missing field {field!r}"
    message = error.message if len(error.message) <= 2 * _SHOWN else error.message[: 2 * _SHOWN - 1] + "…"
    return f"field {path!r}: {message}" if path else message


def field_score(answer: str, reference: str | None) -> CheckResult | None:
    """The share of the reference object's fields (leaves, nested ones as a.b) that the answer's JSON has with the
    same value. None when the reference is not a JSON object (nothing to compare with)."""
    if reference is None:
        return None
    ref = extract_json(reference)
    if not ref.found or not isinstance(ref.value, dict) or not ref.value:
        return None
    want = _leaves(ref.value)
    found = extract_json(answer)
    if not found.found:
        return CheckResult(0.0, found.problem)
    have = _leaves(found.value) if isinstance(found.value, dict) else {}
    missing = [k for k in want if k not in have]
    differ = [k for k in want if k in have and not _same(have[k], want[k])]
    matched = len(want) - len(missing) - len(differ)
    if matched == len(want):
        return CheckResult(1.0)
    parts = [f"{matched}/{len(want)} fields match"]
    if missing:
        parts.append("missing " + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    if differ:
        k = differ[0]
        parts.append(f"{k}: {_json_short(have[k])} ≠ {_json_short(want[k])}"
                     + (f" (+{len(differ) - 1} more differ)" if len(differ) > 1 else ""))
    return CheckResult(matched / len(want), "; ".join(parts))


def _json_short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _leaves(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_leaves(v, key + "."))
        else:
            out[key] = v
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values: texts compared after trimming and Unicode normalisation, 1 equal to 1.0, true not 1."""
    if isinstance(a, str) and isinstance(b, str):
        return unicodedata.normalize("NFC", a.strip()) == unicodedata.normalize("NFC", b.strip())
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


# -- the user's function ------------------------------------------------------------------------------------------
def _python(resolved: Resolved, answer: str, case: Case, task: Task) -> CheckResult:
    assert resolved.function is not None
    try:
        got = resolved.function(answer, case, task)
    except Exception as e:  # noqa: BLE001 - the user's reason for a failure
        text = str(e).strip()
        return CheckResult(0.0, f"{type(e).__name__}: {text}" if text else type(e).__name__)
    if isinstance(got, bool):
        return CheckResult(1.0 if got else 0.0, None if got else "returned False")
    if isinstance(got, int | float) and 0.0 <= float(got) <= 1.0:
        value = float(got)
        return CheckResult(value, None if value == 1.0 else f"score {value:g}")
    return CheckResult(0.0, f"returned {_quote(repr(got))}, not a bool or a score in [0, 1]")
