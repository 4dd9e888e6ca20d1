"""`checks:` in suites: on tasks, on inline cases and in a dataset's `checks` column; every kind read into its typed
model; bad definitions and missing files are one line with FILE:LINE: field, before anything runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import run_cli

from llamacompare.errors import UsageError
from llamacompare.tasks import load_suite
from llamacompare.tasks.checks import (
    Check,
    IsJsonCheck,
    JsonSchemaCheck,
    MaxWordsCheck,
    PythonCheck,
    RegexCheck,
    TextCheck,
    check_list,
    label,
)
from llamacompare.tasks.schema import Suite

SUITE = r"""
tasks:
  - id: olay
    type: generate
    template: "Soru: {q}"
    reference: cevap
    checks:
      - icontains: istanbul
      - {regex: '\d{4}', name: yil}
      - is_json
      - {is_json: strict}
      - json_schema: {type: object, required: [date]}
      - json_schema: event.schema.json
      - max_words: 40
      - equals: "2024"
      - contains: Mayıs
      - not_contains: üzgünüm
      - starts_with: "{"
      - python: my_checks.py:has_date
    cases:
      - q: "Ne zaman?"
        cevap: '{"date": "2024-05-19"}'
        checks:
          - contains: "19"
          - {icontains: SAMSUN, name: sehir}
      - {q: "Nerede?", cevap: '{"date": "1919-05-19"}'}
"""

FILES = {
    "event.schema.json": json.dumps({"type": "object", "properties": {"date": {"type": "string"}}}),
    "my_checks.py": "def has_date(answer, case, task):\n    return '19' in answer\n",
}


def case_labels(text: str) -> list[str]:
    checks: list[Check] = check_list(text)
    return [label(c, on_case=True) for c in checks]


def test_every_kind_is_read_into_its_model(write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(SUITE, FILES))
    checks = suite.tasks[0].checks or []
    assert [type(c) for c in checks] == [TextCheck, RegexCheck, IsJsonCheck, IsJsonCheck, JsonSchemaCheck,
                                         JsonSchemaCheck, MaxWordsCheck, TextCheck, TextCheck, TextCheck, TextCheck,
                                         PythonCheck]
    assert [label(c) for c in checks] == [
        "icontains:istanbul", "yil", "is_json", "is_json:strict", "json_schema", "json_schema:event.schema.json",
        "max_words:40", "equals:2024", "contains:Mayıs", "not_contains:üzgünüm", "starts_with:{",
        "python:has_date"]
    py = checks[-1]
    assert isinstance(py, PythonCheck) and (py.file, py.function) == ("my_checks.py", "has_date")


def test_case_checks_travel_with_the_case_and_survive_the_stored_suite(write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(SUITE, FILES))
    first, second = suite.cases(suite.tasks[0])
    assert case_labels(first.fields["checks"]) == ["contains", "sehir"]
    assert "checks" not in second.fields
    # a run stores `model_dump(exclude_none=True)` and reads it back: the same suite
    dumped = suite.suite.model_dump(exclude_none=True)
    again = Suite.model_validate(json.loads(json.dumps(dumped)))
    assert again.model_dump(exclude_none=True) == dumped
    assert again.tasks[0].checks == suite.tasks[0].checks
    assert suite.with_overrides(1, None).base_dir == suite.base_dir  # a limited copy still finds the check files


def test_a_jsonl_checks_column_holds_a_list_and_a_csv_one_its_text(write_suite: Callable[..., Path]) -> None:
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "q": "Başkent?", "ref": {"city": "Ankara"}, "checks": [{"icontains": "ankara"}, "is_json"]},
        {"id": "b", "q": "En büyük şehir?", "ref": {"city": "İstanbul"}},
        {"id": "c", "q": "x", "ref": {"city": "y"}, "checks": "- max_words: 3"},
    ]) + "\n"
    csv = 'id,q,checks\n1,Merhaba,"[{""starts_with"": ""Merhaba""}]"\n2,Selam,\n'
    suite = load_suite(write_suite("""
        tasks:
          - id: j
            type: generate
            template: "{q}"
            reference: ref
            checks: [{json_schema: {type: object}}]
            dataset: data.jsonl
          - id: c
            type: generate
            template: "{q}"
            dataset: data.csv
    """, {"data.jsonl": jsonl, "data.csv": csv}))
    a, b, c = suite.cases(suite.tasks[0])
    assert case_labels(a.fields["checks"]) == ["icontains", "is_json"]
    assert json.loads(a.reference or "") == {"city": "Ankara"}  # a structured reference is kept as JSON text
    assert "checks" not in b.fields and case_labels(c.fields["checks"]) == ["max_words"]
    one, two = suite.cases(suite.tasks[1])
    assert case_labels(one.fields["checks"]) == ["starts_with"] and "checks" not in two.fields


def _error(path: Path) -> str:
    with pytest.raises(UsageError) as info:
        load_suite(path)
    msg = str(info.value)
    assert "\n" not in msg and info.value.__cause__ is None and ";" in msg
    return msg


TASK = """
tasks:
  - id: t
    type: generate
    template: "{q}"
    cases: [{q: x}]
    checks:
      - contains: a
