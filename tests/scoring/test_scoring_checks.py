"""Each check kind on real answers: pass, fail with its reason; Turkish case folding; JSON read from answers; the
field-level score of a structured answer; a user's Python check that returns or raises."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llamacompare.scoring.checks import CheckResult, extract_json, field_score, icontains, run_check
from llamacompare.tasks.case import Case
from llamacompare.tasks.checks import load_function, parse_check, resolve
from llamacompare.tasks.schema import Task

TASK = Task.model_validate({"id": "t", "type": "generate", "template": "{q}", "cases": [{"q": "x"}]})
CASE = Case("c1", {"q": "Ne zaman?"}, '{"date": "2024-05-19"}')


def check(raw: object, answer: str, base_dir: Path | None = None) -> CheckResult:
    return run_check(resolve(parse_check(raw), base_dir), answer, CASE, TASK)


@pytest.mark.parametrize(
    ("raw", "answer", "value", "reason"),
    [
        ({"equals": "Ankara"}, "  Ankara\n", 1.0, None),
        ({"equals": "Ankara"}, "ankara", 0.0, 'answer "ankara" is not "Ankara"'),
        ({"contains": "2024"}, "Tarih: 19 Mayıs 2024.", 1.0, None),
        ({"contains": "İstanbul"}, "istanbul", 0.0, '"İstanbul" not found'),
        ({"not_contains": "Sorry"}, "Here it is.", 1.0, None),
        ({"not_contains": "Sorry"}, "Sorry, I cannot.", 0.0, 'contains "Sorry"'),
        ({"starts_with": "Yes"}, "\n Yes, it is.", 1.0, None),
        ({"starts_with": "Yes"}, "No. Yes.", 0.0, 'does not start with "Yes"'),
        ({"regex": r"\d{4}"}, "in 1923", 1.0, None),
        ({"regex": r"\d{4}"}, "in the twenties", 0.0, r"regex /\d{4}/ not found"),
        ({"max_words": 3}, "one two three", 1.0, None),
        ({"max_words": 3}, "one two three four", 0.0, "4 words, more than 3"),
        ("is_json", '```json\n{"a": 1}\n```', 1.0, None),
        ("is_json", "no json here", 0.0, "no JSON found (neither a ```json block nor a {...} object)"),
        ({"is_json": "strict"}, '[1, 2]', 1.0, None),
        ({"is_json": "strict"}, 'Sure: {"a": 1}', 0.0,
         "the answer is not JSON (Expecting value); JSON was found in a {...} object in the text"),
    ],
)
def test_each_kind_passes_and_fails_with_its_reason(raw: object, answer: str, value: float, reason: str | None) -> None:
    assert check(raw, answer) == CheckResult(value, reason)


@pytest.mark.parametrize(
    ("haystack", "needle", "found"),
    [
        ("İstanbul'a gittim", "istanbul", True),  # İ is the capital of i
        ("ISTANBUL", "istanbul", True),  # a plain I may stand for i (English, or Turkish written without dots)
        ("ISPARTA", "ısparta", True),  # ... or for ı
        ("Kırmızı", "KIRMIZI", True),
        ("IMPORTANT notice", "important", True),
        ("ısparta", "isparta", False),  # ı and i are different letters
        ("İSPARTA", "ısparta", False),  # İ is only i
        ("ŞEHİR", "şehir", True),
        ("Ğ Ü Ö Ç", "ğ ü ö ç", True),
        ("İzmir", "IZMIR", True),
        ("straße", "STRASSE", False),  # no length-changing folds: lower() only
    ],
)
def test_icontains_folds_turkish(haystack: str, needle: str, found: bool) -> None:
    assert icontains(haystack, needle) is found
    assert check({"icontains": needle}, haystack) == CheckResult(
        1.0 if found else 0.0, None if found else f'"{needle}" not found (any case)')


def test_icontains_handles_decomposed_dotted_capital_i() -> None:
    assert icontains("I\u0307stanbul", "istanbul")  # İ typed as I + combining dot (NFD) is İ


SCHEMA = {"type": "object", "required": ["date", "city"],
          "properties": {"date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, "n": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("answer", "value", "reason"),
    [
        ('{"date": "2024-05-19", "city": "Samsun"}', 1.0, None),
        ('Here you go:\n```json\n{"date": "2024-05-19", "city": "Samsun"}\n```\nAnything else?', 1.0, None),
        ('The event: {"date": "2024-05-19", "city": "Samsun"} as asked.', 1.0, None),
        ('{"city": "Samsun"}', 0.0, "missing field 'date'"),
        ('{"date": "19 May", "city": "Samsun"}', 0.0,
         "field 'date': '19 May' does not match '^\\\\d{4}-\\\\d{2}-\\\\d{2}$'"),
        ('{"date": "2024-05-19", "city": "Samsun", "n": "x"}', 0.0, "field 'n': 'x' is not of type 'integer'"),
        ("19 Mayıs 1919", 0.0, "no JSON found (neither a ```json block nor a {...} object)"),
        ('```json\n{"date": 2024-05-19}\n```', 0.0, "the ```json block is not valid JSON (Expecting ',' delimiter)"),
    ],
)
def test_json_schema_reads_json_from_the_answer(answer: str, value: float, reason: str | None) -> None:
    assert check({"json_schema": SCHEMA}, answer) == CheckResult(value, reason)


def test_json_schema_from_a_file_relative_to_the_suite(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "event.yaml").write_text("type: object\nrequired: [date]\n", encoding="utf-8")
    assert check({"json_schema": "schemas/event.yaml"}, '{"date": "x"}', tmp_path) == CheckResult(1.0)
    assert check({"json_schema": "schemas/event.yaml"}, "{}", tmp_path) == CheckResult(0.0, "missing field 'date'")
    # a stored run's suite has no folder: the file is not read, and the result says why
    missing = check({"json_schema": "schemas/event.yaml"}, "{}", None)
    assert missing.value is None and missing.reason is not None and "rescore --suite" in missing.reason


def test_extract_json_prefers_the_whole_answer_then_a_block_then_an_object() -> None:
    assert extract_json(' {"a": 1} ').where == "the answer"
    assert extract_json('x\n```\n{"a": 2}\n```').value == {"a": 2}
    assert extract_json('```python\nprint({"a": 3})\n```').where == "a {...} object in the text"
    assert extract_json("{not json} then {\"b\": 4}").value == {"b": 4}
    assert extract_json("   ").problem == "the answer is empty"


def test_field_score_is_the_share_of_reference_fields_with_equal_values() -> None:
    ref = '{"date": "2024-05-19", "city": "Samsun", "place": {"lat": 41.3, "open": true}}'
    assert field_score('{"date": "2024-05-19", "city": "Samsun", "place": {"lat": 41.30, "open": true}}', ref) \
        == CheckResult(1.0)
    got = field_score('```json\n{"date": "2024-05-19", "city": "Ankara", "place": {"open": 1}}\n```', ref)
    assert got == CheckResult(0.25, '1/4 fields match; missing place.lat; city: "Ankara" ≠ "Samsun" (+1 more differ)')
    assert field_score("no JSON", ref) == CheckResult(0.0, "no JSON found (neither a ```json block nor a {...} object)")
    assert field_score('{"a": 1}', "plain text reference") is None
    assert field_score('{"a": 1}', None) is None


def _user_checks(tmp_path: Path) -> Path:
    path = tmp_path / "my_checks.py"
    path.write_text(textwrap.dedent('''
        import re

        def has_date(answer, case, task):
            if not re.search(r"\\d{4}", answer):
                raise ValueError(f"no year in the answer to {case.fields['q']!r} ({task.id})")
            return True

        def half(answer, case, task):
            return 0.5

        def falsy(answer, case, task):
            return False

        def odd(answer, case, task):
            return "yes"
    '''), encoding="utf-8")
    return path


def test_a_user_python_check_returns_or_raises_with_its_reason(tmp_path: Path) -> None:
    _user_checks(tmp_path)
    assert check({"python": "my_checks.py:has_date"}, "19 Mayıs 1919", tmp_path) == CheckResult(1.0)
    assert check({"python": "my_checks.py:has_date"}, "bilmiyorum", tmp_path) == CheckResult(
        0.0, "ValueError: no year in the answer to 'Ne zaman?' (t)")
    assert check({"python": "my_checks.py:half"}, "x", tmp_path) == CheckResult(0.5, "score 0.5")
    assert check({"python": "my_checks.py:falsy"}, "x", tmp_path) == CheckResult(0.0, "returned False")
    assert check({"python": "my_checks.py:odd"}, "x", tmp_path) == CheckResult(
        0.0, "returned \"'yes'\", not a bool or a score in [0, 1]")


def test_a_user_function_is_imported_only_with_the_suite_folder(tmp_path: Path) -> None:
    _user_checks(tmp_path)
    missing = check({"python": "my_checks.py:has_date"}, "1919", None)
    assert missing.value is None and missing.reason is not None and "user code" in missing.reason


def test_a_missing_function_names_what_the_file_has(tmp_path: Path) -> None:
    from llamacompare.tasks.checks import CheckDefinitionError

    path = _user_checks(tmp_path)
    with pytest.raises(CheckDefinitionError, match=r"my_checks.py has no function 'nope' \(its functions: has_date, "
                       r"half, falsy, odd\); fix the name"):
        load_function(path, "nope")
    with pytest.raises(CheckDefinitionError, match="cannot read the python file .*gone.py"):
        load_function(tmp_path / "gone.py", "f")
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    with pytest.raises(CheckDefinitionError, match=r"importing broken.py failed \(SyntaxError: "):
        load_function(tmp_path / "broken.py", "f")