"""


@pytest.mark.parametrize(
    ("check", "line", "field", "expect"),
    [
        ("icontain: x", 9, "tasks[0].checks[1].icontain", "unknown check kind 'icontain'; did you mean 'icontains'?"),
        ("regex: '(unclosed'", 9, "tasks[0].checks[1].regex", "bad regular expression /(unclosed/: missing ), "
         "unterminated subpattern at position 0; fix the pattern"),
        ("json_schema: {type: objekt}", 9, "tasks[0].checks[1].json_schema", "invalid JSON Schema at type: 'objekt' is "
         "not valid under any of the given schemas"),
        ("json_schema: {required: date}", 9, "tasks[0].checks[1].json_schema", "invalid JSON Schema at required: "
         "'date' is not of type 'array'"),
        ("max_words: many", 9, "tasks[0].checks[1].max_words", "max_words needs a whole number >= 1 (got 'many')"),
        ("{contains: a, regex: b}", 9, "tasks[0].checks[1]", "a check has exactly one kind (keys here: 'contains', "
         "'regex')"),
        ("python: checks.py", 9, "tasks[0].checks[1].python", "python is FILE.py:FUNCTION (got 'checks.py')"),
        ("equals: yes", 9, "tasks[0].checks[1].equals", "equals needs a text (got True); put it in quotes"),
        ("python: nowhere.py:f", 9, "tasks[0].checks[1]", "cannot read the python file"),
        ("python: my_checks.py:nope", 9, "tasks[0].checks[1]", "my_checks.py has no function 'nope' (its "
         "functions: has_date); fix the name"),
        ("json_schema: missing.json", 9, "tasks[0].checks[1]", "cannot read the schema file"),
    ],
)
def test_a_bad_task_check_is_one_line_with_file_line_field(
    write_suite: Callable[..., Path], check: str, line: int, field: str, expect: str
) -> None:
    msg = _error(write_suite(TASK + f"      - {check}\n", FILES))
    assert msg.startswith(f"suite.yaml:{line}: {field}: ") or f"suite.yaml:{line}: {field}: " in msg, msg
    assert expect in msg, msg


def test_a_bad_inline_case_check_points_at_the_case(write_suite: Callable[..., Path]) -> None:
    msg = _error(write_suite("""
        tasks:
          - id: t
            type: generate
            template: "{q}"
            cases:
              - q: x
              - q: y
                checks:
                  - regex: "[a-"
    """))
    assert "suite.yaml:10: tasks[0].cases[1].checks[0].regex: bad regular expression /[a-/" in msg, msg


def test_a_bad_dataset_check_points_at_its_line(write_suite: Callable[..., Path]) -> None:
    jsonl = '{"q": "a"}\n{"q": "b", "checks": [{"contians": "x"}]}\n'
    msg = _error(write_suite("""
        tasks:
          - id: t
            type: generate
            template: "{q}"
            dataset: data.jsonl
    """, {"data.jsonl": jsonl}))
    assert "data.jsonl:2: checks[0].contians: unknown check kind 'contians'; did you mean 'contains'?" in msg, msg
    csv = 'q,checks\na,"- python: my_checks.py:gone"\n'
    msg = _error(write_suite("""
        tasks:
          - id: t
            type: generate
            template: "{q}"
            dataset: data.csv
    """, {"data.csv": csv, **FILES}))
    assert "data.csv:2: checks[0]: my_checks.py has no function 'gone'" in msg, msg


def test_two_checks_with_one_name_must_be_told_apart(write_suite: Callable[..., Path]) -> None:
    msg = _error(write_suite("""
        tasks:
          - id: t
            type: generate
            template: "{q}"
            checks: [is_json]
            cases:
              - {q: x, checks: [is_json]}
              - {q: y, checks: [{contains: a}, {contains: b}]}
    """))
    assert "tasks[0].cases[1].checks[1]: two checks are named 'contains'" in msg and "give this one a `name:`" in msg


def test_a_missing_user_function_stops_the_run_with_exit_2(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(TASK + "      - python: my_checks.py:has_dates\n", encoding="utf-8")
    (tmp_path / "my_checks.py").write_text(FILES["my_checks.py"], encoding="utf-8")
    res = run_cli("run", str(suite), "-m", "local:gemma-3-270m", "--db", str(tmp_path / "r.db"))
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stdout == ""
    assert res.stderr.strip().splitlines() == [
        f"error: {suite}:9: tasks[0].checks[1]: my_checks.py has no function 'has_dates' (its functions: "
        "has_date); fix the name"]


def test_the_readme_example_loads(write_suite: Callable[..., Path]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Checks"):]
    example = section[section.index("```yaml\n") + 8:section.index("\n```\n")]
    suite = load_suite(write_suite(example, {"my_checks.py": "def plausible(answer, case, task):\n    return True\n"}))
    assert [label(c) for c in suite.tasks[0].checks or []] == [
        "icontains:istanbul", "date", "json_schema", "max_words:60", "python:plausible"]
    (case,) = suite.cases(suite.tasks[0])
    assert case_labels(case.fields["checks"]) == ["contains"]
